// Import rules between the top-level folders (DESIGN.md "Layout"): lower layers never import higher ones.
// Layers, lowest first: harness/{model,exec,kube,util} → harness/{slo,scenario,runbook,load,signals,faults}
// → harness/engine → harness/cli. clusters/ and reports/ sit beside the engine and may use only the base layer.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'nothing-imports-tests',
      comment: 'test/ and bench/ are leaves: product code never depends on them.',
      severity: 'error',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'clusters-stay-below-the-engine',
      comment: 'A target provisions and tears down; it must not know the engine, the CLI, scenarios or reports.',
      severity: 'error',
      from: { path: '^clusters/' },
      to: { path: '^(harness/(engine|cli|scenario|runbook|signals|faults|load)|reports)/' },
    },
    {
      name: 'reports-are-pure-functions-of-the-journal',
      comment: 'Reports read journal types and SLO maths only; never the engine, the CLI or a target.',
      severity: 'error',
      from: { path: '^reports/' },
      to: { path: '^(harness/(engine|cli|scenario|runbook|signals|faults|load|kube|exec)|clusters)/' },
    },
    {
      name: 'engine-knows-no-concrete-target',
      comment: 'The engine depends on the Target interface (clusters/target.ts), never on kind/, existing/ or local/.',
      severity: 'error',
      from: { path: '^harness/(?!cli/)' },
      to: { path: '^clusters/(local|kind|existing)/|^clusters/index\\.ts$' },
    },
    {
      name: 'base-layer-is-base',
      comment: 'model, exec, kube and util are the ground floor.',
      severity: 'error',
      from: { path: '^harness/(model|exec|kube|util)/' },
      to: { path: '^(harness/(?!model|exec|kube|util)[^/]+/|clusters|reports)' },
    },
    {
      name: 'only-the-cli-is-the-top',
      severity: 'error',
      from: { pathNot: '^(harness/cli|test|bench|scripts)/' },
      to: { path: '^harness/cli/' },
    },
    {
      name: 'local-target-is-private',
      comment: 'The emulation lives wholly inside clusters/local/; only the target registry, tests and benches reach in.',
      severity: 'error',
      from: { pathNot: '^(clusters/local/|clusters/index\\.ts$|test/|bench/)' },
      to: { path: '^clusters/local/' },
    },
    {
      name: 'features-are-entered-through-their-index',
      comment:
        'A feature folder (harness/<x>, clusters/<x>) shows what it offers in its index.ts: a module of another ' +
        'feature imports that door (or the index.ts of a sub-feature such as clusters/shared/crd), never a file ' +
        'behind it. Exempt: harness/util, a shelf of independent helpers where one door would make every user load ' +
        'all of them (worker threads, certificates, durations); the CLI (harness/cli), which loads each command\'s ' +
        'modules on demand and imports the one module it needs so that `--help` or `validate` does not load the ' +
        'engine, the Kubernetes client and the targets (measured: twice the start-up time and memory); and tests, ' +
        'which reach behind the door to test a module on its own.',
      severity: 'error',
      from: { path: '^(harness|clusters)/([^/]+)/', pathNot: ['\\.test\\.ts$', '^harness/cli/'] },
      to: {
        path: '^(harness|clusters)/[^/]+/',
        pathNot: ['^$1/$2/', '^harness/util/', '/index\\.ts$'],
      },
    },
    {
      name: 'reports-html-is-entered-through-its-index',
      comment: 'The same rule for the report renderer: the rest of reports/ uses reports/html only through its index.ts.',
      severity: 'error',
      from: { path: '^reports/[^/]+\\.ts$', pathNot: '\\.test\\.ts$' },
      to: { path: '^reports/html/', pathNot: '^reports/html/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
