// Test fixture: an API server on a memory store with a fake pod runtime, a kubeconfig, and a `kubectl` runner
// that gives every call its own KUBECACHEDIR (the dispatcher and discovery caches are per server URL).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecResult, run } from '../../../harness/exec/index.js';
import { type ApiServer, startApiServer, writeKubeconfig } from '../../../clusters/local/apiserver/index.js';
import {
  type ExecIo,
  type LogFollow,
  type LogOptions,
  type PodMetrics,
  type PodRuntime,
  PodRuntimeError,
} from '../../../clusters/local/pod-runtime.js';
import {
  createMemoryStore,
  type MemoryStore,
  type MemoryStoreOptions,
} from '../../../clusters/local/store/index.js';

export const KUBECTL = '/usr/bin/kubectl';

/** A PodRuntime with canned logs per container and a scripted exec, recording what it was asked. */
export class FakeRuntime implements PodRuntime {
  readonly logs = new Map<string, { current: string[]; previous?: string[] }>();
  readonly execCalls: { namespace: string; pod: string; container: string; command: string[] }[] = [];
  readonly logCalls: { pod: string; options: LogOptions }[] = [];
  metrics: PodMetrics[] = [];
  private readonly followers = new Set<(chunk: string) => void>();

  setLog(namespace: string, pod: string, container: string, current: string[], previous?: string[]): void {
    this.logs.set(`${namespace}/${pod}/${container}`, { current, ...(previous ? { previous } : {}) });
  }

  private lines(namespace: string, pod: string, options: LogOptions): string[] {
    const entry = this.logs.get(`${namespace}/${pod}/${options.container}`);
    if (!entry)
      throw new PodRuntimeError(404, `no logs for container ${options.container} in pod ${namespace}/${pod}`);
    if (options.previous && !entry.previous) {
      throw new PodRuntimeError(
        400,
        `previous terminated container "${options.container}" in pod "${pod}" not found`,
      );
    }
    const all = options.previous ? (entry.previous ?? []) : entry.current;
    return options.tailLines === undefined ? all : all.slice(Math.max(0, all.length - options.tailLines));
  }

  readLog(namespace: string, pod: string, options: LogOptions): string {
    this.logCalls.push({ pod, options });
    return this.lines(namespace, pod, options)
      .map((l) => `${l}\n`)
      .join('');
  }

  followLog(namespace: string, pod: string, options: LogOptions): LogFollow {
    const initial = this.readLog(namespace, pod, options);
    return {
      initial,
      subscribe: (onData, onEnd) => {
        this.followers.add(onData);
        const timer = setTimeout(() => {
          onData('followed line\n');
          onEnd();
        }, 50);
        return () => {
          clearTimeout(timer);
          this.followers.delete(onData);
        };
      },
    };
  }

  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    io: ExecIo,
  ): Promise<number> {
    this.execCalls.push({ namespace, pod, container, command });
    // A tiny shell: `echo …` prints, `fail N` exits N with a message on stderr.
    if (command[0] === 'echo') {
      io.stdout(Buffer.from(`${command.slice(1).join(' ')}\n`));
      return 0;
    }
    if (command[0] === 'fail') {
      io.stderr(Buffer.from('failing on purpose\n'));
      return Number(command[1] ?? 1);
    }
    io.stderr(Buffer.from(`${command[0] ?? ''}: not found\n`));
    return 127;
  }

  podMetrics(): PodMetrics[] {
    return this.metrics;
  }
}

export interface Fixture {
  store: MemoryStore;
  runtime: FakeRuntime;
  server: ApiServer;
  dir: string;
  kubeconfig: string;
  token: string;
  /** `METHOD url` of every authenticated request, in order. */
  requests: string[];
  kubectl(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<ExecResult>;
  stop(): Promise<void>;
}

export async function startFixture(storeOptions: MemoryStoreOptions = {}): Promise<Fixture> {
  const store = createMemoryStore(storeOptions);
  const runtime = new FakeRuntime();
  const token = `token-${Math.random().toString(36).slice(2)}`;
  const requests: string[] = [];
  const server = await startApiServer({
    store,
    runtime,
    token,
    onRequest: (method, url) => requests.push(`${method} ${url}`),
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-apiserver-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, { url: server.url, token });
  let calls = 0;
  return {
    store,
    runtime,
    server,
    dir,
    kubeconfig,
    token,
    requests,
    async kubectl(args, options = {}) {
      calls += 1;
      const cache = join(dir, `cache-${calls}`);
      return run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], {
        env: { KUBECACHEDIR: cache, KUBECONFIG: kubeconfig, HOME: dir, ...options.env },
        ...(options.input !== undefined ? { input: options.input } : {}),
        timeoutMs: 20_000,
      });
    },
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Fails with kubectl's own output when it did not exit 0. */
export function expectSuccess(result: ExecResult): string {
  if (result.exitCode !== 0) {
    throw new Error(
      `${result.command} exited ${String(result.exitCode)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return result.stdout;
}

/** One HTTPS request to the server (self-signed: verification off), for what kubectl cannot show. */
export async function rawRequest(
  url: string,
  options: { method?: string; token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        rejectUnauthorized: false,
        headers: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
