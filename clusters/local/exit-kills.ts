// The last line of defence of every local cluster in this process: if the process exits without a teardown,
// no container outlives it. One 'exit' listener serves them all — clusters of their own run side by side
// (`run --parallel`), and a listener each would trip Node's leak warning past ten.

const kills = new Set<() => void>();

function killAll(): void {
  for (const kill of kills) kill();
}

/** Runs `kill` if the process exits before the returned function is called. */
export function killOnProcessExit(kill: () => void): () => void {
  if (kills.size === 0) process.on('exit', killAll);
  kills.add(kill);
  return () => {
    if (!kills.delete(kill)) return;
    if (kills.size === 0) process.off('exit', killAll);
  };
}

/** For tests: the exit-time kills registered now, run as the process's exit would. */
export function runExitKillsForTest(): number {
  killAll();
  return kills.size;
}
