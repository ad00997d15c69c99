// Request deadlines without a timer per request: entries queue in send order, and ONE timer sleeps until the
// earliest deadline, expires what is due, drops what has finished, and sleeps until the next deadline. With one
// timeout per run (the driver's case) send order is deadline order, so the head is always the earliest; the
// timer is re-armed only when it fires or when the queue was empty — never per request.

export interface Deadlined {
  /** performance.now() time at which the entry expires. */
  readonly deadline: number;
  /** Finished entries are dropped when they reach the head. */
  readonly done: boolean;
  expire(): void;
}

export class DeadlineQueue<T extends Deadlined> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  add(entry: T): void {
    this.items.push(entry);
    if (this.timer === undefined && !this.stopped) this.arm(entry.deadline);
  }

  /** Entries not finished yet, oldest first. */
  *pending(): Generator<T> {
    for (let i = this.head; i < this.items.length; i++) {
      const entry = this.items[i];
      if (entry !== undefined && !entry.done) yield entry;
    }
  }

  /** Entries held (finished ones not yet dropped included): bounded by the requests of one timeout window. */
  get size(): number {
    return this.items.length - this.head;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, deadline - this.now()));
    // A pending deadline must not keep the process alive on its own.
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.head < this.items.length) {
      const entry = this.items[this.head] as T;
      if (!entry.done) {
        if (entry.deadline > now) break;
        entry.expire();
      }
      this.items[this.head] = undefined;
      this.head += 1;
    }
    // Compact now and then so the array does not grow for the whole run.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const next = this.items[this.head];
    if (next !== undefined && !this.stopped) this.arm(next.deadline);
  }
}
