// The proxy's CPU limit, modelled: a proxy whose container has `resources.limits.cpu` gets a CFS quota from the
// kubelet (quota per 100 ms period; clusters/local/kubelet/cpu-quota.ts passes it in MESHDRILL_CPU_MAX, the
// cgroup's `cpu.max` line). Each request the proxy routes costs a fixed CPU time; once a period's quota is spent,
// the worker is throttled until the next period and requests wait, in arrival order. Nothing in Envoy bounds
// that wait by default: the route timeout does (the router answers 504 UT), or the client gives up.
//
// The cost is a documented figure, not this machine's CPU, so the capacity (quota / cost per period) is the same
// on a quiet or a busy machine: Istio's performance page measured 0.5 vCPU per 1000 req/s through an Envoy
// proxy (Istio 1.6.8; 0.35 from 1.12 on, with access logs off) — 0.5 ms of CPU per request. Override with
// MESHDRILL_PROXY_CPU_MS_PER_REQUEST.

/** The cgroup's quota line the runtime hands the container (clusters/local/kubelet/cpu-quota.ts). */
export const CPU_MAX_ENV = 'MESHDRILL_CPU_MAX';
export const CPU_COST_ENV = 'MESHDRILL_PROXY_CPU_MS_PER_REQUEST';
/** CPU time one proxied request costs (Istio's measured 0.5 vCPU per 1000 req/s). */
export const DEFAULT_CPU_MS_PER_REQUEST = 0.5;

export interface CpuLimit {
  /** CPU time the container may use per period (the CFS quota), ms. */
  quotaMs: number;
  /** The CFS period, ms (the kubelet's 100 ms). */
  periodMs: number;
  /** CPU time per request, ms. */
  costMs: number;
}

/**
 * The limit from the environment: `MESHDRILL_CPU_MAX` ("<quota µs> <period µs>"; "max …" or absent: no limit)
 * and the cost per request. Undefined when the container has no CPU limit.
 */
export function cpuLimitFromEnv(env: NodeJS.ProcessEnv): CpuLimit | undefined {
  const line = env[CPU_MAX_ENV]?.trim();
  if (!line) return undefined;
  const [quota, period] = line.split(/\s+/);
  const quotaUs = Number(quota);
  const periodUs = Number(period ?? 100_000);
  if (quota === 'max' || !(quotaUs > 0) || !(periodUs > 0)) return undefined;
  const cost = Number(env[CPU_COST_ENV]);
  return {
    quotaMs: quotaUs / 1000,
    periodMs: periodUs / 1000,
    costMs: Number.isFinite(cost) && cost > 0 ? cost : DEFAULT_CPU_MS_PER_REQUEST,
  };
}

interface Waiter {
  resolve: (result: 'ok' | 'aborted') => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * CFS bandwidth control for the proxy's requests. A request runs when some quota is left in the current period
 * and nobody waits before it; its cost may overrun the quota, and the overrun is paid from the next period (the
 * kernel carries a cgroup's negative runtime forward). Unused quota is not carried (no `cpu.cfs_burst_us`). Time
 * is counted in whole periods of the clock, so a timer that fires late (a busy machine) loses no quota: every
 * period that passed while requests waited is spent on them.
 */
export class CpuBudget {
  private period: number;
  private remaining: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: CpuLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.period = Math.floor(now() / limit.periodMs);
    this.remaining = limit.quotaMs;
  }

  /** Requests per second the quota carries. */
  capacityPerSecond(): number {
    return (this.limit.quotaMs / this.limit.costMs) * (1000 / this.limit.periodMs);
  }

  /** Requests waiting for CPU. */
  waiting(): number {
    return this.queue.length;
  }

  /** Runs a request now ('ok'), or once the quota allows; 'aborted' when `signal` fires first. */
  acquire(signal: AbortSignal): 'ok' | 'aborted' | Promise<'ok' | 'aborted'> {
    if (signal.aborted) return 'aborted';
    this.refill();
    if (this.queue.length === 0 && this.remaining > 0) {
      this.remaining -= this.limit.costMs;
      return 'ok';
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          resolve('aborted');
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** Starts a new period's quota; while requests wait, every elapsed period's quota goes to them. */
  private refill(): void {
    const current = Math.floor(this.now() / this.limit.periodMs);
    const elapsed = current - this.period;
    if (elapsed <= 0) return;
    this.period = current;
    const cap = this.queue.length > 0 ? Number.POSITIVE_INFINITY : this.limit.quotaMs;
    this.remaining = Math.min(cap, this.remaining + elapsed * this.limit.quotaMs);
  }

  private drain(): void {
    this.timer = undefined;
    this.refill();
    while (this.queue.length > 0 && this.remaining > 0) {
      const waiter = this.queue.shift() as Waiter;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.remaining -= this.limit.costMs;
      waiter.resolve('ok');
    }
    // Unused quota of a period without waiters is lost, as the kernel's is.
    if (this.queue.length === 0) this.remaining = Math.min(this.remaining, this.limit.quotaMs);
    this.schedule();
  }

  /** A wake-up at the next period's start while requests wait. */
  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const next = (this.period + 1) * this.limit.periodMs;
    this.timer = setTimeout(() => this.drain(), Math.max(0, next - this.now()) + 1);
    this.timer.unref();
  }

  /** Fails nothing: waiters are left to their own signals (the route timeout), the wake-up is cancelled. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
