// The door for long-lived processes (containers, exec sessions, Prometheus, port-forwards): `run` is for
// commands that run to completion, this is for children that outlive the call that started them. Each runs in a
// process group of its own so a stop reaches what it forks, is stopped by PID/group — never by name — and is held
// by the lifeline (lifeline.ts) while it runs, so it ends even when meshdrill is SIGKILLed.

import { type ProcessGroup, type ProcessGroupOptions, spawnDetachedGroup } from './detached-group.js';
import { formatCommand } from './format.js';
import { holdGroup, lifelineEnv, releaseGroup } from './lifeline.js';

export {
  DEFAULT_STOP_GRACE_MS,
  type OutputStream,
  type ProcessExit,
  type ProcessGroup,
  type ProcessGroupOptions,
} from './detached-group.js';

/** Starts a long-lived child as the leader of its own process group. Never throws for a binary that cannot start. */
export function startProcessGroup(
  file: string,
  args: readonly string[],
  options: ProcessGroupOptions,
): ProcessGroup {
  // The marker goes in before the spawn: a SIGKILL landing mid-spawn leaves a child the watcher still finds.
  const env = { ...options.env, ...lifelineEnv() };
  const group = spawnDetachedGroup(file, args, formatCommand(file, args), { ...options, env });
  const pid = group.pid;
  if (pid !== undefined) {
    holdGroup(pid);
    void group.exited.then(() => releaseGroup(pid));
  }
  return group;
}
