// A container instance's log: lines with their timestamps, capped in bytes (oldest dropped), with followers.

export interface LogLine {
  time: string;
  text: string;
}

export class LogBuffer {
  private lines: LogLine[] = [];
  private bytes = 0;
  private partial = { stdout: '', stderr: '' };
  private followers = new Set<{ onData: (chunk: string) => void; onEnd: () => void }>();
  private ended = false;

  constructor(private readonly capBytes: number) {}

  append(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.push(line);
  }

  private push(text: string): void {
    const line = { time: new Date().toISOString(), text };
    this.lines.push(line);
    this.bytes += text.length + 1;
    while (this.bytes > this.capBytes && this.lines.length > 1) {
      const dropped = this.lines.shift();
      this.bytes -= (dropped?.text.length ?? 0) + 1;
    }
    for (const f of this.followers) f.onData(`${text}\n`);
  }

  /** Flushes partial lines and tells followers the instance is gone. */
  end(): void {
    if (this.ended) return;
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s] !== '') {
        const rest = this.partial[s];
        this.partial[s] = '';
        this.push(rest);
      }
    }
    this.ended = true;
    for (const f of this.followers) f.onEnd();
    this.followers.clear();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  read(options: { tailLines?: number; sinceSeconds?: number; timestamps?: boolean } = {}): string {
    let lines = this.lines;
    if (options.sinceSeconds !== undefined) {
      const since = Date.now() - options.sinceSeconds * 1000;
      lines = lines.filter((l) => Date.parse(l.time) >= since);
    }
    if (options.tailLines !== undefined && options.tailLines >= 0)
      lines = lines.slice(Math.max(0, lines.length - options.tailLines));
    return lines.map((l) => (options.timestamps ? `${l.time} ${l.text}\n` : `${l.text}\n`)).join('');
  }

  subscribe(onData: (chunk: string) => void, onEnd: () => void): () => void {
    if (this.ended) {
      onEnd();
      return () => undefined;
    }
    const entry = { onData, onEnd };
    this.followers.add(entry);
    return () => this.followers.delete(entry);
  }
}
