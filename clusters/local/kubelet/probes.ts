// Probe actions as the kubelet runs them (httpGet, tcpSocket, exec), with its failure messages.

import { request } from 'node:http';
import { connect } from 'node:net';
import type { Container, IntOrString, Probe } from '../controllers/kube-types.js';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export interface ProbeContext {
  podIP: string;
  container: Container;
  exec(
    command: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; output: string; timedOut: boolean }>;
}

export function resolveProbePort(port: IntOrString, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function httpProbe(
  probe: NonNullable<Probe['httpGet']>,
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<ProbeResult> {
  const port = resolveProbePort(probe.port, ctx.container);
  const host = probe.host ?? ctx.podIP;
  const path = probe.path ?? '/';
  const url = `${(probe.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${path}`;
  if (port === undefined)
    return Promise.resolve({ ok: false, message: `unable to resolve port "${probe.port}"` });
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
    for (const h of probe.httpHeaders ?? []) headers[h.name] = h.value;
    const req = request({ host, port, path, method: 'GET', headers, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(
        code >= 200 && code < 400
          ? { ok: true, message: '' }
          : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
      );
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({
        ok: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'ECONNREFUSED'
          ? 'connect: connection refused'
          : error.code === 'ECONNRESET'
            ? 'read: connection reset by peer'
            : error.message;
      resolve({ ok: false, message: `Get "${url}": dial tcp ${host}:${port}: ${reason}` });
    });
    req.end();
  });
}

function tcpProbe(
  probe: NonNullable<Probe['tcpSocket']>,
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<ProbeResult> {
  const port = resolveProbePort(probe.port, ctx.container);
  const host = probe.host ?? ctx.podIP;
  if (port === undefined)
    return Promise.resolve({ ok: false, message: `unable to resolve port "${probe.port}"` });
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      resolve({
        ok: false,
        message: `dial tcp ${host}:${port}: ${error.code === 'ECONNREFUSED' ? 'connect: connection refused' : error.message}`,
      });
    });
  });
}

export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) return httpProbe(probe.httpGet, ctx, timeoutMs);
  if (probe.tcpSocket) return tcpProbe(probe.tcpSocket, ctx, timeoutMs);
  if (probe.exec) {
    const result = await ctx.exec(probe.exec.command ?? [], timeoutMs);
    if (result.timedOut)
      return {
        ok: false,
        message: `command timed out: "${(probe.exec.command ?? []).join(' ')}" timed out after ${probe.timeoutSeconds ?? 1}s`,
      };
    return result.exitCode === 0 ? { ok: true, message: '' } : { ok: false, message: result.output.trim() };
  }
  return { ok: false, message: 'probe has no handler (httpGet, tcpSocket or exec)' };
}
