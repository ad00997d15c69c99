// The CLI's help text: commands, options and the exit codes (DESIGN.md "Exit codes").

export const USAGE = `meshdrill — chaos and load drills for Istio service meshes

Usage:
  meshdrill run PATH… [options]        run scenarios (files or directories) and write reports
  meshdrill validate PATH…             check scenarios and their runbooks; run nothing
  meshdrill report RUN_DIR             re-render results.json, junit.xml and index.html from the journal
  meshdrill report --merge OUT_DIR RUN_DIR…
                                       merge the run directories of every shard of one suite (run --shard)
                                       into one run in OUT_DIR, render its reports; exit with its exit code
  meshdrill compare RUN_A RUN_B        compare two runs (e.g. two Istio versions); exit 1 on regression
  meshdrill cleanup [--run-id ID|--all] [--context NAME] [--kubeconfig FILE]
                                       delete every object a (killed) run left behind, by its run-id label;
                                       --context is required unless the kubeconfig has one context
  meshdrill cluster up|down|status --target T [--kubeconfig FILE]
                                       manage a target on its own (local: stays in the foreground)
  meshdrill doctor --target kind|existing [--target-opt KEY=VALUE…]
                                       check this machine and cluster before a game day: tools and versions,
                                       image store, host port, a reusable cluster's state; changes nothing

Options for run:
  --target local|kind|existing         where to run (default: local, the embedded emulated cluster)
  --out DIR                            write journal.jsonl, results.json, junit.xml, index.html here
                                       (default: runs/<run-id>/; an earlier run's files there are replaced)
  --repeat N                           run each scenario variant N times; reports pass rates and spread
  --parallel N|auto                    run up to N drills at once: isolation: namespace ones share the cluster;
                                       on local each cluster-isolated variant gets a cluster of its own
                                       (kind/existing: those run alone). auto: as many as the machine's cores
                                       carry, from each drill's measured CPU cost (says the figure and why)
  --runbook FILE                       replace the main runbook (validate a runbook before adopting it)
  --istio VERSION                      Istio version to install (local: one it serves, docs/targets.md); repeat to run
                                       once per version
  --target-opt KEY=VALUE               target setting (see docs/targets.md); repeatable
  --load-driver builtin|k6             override every scenario's load driver
  --keep-target                        leave the target running afterwards (local: stays in the foreground until Ctrl-C)
  --shard I/N                          run shard I of N of the suite (1 ≤ I ≤ N ≤ 64): a share of its
                                       scenario × variant × iteration runs, the same on every machine,
                                       balanced by expected length; merge the N run dirs with report --merge
  --dry-run                            print the plan — every command and manifest in order, and the objects
                                       outside the run's own it would change (blast radius) — and change nothing
  --json                               print journal events as JSON lines instead of progress

Options for compare:
  --ttd-tolerance PCT|DURATION         allowed growth of time-to-detect (default 20% or 5s, the larger)
  --ttr-tolerance PCT|DURATION         allowed growth of time-to-recover (default 20% or 5s, the larger)
  --html FILE                          also write the comparison as HTML

Exit codes:
  0    all assertions passed
  1    an assertion failed (or, for compare, a regression was found)
  2    invalid input or usage (every problem is listed as file:line:col path: expected …, got …)
  3    environment or provisioning error
  4    cleanup failed — a fault may still be active: run 'meshdrill cleanup' and check the cluster
  5    inconclusive — nothing failed, but the load generator or the machine was degraded where an assertion
       was judged, enough to explain its breach (docs/load.md); run fewer drills at once or on a quieter machine
  130  interrupted (cleanup still ran; a second Ctrl-C abandons it)
`;
