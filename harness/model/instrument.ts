// How healthy the load generator itself was during one second of a run. The verdict needs it to tell the mesh's
// latency from the instrument's: a generator that sends late, or a machine so busy that even a request which
// bypasses the mesh is slow, makes a breach of that second unexplainable by the mesh alone.

/** The instrument's own health over one second of load (absent on samples of drivers that cannot measure it). */
export interface InstrumentSecond {
  /** Latest send of this second's requests after their intended start (ms). */
  sendLagMaxMs: number;
  /** Requests of this second sent LATE_SEND_MS or more after their intended start. */
  lateSends: number;
  /** Longest delay of the generator's own event loop in this second (ms). */
  loopDelayMaxMs: number;
  /** Share of the machine's CPU time (all cores) that was busy, 0–1; absent where /proc/stat cannot be read. */
  cpuBusy?: number;
  /** Share of the second in which some runnable task waited for a CPU (Linux PSI "some"), 0–1; absent without PSI. */
  cpuPressure?: number;
  /**
   * Control path: latencies (ms) of requests from the generator to an echo beside it that bypasses the mesh,
   * sent every CONTROL_INTERVAL_MS; a probe that got no answer within its timeout counts as its timeout.
   */
  control: number[];
}

/** A send this late after its intended start marks the generator as behind. */
export const LATE_SEND_MS = 10;
/** How often the control path is probed. */
export const CONTROL_INTERVAL_MS = 100;
