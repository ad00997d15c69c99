// The last line of defence for long-lived children when meshdrill exits without stopping them (a kept target, an
// exit in the middle of a run): each registered kill runs at the process's 'exit'. One listener serves them all —
// local clusters and background helpers run side by side (`run --parallel`), and a listener each would trip
// Node's leak warning past ten.

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
