// The control path's far end: a tiny HTTP echo on 127.0.0.1 on a thread of its own. A request to it crosses
// the loopback and another thread's event loop but no mesh, so its latency is what the machine alone costs a
// request right now — when even it is slow, a slow second of the mesh says more about the machine.

import { Worker } from 'node:worker_threads';

// Plain JavaScript, evaluated as the worker's script: no TypeScript loader is needed on this thread.
const ECHO_SOURCE = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = http.createServer((req, res) => { req.resume(); res.end('ok'); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

export interface ControlEcho {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the echo thread; resolves once it listens. */
export function startControlEcho(): Promise<ControlEcho> {
  const worker = new Worker(ECHO_SOURCE, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (port: number) => {
      worker.off('error', reject);
      resolve({
        url: `http://127.0.0.1:${port}`,
        async stop() {
          // Ends at once even if a keep-alive connection is open: terminate() does not wait for the server.
          await worker.terminate();
        },
      });
    });
  });
}
