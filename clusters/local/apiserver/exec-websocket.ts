// pods/exec over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`): each binary frame starts with a channel
// byte — 0 stdin, 1 stdout, 2 stderr, 3 status (JSON), 4 resize, 255 close (v5) — as kubectl 1.30+ speaks it.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { KEYS } from '../store/index.js';
import type { ApiContext } from './context.js';
import { resolveContainer } from './pod-containers.js';
import { buildStatus, toStatus } from './status-errors.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

export interface ExecTarget {
  namespace: string;
  pod: string;
  query: URLSearchParams;
}

/** The status frame kubectl turns into its exit code. */
export function buildExecStatus(exitCode: number, command: string[]) {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** Writes a plain HTTP error on a socket that was not upgraded. */
function rejectUpgrade(socket: Duplex, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : code === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

export function createExecUpgrader(context: ApiContext) {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const sockets = new Set<WebSocket>();

  function run(ws: WebSocket, target: ExecTarget, container: string): void {
    const runtime = context.runtime;
    const command = target.query.getAll('command');
    const stdinListeners: ((chunk: Buffer | null) => void)[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data);
      const channel = bytes[0];
      if (channel === STDIN) for (const l of stdinListeners) l(bytes.subarray(1));
      else if (channel === CLOSE && bytes[1] === STDIN) for (const l of stdinListeners) l(null);
    });
    const send = (channel: number, chunk: Buffer | string): void => {
      if (ws.readyState === ws.OPEN) ws.send(frame(channel, chunk));
    };
    const finish = (status: unknown): void => {
      send(STATUS, JSON.stringify(status));
      ws.close(1000);
    };
    if (!runtime) {
      finish(buildStatus(500, 'InternalError', 'this API server has no pod runtime: exec is unavailable'));
      return;
    }
    if (command.length === 0) {
      finish(buildStatus(400, 'BadRequest', 'you must specify at least 1 command'));
      return;
    }
    runtime
      .exec(target.namespace, target.pod, container, command, {
        stdout: (chunk) => send(STDOUT, chunk),
        stderr: (chunk) => send(STDERR, chunk),
        onStdin: (listener) => stdinListeners.push(listener),
      })
      .then(
        (code) => finish(buildExecStatus(code, command)),
        (error: unknown) => finish(toStatus(error)),
      );
  }

  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ExecTarget): void {
      const pod = context.store.get(KEYS.pods, target.namespace, target.pod);
      if (!pod) {
        rejectUpgrade(
          socket,
          404,
          buildStatus(404, 'NotFound', `pods "${target.pod}" not found`, { name: target.pod, kind: 'pods' }),
        );
        return;
      }
      let container: string;
      try {
        container = resolveContainer(pod, target.query.get('container'));
      } catch (error) {
        rejectUpgrade(socket, 400, toStatus(error));
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        run(ws, target, container);
      });
    },
    close(): void {
      for (const ws of sockets) ws.terminate();
      wss.close();
    },
  };
}

export { rejectUpgrade };
