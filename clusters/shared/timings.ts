// Times provisioning steps into TargetEnvironment.timings (cluster creation, Istio install, each add-on).

export type Timings = Record<string, number>;

/** Runs a step and records how long it took under `key`, also when it fails (the journal shows where time went). */
export async function timeStep<T>(timings: Timings, key: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await step();
  } finally {
    timings[key] = Math.round(performance.now() - started);
  }
}
