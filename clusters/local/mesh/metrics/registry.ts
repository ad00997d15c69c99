// A small Prometheus registry (counters, gauges, histograms with labels) rendering the text exposition format,
// shared by the sidecar (`/stats/prometheus`) and istiod (`/metrics`). Label order is kept as declared.

export type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function formatLabels(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

interface Metric {
  render(): string;
}

abstract class Family<T> implements Metric {
  protected readonly series = new Map<string, { values: string[]; data: T }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly string[],
  ) {}

  protected entry(labels: Labels, create: () => T): T {
    const values = this.labelNames.map((n) => labels[n] ?? '');
    const key = values.join('\u0001');
    let found = this.series.get(key);
    if (!found) {
      found = { values, data: create() };
      this.series.set(key, found);
    }
    return found.data;
  }

  remove(labels: Labels): void {
    this.series.delete(this.labelNames.map((n) => labels[n] ?? '').join('\u0001'));
  }

  clear(): void {
    this.series.clear();
  }

  /** Drops every series carrying all of `labels` (a stats scope going away takes its series with it). */
  removeMatching(labels: Labels): void {
    const at = Object.entries(labels).map(([n, v]) => [this.labelNames.indexOf(n), v] as const);
    for (const [key, { values }] of this.series)
      if (at.every(([i, v]) => i >= 0 && values[i] === v)) this.series.delete(key);
  }

  render(): string {
    if (this.series.size === 0) return '';
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, data } of this.series.values()) lines.push(...this.renderSeries(values, data));
    return `${lines.join('\n')}\n`;
  }

  protected abstract renderSeries(values: string[], data: T): string[];
}

export class Counter extends Family<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, 'counter', labelNames);
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ value: 0 })).value += by;
  }

  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ value: 0 })).value;
  }

  protected renderSeries(values: string[], data: { value: number }): string[] {
    return [`${this.name}${formatLabels(this.labelNames, values)} ${formatNumber(data.value)}`];
  }
}

export class Gauge extends Family<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, 'gauge', labelNames);
  }

  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ value: 0 })).value = value;
  }

  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ value: 0 })).value;
  }

  protected renderSeries(values: string[], data: { value: number }): string[] {
    return [`${this.name}${formatLabels(this.labelNames, values)} ${formatNumber(data.value)}`];
  }
}

export class Histogram extends Family<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    super(name, help, 'histogram', labelNames);
  }

  observe(labels: Labels, value: number): void {
    const data = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= (this.buckets[i] as number)) data.counts[i]! += 1;
    data.sum += value;
    data.count += 1;
  }

  protected renderSeries(values: string[], data: { counts: number[]; sum: number; count: number }): string[] {
    const lines = this.buckets.map(
      (b, i) =>
        `${this.name}_bucket${formatLabels(this.labelNames, values, `le="${b}"`)} ${data.counts[i] ?? 0}`,
    );
    lines.push(`${this.name}_bucket${formatLabels(this.labelNames, values, 'le="+Inf"')} ${data.count}`);
    lines.push(`${this.name}_sum${formatLabels(this.labelNames, values)} ${formatNumber(data.sum)}`);
    lines.push(`${this.name}_count${formatLabels(this.labelNames, values)} ${data.count}`);
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => void)[] = [];

  register<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  // Declaring and registering in one call keeps the metric tables of istiod and the sidecar one line a metric.
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.register(new Histogram(name, help, buckets, labelNames));
  }

  /** Runs before each render, to refresh gauges read from the process. */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  render(filter?: (name: string) => boolean): string {
    for (const c of this.collectors) c();
    return this.metrics
      .filter((m) => !filter || !(m instanceof Family) || filter(m.name))
      .map((m) => m.render())
      .join('');
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
