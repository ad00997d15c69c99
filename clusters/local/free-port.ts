// A free TCP port on 127.0.0.1 for a real binary the local target starts (Prometheus, Alertmanager): the probe is
// closed before the binary binds, so a caller retries with another when the port was taken in between.

import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
