// meshdrill's state directory: per user, not per directory (`cluster down` must find the cluster wherever it is
// run from, `cleanup` a killed run's pending undos). MESHDRILL_STATE_DIR, else $XDG_STATE_HOME/meshdrill.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.MESHDRILL_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'meshdrill')
  );
}
