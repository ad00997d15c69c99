// The table of broken scenarios and runbooks (test/fixtures/scenarios/invalid): each file with the exact
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${scaled:…} is the literal syntax under test.
// problems it must produce, positions included. Regenerate a row by running the loader and checking the output.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { formatProblem, loadScenarios, validateScenarioText } from '../../harness/scenario/index.js';

const F = fileURLToPath(new URL('../fixtures', import.meta.url));
const DIR = `${F}/scenarios/invalid`;

const TABLE: [string, string[]][] = [
  [
    '01-yaml-syntax.yaml',
    [
      'scenarios/invalid/01-yaml-syntax.yaml:11:3 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ],
  [
    '02-duplicate-key.yaml',
    ['scenarios/invalid/02-duplicate-key.yaml:12:3 invalid YAML: Map keys must be unique'],
  ],
  [
    '03-within-number.yaml',
    [
      'scenarios/invalid/03-within-number.yaml:21:15 detect[0].within: expected a duration like "60s", got 60 (number)',
    ],
  ],
  [
    '04-unknown-field.yaml',
    [
      'scenarios/invalid/04-unknown-field.yaml:21:7 detect[0].withn: unknown field "withn" (did you mean "within"?); valid fields: name, within, poll, informational, kind, query',
    ],
  ],
  [
    '05-fault-kind.yaml',
    [
      'scenarios/invalid/05-fault-kind.yaml:13:11 fault.kind: expected kind to be one of "chaos-mesh", "istio", "kubernetes", "certificate-expiry", got "litmus" (string)',
    ],
  ],
  [
    '06-condition-kind.yaml',
    [
      'scenarios/invalid/06-condition-kind.yaml:19:13 detect[0].kind: expected kind to be one of "promql", "alert", "notification", "log", "kubernetes", "http", "command", got "prometheus" (string)',
    ],
  ],
  [
    '07-bad-threshold.yaml',
    [
      'scenarios/invalid/07-bad-threshold.yaml:11:33 slos[1]: expected a threshold like "success_rate >= 99.5%", "error_rate < 1%", "p(95) < 300ms", "p(99) <= 1s", got "p95 < 300ms" (string)',
    ],
  ],
  [
    '08-dup-signal.yaml',
    [
      'scenarios/invalid/08-dup-signal.yaml:18:13 detect[0].name: "errors" is already used by efficacy[0]; give each efficacy check, signal and recovery condition its own name',
      'scenarios/invalid/08-dup-signal.yaml:23:43 efficacy[0].alert: expected an alert defined in the scenario\'s alertRules (none listed), got "X": meshdrill loads only those rules, so it would never fire; add its rule file to alertRules',
    ],
  ],
  [
    '09-missing-runbook.yaml',
    [
      `scenarios/invalid/09-missing-runbook.yaml:23:11 runbook.path: cannot read runbook "../../runbooks/nope.md" (${F}/runbooks/nope.md): no such file`,
    ],
  ],
  [
    '10-unbound.yaml',
    [
      'runbooks/unbound.md:6 step "Find the pod": placeholder <app> is not bound; add it to runbook.variables in the scenario',
      'runbooks/unbound.md:13 step "Restart istiod": placeholder $POD_NAME is not bound; add it to runbook.variables in the scenario',
      'runbooks/unbound.md:14 step "Restart istiod": placeholder ${ISTIO_NAMESPACE} is not bound; add it to runbook.variables in the scenario',
    ],
  ],
  [
    '11-no-steps.yaml',
    [
      'scenarios/invalid/11-no-steps.yaml:23:11 runbook.path: expected a runbook with at least one fenced bash, sh, shell or yaml block, got none in "../../runbooks/prose-only.md"; write runbook: none for an empty runbook',
    ],
  ],
  [
    '12-manifest-missing.yaml',
    [
      `scenarios/invalid/12-manifest-missing.yaml:8:15 workload.manifests[0].file: cannot read "../valid/workloads/nope.yaml" (${F}/scenarios/valid/workloads/nope.yaml): no such file`,
    ],
  ],
  [
    '13-manifest-not-object.yaml',
    [
      'scenarios/valid/workloads/no-name.yaml:1:1 document 1: expected a Kubernetes object with apiVersion, kind and metadata.name, got one without metadata',
    ],
  ],
  [
    '14-fault-group.yaml',
    [
      'scenarios/invalid/14-fault-group.yaml:16:9 fault.manifest.inline: expected an object of API group chaos-mesh.org for a chaos-mesh fault, got apiVersion "networking.istio.io/v1"; change fault.kind or the manifest',
    ],
  ],
  [
    '15-pod-failure-duration.yaml',
    [
      'scenarios/invalid/15-pod-failure-duration.yaml:19:15 fault.manifest.inline.spec: expected spec.duration (e.g. "30s") on a PodChaos with action pod-failure, got none; Chaos Mesh rejects it without one',
    ],
  ],
  [
    '16-verify-budget.yaml',
    [
      'scenarios/invalid/16-verify-budget.yaml:25:35 recovery.verify: expected a verification window no longer than the recovery budget (1m), got "2m"; shorten verify or raise budget',
    ],
  ],
  [
    '17-weight-zero.yaml',
    [
      'scenarios/invalid/17-weight-zero.yaml:11:36 load.requests[0].weight: expected a positive weight, got 0 (number); remove the request instead of weighting it 0',
    ],
  ],
  [
    '18-alert-rules-missing.yaml',
    [
      `scenarios/invalid/18-alert-rules-missing.yaml:25:16 alertRules[0]: cannot read rule file "rules/missing.yaml" (${F}/scenarios/invalid/rules/missing.yaml): no such file`,
    ],
  ],
  [
    '19-target-selects-nothing.yaml',
    [
      'scenarios/invalid/19-target-selects-nothing.yaml:16:17 fault.steps[0].target: expected name or labelSelector, got neither; a fault action must say which objects it hits',
    ],
  ],
  [
    '20-unknown-kind-no-apiversion.yaml',
    [
      'scenarios/invalid/20-unknown-kind-no-apiversion.yaml:16:25 fault.steps[0].target.kind: expected a well-known kind or an explicit apiVersion, got kind "Rollout" without apiVersion; add apiVersion (e.g. "apps/v1")',
    ],
  ],
  [
    '21-fault-two-objects.yaml',
    [
      'scenarios/invalid/21-fault-two-objects.yaml:14:23 fault.manifest.file: expected a file with exactly one object, got 2; split it into one fault per scenario',
    ],
  ],
  [
    '22-manifest-yaml-error.yaml',
    ['scenarios/valid/faults/broken.yaml:5:3 invalid YAML: Map keys must be unique'],
  ],
  [
    '23-bad-scaled.yaml',
    [
      'scenarios/invalid/23-bad-scaled.yaml:18:7 detect[0]: expected ${scaled:DURATION} such as ${scaled:1m}, got "${scaled:half-a-minute}"',
    ],
  ],
  [
    '24-ramping-no-stages.yaml',
    [
      'scenarios/invalid/24-ramping-no-stages.yaml:10:5 load.stages: expected stages [{ duration, target }] for executor ramping-arrival-rate, got none',
    ],
  ],
  [
    '25-bad-regex.yaml',
    [
      'scenarios/invalid/25-bad-regex.yaml:23:85 efficacy[0].pattern: expected a regular expression, got "(OOM" (Invalid regular expression: /(OOM/: Unterminated group)',
    ],
  ],
  [
    '26-http-remote.yaml',
    [
      'scenarios/invalid/26-http-remote.yaml:23:39 efficacy[0].url: expected a path such as "/healthz" or an http URL on 127.0.0.0/8, got "http://example.com/health"',
    ],
  ],
  [
    '27-runbook-bad-yaml.yaml',
    [
      'runbooks/bad-yaml.md:10 step "Permissive mTLS": expected valid YAML in the yaml block, got: All mapping items must start at the same column',
    ],
  ],
  [
    '28-many-at-once.yaml',
    [
      'scenarios/invalid/28-many-at-once.yaml:4:9 metadata.name: expected a DNS label (lower-case letters, digits and "-", at most 63 characters), got "Broken_Name" (string)',
      'scenarios/invalid/28-many-at-once.yaml:10:11 load.rate: expected a rate in requests per second, got -1 (number)',
      'scenarios/invalid/28-many-at-once.yaml:21:15 detect[0].within: expected a duration like "60s", got "1 minute" (string)',
    ],
  ],
  [
    '29-dup-variant.yaml',
    [
      'scenarios/invalid/29-dup-variant.yaml:28:15 runbookVariants[0].name: "empty" is already used by negativeControls[0]; rename it',
    ],
  ],
  [
    '30-missing-required.yaml',
    [
      'scenarios/invalid/30-missing-required.yaml:6:3 recovery: expected a mapping, got nothing (the field is required)',
    ],
  ],
  [
    '31-timeout-too-short.yaml',
    [
      'scenarios/invalid/31-timeout-too-short.yaml:25:23 timeouts.detect: expected at least 60s (the longest detect within), got "10s"; raise the timeout or remove it to use the default',
    ],
  ],
  [
    '32-runbook-none-typo.yaml',
    [
      'scenarios/invalid/32-runbook-none-typo.yaml:26:31 negativeControls[0].runbook: expected { path, variables } or "none", got "nne" (string)',
    ],
  ],
  [
    '33-recovery-within.yaml',
    [
      'scenarios/invalid/33-recovery-within.yaml:31:9 recovery.conditions[0].within: unknown field "within"; valid fields: name, poll, kind, run, expectExitCode, outputPattern',
    ],
  ],
  [
    '34-recovery-dup-name.yaml',
    [
      'scenarios/invalid/34-recovery-dup-name.yaml:28:17 recovery.conditions[0].name: "errors" is already used by detect[0]; give each efficacy check, signal and recovery condition its own name',
    ],
  ],
  [
    '35-during-fault.yaml',
    [
      'scenarios/invalid/35-during-fault.yaml:12:24 duringFault.slos: expected "hold" or "ignore", got "always" (string)',
    ],
  ],
  [
    '36-during-fault-field.yaml',
    [
      'scenarios/invalid/36-during-fault-field.yaml:12:18 duringFault.slo: unknown field "slo" (did you mean "slos"?); valid fields: slos, holdFor',
    ],
  ],
  [
    '37-recovery-rules.yaml',
    [
      'scenarios/invalid/37-recovery-rules.yaml:28:81 recovery.conditions[0].outputPattern: expected a regular expression, got "(ok" (Invalid regular expression: /(ok/: Unterminated group)',
      'scenarios/invalid/37-recovery-rules.yaml:29:43 recovery.conditions[1].url: expected a path such as "/healthz" or an http URL on 127.0.0.0/8, got "http://example.com/healthz"',
      'scenarios/invalid/37-recovery-rules.yaml:30:9 recovery.conditions[2].value: expected a value to compare with op ">=", got nothing',
    ],
  ],
  [
    '38-isolation.yaml',
    [
      `scenarios/invalid/38-isolation.yaml:17:9 fault.manifest.inline: expected the object in the drill's namespace drill-broken (isolation: namespace), got metadata.namespace istio-system; keep it in the namespace or set isolation: cluster`,
      `scenarios/invalid/38-isolation.yaml:17:9 fault.manifest.inline: expected every selected namespace in the drill's namespace drill-broken (isolation: namespace), got spec.selector.namespaces ["istio-system"]; keep it in the namespace or set isolation: cluster`,
      `scenarios/invalid/38-isolation.yaml:25:7 detect[0].labels: expected labels that name this drill's instances of ErrorBudgetBurnFast (such as { namespace: drill-broken }), got none: beside other drills, their ErrorBudgetBurnFast would count as this drill's`,
      `scenarios/invalid/38-isolation.yaml:27:14 detect[0].alert: expected an alert defined in the scenario's alertRules (none listed), got "ErrorBudgetBurnFast": meshdrill loads only those rules, so it would never fire; add its rule file to alertRules`,
    ],
  ],
  [
    '39-alias-bomb.yaml',
    [
      'scenarios/invalid/39-alias-bomb.yaml:6:10 invalid YAML: aliases expand too much (more than 100 uses of the anchors, as in a document built to exhaust memory) — write the values out or use fewer aliases',
    ],
  ],
  [
    '40-deep-nesting.yaml',
    [
      'scenarios/invalid/40-deep-nesting.yaml:6:76 invalid YAML: nested deeper than 64 levels — flatten the structure',
    ],
  ],
  [
    '41-promql.yaml',
    [
      'scenarios/invalid/41-promql.yaml:21:14 efficacy[0].query: PromQL syntax error: the query ends too early ("sum(rate(istio_requests_total[${scaled:30s}])")',
      'scenarios/invalid/41-promql.yaml:25:14 detect[0].query: PromQL type error: rate() expects a range vector such as istio_requests_total{response_code="503"}[5m], got "istio_requests_total{response_code="503"}"',
      'scenarios/invalid/41-promql.yaml:29:14 detect[1].query: PromQL: unknown function "rat" in "sum(rat(istio_requests_total[1m])) > 0" — see the function list at prometheus.io/docs/prometheus/latest/querying/functions/',
      'scenarios/invalid/41-promql.yaml:40:16 recovery.conditions[0].query: PromQL type error: a comparison or arithmetic needs instant vectors, got the range vector "istio_requests_total[1m]"',
    ],
  ],
  [
    '42-rule-file.yaml',
    [
      'scenarios/invalid/rules/broken.rules.yaml:5:15 groups[0].rules[0].expr: PromQL syntax error: the query ends too early ("sum(up{app="shop"}) by (app) == 0 or")',
      'scenarios/invalid/rules/broken.rules.yaml:7:9 groups[0].rules[1]: expected a rule with "alert" or "record", got neither',
    ],
  ],
  [
    '43-title-lines.yaml',
    [
      'scenarios/invalid/43-title-lines.yaml:6:10 metadata.title: expected a one-line title (longer prose goes in metadata.description), got "frontend pods deleted\\nwhile under load\\n" (string)',
    ],
  ],
  [
    '44-zero-durations.yaml',
    [
      'scenarios/invalid/44-zero-durations.yaml:10:19 workload.readyTimeout: expected a duration above zero like "60s", got "0s" (string)',
      'scenarios/invalid/44-zero-durations.yaml:13:21 load.requestTimeout: expected a duration above zero like "60s", got "0ms" (string)',
      'scenarios/invalid/44-zero-durations.yaml:16:16 steadyState: expected a duration above zero like "60s", got "0s" (string)',
      'scenarios/invalid/44-zero-durations.yaml:26:15 detect[0].within: expected a duration above zero like "60s", got "0s" (string)',
      'scenarios/invalid/44-zero-durations.yaml:27:13 detect[0].poll: expected a duration above zero like "60s", got "0.0s" (string)',
      'scenarios/invalid/44-zero-durations.yaml:31:35 recovery.verify: expected a duration above zero like "60s", got "0s" (string)',
      'scenarios/invalid/44-zero-durations.yaml:32:24 timeouts.cleanup: expected a duration above zero like "60s", got "0m" (string)',
    ],
  ],
  [
    '45-load-bounds.yaml',
    [
      'scenarios/invalid/45-load-bounds.yaml:12:18 load.maxInFlight: expected at most 10000 requests in flight (each holds a connection of its own), got 50000 (number)',
      'scenarios/invalid/45-load-bounds.yaml:14:9 load.requests[0]: expected a request path starting with "/", such as "/echo", got "echo" (string)',
      'scenarios/invalid/45-load-bounds.yaml:15:17 load.requests[1].path: expected a request path starting with "/", such as "/echo", got "slow?ms=200" (string)',
    ],
  ],
  [
    '46-condition-codes.yaml',
    [
      'scenarios/invalid/46-condition-codes.yaml:19:71 efficacy[0].expectStatus: expected an HTTP status code (100 to 599), got 5030 (number)',
      'scenarios/invalid/46-condition-codes.yaml:20:64 efficacy[1].expectStatus: expected at least one status code, got a list of 0 (array)',
      'scenarios/invalid/46-condition-codes.yaml:33:83 recovery.conditions[0].expectExitCode: expected an exit code (0 to 255) or "nonzero", got -1 (number)',
    ],
  ],
  [
    '47-timeouts-defaults.yaml',
    [
      'scenarios/invalid/47-timeouts-defaults.yaml:25:23 timeouts.deploy: expected at least 120s (workload.readyTimeout, 120s by default), got "1m"; raise the timeout or remove it to use the default',
      'scenarios/invalid/47-timeouts-defaults.yaml:25:35 timeouts.inject: expected at least 300s (fault.maxWait), got "1m"; raise the timeout or remove it to use the default',
      'scenarios/invalid/47-timeouts-defaults.yaml:25:53 timeouts.steady-state: expected at least 30s (steadyState, 30s by default), got "20s"; raise the timeout or remove it to use the default',
      'scenarios/invalid/47-timeouts-defaults.yaml:25:67 timeouts.recover: expected at least 150s (recovery.budget + recovery.verify, 30s by default), got "2m"; raise the timeout or remove it to use the default',
    ],
  ],
  [
    '48-variable-value.yaml',
    [
      'scenarios/invalid/48-variable-value.yaml:25:29 runbook.variables.namespace: expected a string, a number or true/false, got a list of 2 (array)',
    ],
  ],
  [
    '49-routing-missing.yaml',
    [
      `scenarios/invalid/49-routing-missing.yaml:23:28 alertmanager.routing: cannot read Alertmanager routing "routing/nope.yml" (${F}/scenarios/invalid/routing/nope.yml): no such file; give the path of an alertmanager.yml relative to the scenario file`,
      `scenarios/invalid/49-routing-missing.yaml:25:63 negativeControls[0].alertmanager.routing: cannot read Alertmanager routing "routing/also-nope.yml" (${F}/scenarios/invalid/routing/also-nope.yml): no such file; give the path of an alertmanager.yml relative to the scenario file`,
    ],
  ],
  [
    '50-routing-not-yaml.yaml',
    [
      `scenarios/invalid/routing/not-yaml.yml:5:4 invalid YAML: All sequence items must start at the same column`,
    ],
  ],
  [
    '51-routing-shape.yaml',
    [
      `scenarios/invalid/routing/no-route.yml:2:1 route: expected route, the routing tree ({ receiver, group_by, routes, … }), got nothing (the field is required)`,
      `scenarios/invalid/routing/no-route.yml:3:5 receivers[0].name: expected a receiver name (a string), got nothing (the field is required)`,
    ],
  ],
  [
    '52-routing-amtool.yaml',
    [
      `scenarios/invalid/routing/amtool-refuses.yml:7 receivers[0].webhook_configs[0].urll: expected a configuration Alertmanager loads, got amtool check-config's objection: field urll not found in type config.plain; fix the routing file`,
      `scenarios/invalid/routing/undefined-receiver.yml:5:17 route.routes[0].receiver: expected a configuration Alertmanager loads, got amtool check-config's objection: undefined receiver "pagr" used in route; fix the routing file`,
    ],
  ],
  [
    '53-receiver-unrouted.yaml',
    [
      `scenarios/invalid/53-receiver-unrouted.yaml:26:17 detect[0].receiver: expected a receiver of the routing "routing/team.yml", which variants main, no-fix run with (team-pager, tickets), got "pager": no notification could reach it there; name one of those receivers, define and route to it in that file, or leave receiver out to accept any`,
      `scenarios/invalid/53-receiver-unrouted.yaml:26:17 detect[0].receiver: expected a receiver of the routing "routing/tickets-only.yml", which variant tickets runs with (tickets), got "pager": no notification could reach it there; name one of those receivers, define and route to it in that file, or leave receiver out to accept any`,
      `scenarios/invalid/53-receiver-unrouted.yaml:34:19 recovery.conditions[0].receiver: expected a receiver of the routing "routing/tickets-only.yml", which variant tickets runs with (tickets), got "team-pager": no notification could reach it there; name one of those receivers, define and route to it in that file, or leave receiver out to accept any`,
    ],
  ],
  [
    '54-receiver-default-routing.yaml',
    [
      `scenarios/invalid/54-receiver-default-routing.yaml:27:17 detect[0].receiver: expected a receiver of meshdrill's own routing, which variant main runs with (meshdrill), got "team-pager": no notification could reach it there; name meshdrill, give the scenario an alertmanager.routing that defines the receiver, or leave receiver out to accept any`,
    ],
  ],
  [
    '55-silent.yaml',
    [
      `scenarios/invalid/55-silent.yaml:29:47 negativeControls[0].silent[0]: expected the name of a detect signal of this scenario (page, maybe-page), got "paeg"; fix the name`,
      `scenarios/invalid/55-silent.yaml:29:53 negativeControls[0].silent[1]: expected a detect signal (page, maybe-page), got "pods-gone", which is efficacy[0]: only a detection signal can be required to stay silent`,
      `scenarios/invalid/55-silent.yaml:31:52 runbookVariants[0].silent[1]: expected a judged detect signal, got "maybe-page", which is informational (detect[1]): a silent check on a signal on trial could never fail the run; judge the signal or remove it from silent`,
    ],
  ],
  [
    '56-hold-for.yaml',
    [
      'scenarios/invalid/56-hold-for.yaml:13:27 duringFault.holdFor: expected a duration above zero like "60s", got "0s" (string)',
    ],
  ],
  [
    '57-command-action.yaml',
    [
      'scenarios/invalid/57-command-action.yaml:11:9 workload.setup[0].run: expected a string, got nothing (the field is required)',
      'scenarios/invalid/57-command-action.yaml:19:84 fault.steps[0].undo: expected a non-empty string, got "" (string)',
    ],
  ],
  [
    '58-command-isolation.yaml',
    [
      "scenarios/invalid/58-command-isolation.yaml:17:17 fault.steps[0].action: expected actions that stay in the drill's namespace (isolation: namespace), got a command, whose script may change anything the kubeconfig reaches (istioctl install changes the control plane); set isolation: cluster",
    ],
  ],
  [
    '59-mesh-variable.yaml',
    [
      'scenarios/invalid/59-mesh-variable.yaml:22:75 detect[0].resource.name: expected a control-plane variable (${mesh.namespace}, ${mesh.revision}, ${mesh.istiodDeployment}, ${mesh.istiodService}, ${mesh.istiodSelector}), got "${mesh.istiod}"; see docs/scenario-format.md "Control-plane variables"',
    ],
  ],
  [
    '60-mesh-variable-files.yaml',
    [
      'scenarios/invalid/mesh/pod-failure.yaml:11:50 selector.labelSelectors["istio.io/rev"]: expected a control-plane variable (${mesh.namespace}, ${mesh.revision}, ${mesh.istiodDeployment}, ${mesh.istiodService}, ${mesh.istiodSelector}), got "${mesh.rev}"; see docs/scenario-format.md "Control-plane variables"',
      'scenarios/invalid/mesh/restart.md:7 expected a control-plane variable (${mesh.namespace}, ${mesh.revision}, ${mesh.istiodDeployment}, ${mesh.istiodService}, ${mesh.istiodSelector}), got "${mesh.Namespace}"; see docs/scenario-format.md "Control-plane variables"',
    ],
  ],
];

describe('malformed scenarios and runbooks: every problem, with its position', () => {
  it('has at least 20 cases', () => {
    expect(TABLE.length).to.be.greaterThanOrEqual(20);
  });

  for (const [file, expected] of TABLE) {
    it(file, async () => {
      const result = await loadScenarios([`${DIR}/${file}`], { target: 'local' });
      expect(result.scenarios).to.deep.equal([]);
      expect(result.problems.map((p) => formatProblem(p, F))).to.deep.equal(expected);
    });
  }

  it('collects the problems of every file at once and resolves nothing', async () => {
    const result = await loadScenarios([DIR, `${F}/scenarios/valid`], { target: 'local' });
    const expectedCount = TABLE.reduce((n, [, lines]) => n + lines.length, 0);
    expect(result.scenarios).to.deep.equal([]);
    expect(result.problems).to.have.length(expectedCount);
    expect(new Set(result.problems.map((p) => p.file)).size).to.be.greaterThan(20);
  });

  it('reports a path that does not exist', async () => {
    const result = await loadScenarios(['nope/missing.yaml'], { target: 'local', cwd: F });
    expect(result.problems.map((p) => formatProblem(p, F))).to.deep.equal([
      'nope/missing.yaml no such file or directory',
    ]);
  });

  it('names the rules that found problems in recovery conditions', async () => {
    const dup = await loadScenarios([`${DIR}/34-recovery-dup-name.yaml`], { target: 'local' });
    expect(dup.problems.map((p) => p.rule)).to.deep.equal(['signal-names-unique']);
    const rules = await loadScenarios([`${DIR}/37-recovery-rules.yaml`], { target: 'local' });
    expect(rules.problems.map((p) => p.rule)).to.deep.equal([
      'patterns-compile',
      'http-url-local',
      'condition-value-present',
    ]);
  });

  it('leaves alert-defined out for --target existing, whose Prometheus has rules of its own', async () => {
    const local = await loadScenarios([`${DIR}/08-dup-signal.yaml`], { target: 'local' });
    expect(local.problems.map((p) => p.rule)).to.include('alert-defined');
    const existing = await loadScenarios([`${DIR}/08-dup-signal.yaml`], { target: 'existing' });
    expect(existing.problems.map((p) => p.rule)).to.deep.equal(['signal-names-unique']);
  });

  it('names the rule that found a semantic problem', async () => {
    const result = await loadScenarios([`${DIR}/16-verify-budget.yaml`], { target: 'local' });
    expect(result.problems.map((p) => p.rule)).to.deep.equal(['verify-within-budget']);
  });

  it('names the rule behind each Alertmanager routing problem', async () => {
    const rules = async (file: string) =>
      (await loadScenarios([`${DIR}/${file}`], { target: 'local' })).problems.map((p) => p.rule);
    expect(await rules('49-routing-missing.yaml')).to.deep.equal([
      'alertmanager-routing-exists',
      'alertmanager-routing-exists',
    ]);
    for (const file of ['50-routing-not-yaml.yaml', '51-routing-shape.yaml', '52-routing-amtool.yaml'])
      expect(new Set(await rules(file)), file).to.deep.equal(new Set(['alertmanager-routing-valid']));
    expect(new Set(await rules('53-receiver-unrouted.yaml'))).to.deep.equal(
      new Set(['notification-receiver-routed']),
    );
    expect(new Set(await rules('55-silent.yaml'))).to.deep.equal(new Set(['silent-names-signal']));
  });

  it("leaves notification-receiver-routed out for --target existing without a routing file (the user's own)", async () => {
    const file = `${DIR}/54-receiver-default-routing.yaml`;
    const local = await loadScenarios([file], { target: 'local' });
    expect(local.problems.map((p) => p.rule)).to.deep.equal(['notification-receiver-routed']);
    const existing = await loadScenarios([file], { target: 'existing' });
    expect(existing.problems).to.deep.equal([]);
  });
});

describe('scenario validation: a scenario that ships its Alertmanager routing', function () {
  // amtool is a real process: a few tens of milliseconds each, far more on a loaded machine.
  this.timeout(60_000);
  const ROUTING = `${F}/scenarios/routing`;
  const GOOD = `${ROUTING}/own-routing.yaml`;

  it('loads, each variant with its routing and its silent signals', async () => {
    const result = await loadScenarios([GOOD], { target: 'local' });
    expect(result.problems).to.deep.equal([]);
    expect(result.warnings).to.deep.equal([]);
    const variants = result.scenarios[0]?.variants ?? [];
    expect(variants.map((v) => [v.name, v.routing?.file, v.silent])).to.deep.equal([
      ['main', `${ROUTING}/team.alertmanager.yml`, undefined],
      ['no-fix', `${ROUTING}/team.alertmanager.yml`, undefined],
      ['pager-unplugged', `${ROUTING}/quiet.alertmanager.yml`, ['page']],
    ]);
    expect(variants[0]?.routing?.receivers).to.deep.equal(['team-pager', 'tickets', 'blackhole']);
  });

  it('spec.silent: the main drill keeps the signals quiet, and every variant without a silent list of its own', async () => {
    const text = readFileSync(GOOD, 'utf8').replace(/^spec:\n/m, 'spec:\n  silent: [page]\n');
    // Beside the fixture, so its relative paths hold; removed whatever happens.
    const copy = `${ROUTING}/.spec-silent.yaml`;
    writeFileSync(copy, text.replace('name: own-routing', 'name: own-routing-silent'));
    let variants: { name: string; silent?: string[] }[];
    try {
      const result = await loadScenarios([copy], { target: 'local' });
      expect(result.problems).to.deep.equal([]);
      variants = result.scenarios[0]?.variants ?? [];
    } finally {
      rmSync(copy, { force: true });
    }
    expect(variants.map((v) => [v.name, v.silent])).to.deep.equal([
      ['main', ['page']],
      ['no-fix', ['page']],
      ['pager-unplugged', ['page']],
    ]);
    // A name that is no detect signal is refused there as in a variant.
    const typo = await validateScenarioText(text.replace('silent: [page]', 'silent: [paeg]'), GOOD, {
      target: 'local',
    });
    expect(typo.problems.map((p) => formatProblem(p, F))).to.deep.equal([
      'scenarios/routing/own-routing.yaml:8:12 silent[0]: expected the name of a detect signal of this scenario (istiod-down, page), got "paeg"; fix the name',
    ]);
  });

  it('refuses a routing amtool check-config refuses, at the line in the routing file (the fixed file passes)', async () => {
    const text = readFileSync(GOOD, 'utf8');
    const broken = text.replace('routing: team.alertmanager.yml', 'routing: typo.alertmanager.yml');
    expect(broken).to.not.equal(text);
    const refused = await validateScenarioText(broken, GOOD, { target: 'local' });
    expect(refused.problems.map((p) => formatProblem(p, F))).to.deep.equal([
      "scenarios/routing/typo.alertmanager.yml:16 receivers[0].pagerduty_configs[0].severty: expected a configuration Alertmanager loads, got amtool check-config's objection: field severty not found in type config.plain; fix the routing file",
    ]);
    const fixed = await validateScenarioText(text, GOOD, { target: 'local' });
    expect(fixed.problems).to.deep.equal([]);
    expect(fixed.scenario).to.not.equal(undefined);
  });
});
