// The engine's limits that the command line checks before anything heavier is loaded (a leaf module: importing it
// costs nothing, so `meshdrill --help` need not load the engine).

/** The most drills `--parallel N` allows; auto never goes above it. */
export const MAX_PARALLEL = 16;
