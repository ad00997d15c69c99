// The istio-agent's SDS side: fetch a workload certificate by CSR, rotate it when about half its life is
// left, back off while istiod is away (CSR failures counted), and report the expiry gauge (negative once expired).

import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { certificateNotAfter, createWorkloadCsr } from './workload-csr.js';
import type { ProxyStats } from './stats.js';
import type { WorkloadTls } from './transport.js';

export interface CertSource {
  sign(csrPem: string, ttlMs: number): Promise<{ certChain: string[]; rootCert: string }>;
}

export interface CertAgentOptions {
  identity: string;
  ttlMs: number;
  source: CertSource;
  stats: ProxyStats;
  onChange: () => void;
  /** Back-off after a failed CSR: starts here, doubles, capped at maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The pod's clock (TimeChaos offset included); rotation and the expiry gauges use it. */
  clock?: CertClock;
}

export interface CertClock {
  now(): number;
  onClockChange(listener: () => void): void;
}

const REAL_CLOCK: CertClock = { now: () => Date.now(), onClockChange: () => undefined };

/** A rotation never comes sooner than this after the last one, so a clock far ahead cannot spin CSRs. */
const MIN_ROTATION_MS = 1000;

export interface CertProvider {
  current(): WorkloadTls | undefined;
  notAfter(): Date | undefined;
  stop(): void;
}

function exportExpiry(stats: ProxyStats, notAfter: Date | undefined, now: number = Date.now()): void {
  if (!notAfter) return;
  const seconds = (notAfter.getTime() - now) / 1000;
  stats.certExpiry.set({ resource_name: 'default' }, Math.round(seconds * 1000) / 1000);
  stats.daysUntilCertExpiring.set({}, Math.floor(seconds / 86400));
}

export function startCertAgent(options: CertAgentOptions): CertProvider {
  let current: WorkloadTls | undefined;
  let notAfter: Date | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let backoff = options.initialBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const clock = options.clock ?? REAL_CLOCK;
  let lifeMs = 0;
  options.stats.registry.onCollect(() => exportExpiry(options.stats, notAfter, clock.now()));
  /** Istio rotates when about half the lifetime remains (SECRET_GRACE_PERIOD_RATIO 0.5), with a little jitter. */
  const planRotation = (): void => {
    if (!notAfter) return;
    if (timer) clearTimeout(timer);
    const remaining = notAfter.getTime() - clock.now();
    schedule(Math.max(MIN_ROTATION_MS, remaining - lifeMs * (0.5 + Math.random() * 0.05)));
  };
  // A clock jump (TimeChaos) re-plans the rotation against the new time.
  clock.onClockChange(planRotation);

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void fetchOnce(), Math.max(0, ms));
    timer.unref();
  };

  const fetchOnce = async (): Promise<void> => {
    options.stats.outgoingRequests.inc({ request_type: 'csr' });
    try {
      const { csrPem, keyPem } = await createWorkloadCsr(options.identity);
      const signed = await options.source.sign(csrPem, options.ttlMs);
      const leaf = signed.certChain[0];
      if (!leaf) throw new Error('istiod returned an empty certificate chain');
      current = { certChainPem: signed.certChain.join(''), keyPem, rootPem: signed.rootCert };
      notAfter = certificateNotAfter(leaf);
      backoff = options.initialBackoffMs ?? 1000;
      options.onChange();
      lifeMs = notAfter.getTime() - certificateNotBefore(leaf).getTime();
      planRotation();
    } catch {
      options.stats.failedOutgoingRequests.inc({ request_type: 'csr' });
      schedule(backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  };

  void fetchOnce();
  return {
    current: () => current,
    notAfter: () => notAfter,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Certificates from files (tests, or a pod with mounted certs); re-read when a file changes. */
export function startFileCerts(
  paths: { certChain: string; key: string; root: string },
  stats: ProxyStats,
  onChange: () => void,
  clock: CertClock = REAL_CLOCK,
): CertProvider {
  let current: WorkloadTls | undefined;
  let notAfter: Date | undefined;
  const load = (): void => {
    try {
      const certChainPem = readFileSync(paths.certChain, 'utf8');
      current = {
        certChainPem,
        keyPem: readFileSync(paths.key, 'utf8'),
        rootPem: readFileSync(paths.root, 'utf8'),
      };
      notAfter = certificateNotAfter(certChainPem);
      onChange();
    } catch {
      // Keep the previous material; a half-written file is retried on the next change.
    }
  };
  load();
  stats.registry.onCollect(() => exportExpiry(stats, notAfter, clock.now()));
  const files = [paths.certChain, paths.key, paths.root];
  for (const f of files) watchFile(f, { interval: 200 }, load);
  return {
    current: () => current,
    notAfter: () => notAfter,
    stop: () => {
      for (const f of files) unwatchFile(f, load);
    },
  };
}

function certificateNotBefore(pem: string): Date {
  return new Date(new X509Certificate(pem).validFrom);
}
