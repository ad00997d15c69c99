// `meshdrill doctor`: what a real-cluster target would meet on this machine, checked before a game day — each
// line ok, warn or fail, with how to fix it. Nothing is created or changed.

import { createServer } from 'node:net';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  status: CheckStatus;
  /** What was checked, in a few words. */
  check: string;
  /** What was found. */
  detail: string;
  /** How to fix it (warn and fail). */
  fix?: string;
}

/** Whether a TCP port on 127.0.0.1 can be bound now (it is released at once). */
export function hostPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `vX.Y.Z` compared (negative, zero, positive); a part that is not a number counts as 0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[.+-]/)
      .slice(0, 3)
      .map((p) => Number(p) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
