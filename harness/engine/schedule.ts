// Which drills run at the same time. Up to `parallel` drills that keep to their own namespace (`isolation:
// namespace`) run side by side; a drill that changes what every workload shares (istiod, the CA, the mesh-wide
// config: `isolation: cluster`) runs alone, so its fault never lands in another drill's measurement. With
// parallel > 1 the namespace-isolated drills go first, together, then the others one at a time, each group in the
// order given; with parallel 1 the order given is kept exactly.

export interface ScheduleOptions<T> {
  /** How many drills may run at once (1: one after the other, whatever their isolation). */
  parallel: number;
  /** True when the item may run beside others. */
  shares(item: T): boolean;
  /** Checked before each start: once true (an interrupt), nothing new starts. */
  stopped(): boolean;
}

/**
 * Runs `runOne` for each item under the options' rules and resolves when every started run has ended. The first
 * error stops new starts; it is rethrown once the runs already going have ended (they are never abandoned).
 */
export async function runScheduled<T>(
  items: readonly T[],
  options: ScheduleOptions<T>,
  runOne: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const halted = () => options.stopped() || errors.length > 0;
  const ordered =
    options.parallel <= 1
      ? items
      : [...items.filter((i) => options.shares(i)), ...items.filter((i) => !options.shares(i))];
  for (const item of ordered) {
    if (halted()) break;
    const alone = options.parallel <= 1 || !options.shares(item);
    while (running.size > 0 && (alone || running.size >= options.parallel)) await Promise.race(running);
    if (halted()) break;
    if (alone) {
      await runOne(item).catch((error: unknown) => {
        errors.push(error);
      });
      continue;
    }
    const run: Promise<void> = runOne(item)
      .catch((error: unknown) => {
        errors.push(error);
      })
      .finally(() => running.delete(run));
    running.add(run);
  }
  await Promise.all(running);
  if (errors.length > 0) throw errors[0];
}

/** What a drill claims on the shared cluster while it runs: its namespace and the host its load is sent to. */
export interface DrillClaims {
  name: string;
  file: string;
  namespace: string;
  /** The Host header of its load through the shared ingress gateway; undefined: the gateway's default. */
  host: string | undefined;
}

/**
 * Drills that will run side by side must not claim the same namespace or ingress host: two VirtualServices for
 * one host on the shared gateway would split each other's traffic. One line per clash, saying how to fix it.
 */
export function findSideBySideClashes(drills: readonly DrillClaims[]): string[] {
  const clashes: string[] = [];
  const seen = { namespace: new Map<string, DrillClaims>(), host: new Map<string, DrillClaims>() };
  for (const drill of drills) {
    const claims: [keyof typeof seen, string, string][] = [
      ['namespace', drill.namespace, 'workload.namespace'],
      [
        'host',
        drill.host ?? '(no load.host: the gateway default)',
        'load.host and its Gateway/VirtualService',
      ],
    ];
    for (const [kind, value, field] of claims) {
      const earlier = seen[kind].get(value);
      if (earlier) {
        clashes.push(
          `${drill.file}: ${drill.name} and ${earlier.name} (${earlier.file}) both use ${kind} ${value} and would run side by side (isolation: namespace, --parallel); give one its own ${field}`,
        );
      } else seen[kind].set(value, drill);
    }
  }
  return clashes;
}
