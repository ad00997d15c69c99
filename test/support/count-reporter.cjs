// Mocha reporter: mocha's own "spec" output, then one closing line "N passed, N failed" that CI reads.
// (Mocha's built-in reporters never print that exact line; KUBE-API-NOTES.md.)
//
// Mocha runs with `exit: false`, so a test that leaves a socket, timer or child process behind keeps the
// process alive after the last test: in CI that is a silent hang until the job's time limit. The exit guard
// turns it into one more failure that names what is still open, then ends the process.
//
// When nothing is left open, the process ends with an explicit exit at 'beforeExit' (the event loop has emptied)
// rather than by itself: left to end by itself, Node 20 sometimes spins at 100 % CPU in its exit-time handle
// cleanup after all work is over (nodejs/node#47748; seen here on a meshdrill run), where no timer of ours runs.
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

/** How long the process may take to exit on its own after the last test. */
const EXIT_GRACE_MS = Number(process.env.MESHDRILL_TEST_EXIT_GRACE_MS ?? 60_000);

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    const summary = (failures) =>
      `${passed} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    // Spec prints its epilogue on 'end'; ours must come after it, so it is registered last.
    runner.once(EVENT_RUN_END, () => {
      process.stdout.write(summary(failed));
      // Mocha's own exit listener then sets the exit code from the failures, as on a natural exit.
      process.once('beforeExit', () => process.exit());
      // unref: the guard itself never keeps the process alive; it fires only if something else does.
      setTimeout(() => {
        process.stderr.write(
          `\nexit guard: the test process is still running ${EXIT_GRACE_MS / 1000} s after the last test; ` +
            `something a test started was not stopped.\n${describeOpenResources()}\n`,
        );
        stopChildren();
        process.stdout.write(summary(failed + 1));
        // Mocha's own exit listener sets the exit code to the failure count; this one runs after it.
        process.on('exit', () => {
          process.exitCode = 1;
        });
        process.exit(1);
      }, EXIT_GRACE_MS).unref();
    });
  }
}

/** What keeps the event loop alive: Node's resource names, and child processes by PID with their command. */
function describeOpenResources() {
  const resources = process
    .getActiveResourcesInfo()
    .reduce((counts, name) => counts.set(name, (counts.get(name) ?? 0) + 1), new Map());
  const lines = [...resources].map(([name, count]) => `  ${name} × ${count}`);
  for (const child of childProcesses(process.pid)) lines.push(`  child process ${child.pid}: ${child.cmd}`);
  return `still open:\n${lines.join('\n')}`;
}

/** Stops what a test left running, by PID (never by name), so a failed run leaves no orphans behind. */
function stopChildren() {
  for (const child of childProcesses(process.pid)) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Direct children of `pid`, from /proc (Linux); empty elsewhere. */
function childProcesses(pid) {
  const children = [];
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return children;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      children.push({ pid: Number(entry), cmd: cmd.slice(0, 160) });
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

module.exports = CountReporter;
