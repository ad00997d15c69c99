# The one entry point. `make setup` once on a fresh machine (it ends with `make build`); `make test` is what CI runs.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
TEST_SPECS := 'test/**/*.test.ts' 'harness/**/*.test.ts' 'clusters/**/*.test.ts' 'reports/**/*.test.ts'

.PHONY: setup build lint typecheck test test-unit bench demo schema clean help

help:
	@echo "make setup      install npm packages and the Debian packages (prometheus, prometheus-alertmanager, wrk, chromium), then make build"
	@echo "make demo       run the scenario pack on the embedded local target; report in runs/demo/index.html"
	@echo "make test       typecheck, lint (incl. import rules), then every test; last line 'N passed, N failed'"
	@echo "make bench      benchmarks; print figures (ONLY=mesh,report to pick some)"
	@echo "make build      compile to dist/ with the emulation's programs bundled; bin/meshdrill.js runs it while no source is newer"
	@echo "make schema     regenerate schema/scenario.schema.json from the scenario types"
	@echo "make clean      remove dist/, runs/ and caches"

setup:
	./scripts/setup-system.sh
	# npm install, not npm ci: the registry here lacks some optional platform packages of biome (e.g.
	# @biomejs/cli-darwin-arm64), so the lock cannot list them and `npm ci` refuses; install keeps the lock.
	npm install --no-audit --no-fund
	# Built once here, so the CLI starts from JavaScript and no bundler runs while drills are measured.
	$(MAKE) build

build:
	# dist/: the CLI compiled, CRDs beside it, the programs and worker threads bundled, a stamp (scripts/build.ts).
	$(NODE_BIN)/tsx scripts/build.ts

typecheck:
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit

lint:
	$(NODE_BIN)/biome check .
	$(NODE_BIN)/depcruise --config .dependency-cruiser.cjs harness clusters reports

test: typecheck lint
	$(NODE_BIN)/mocha $(TEST_SPECS)

test-unit:
	$(NODE_BIN)/mocha $(TEST_SPECS)

bench:
	@$(NODE_BIN)/tsx bench/run.ts $(ONLY)

demo:
	./bin/meshdrill.js run scenarios/ --target local --parallel auto --out runs/demo

schema:
	$(NODE_BIN)/tsx scripts/generate-schema.ts

clean:
	rm -rf dist runs .meshdrill
