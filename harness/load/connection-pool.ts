// Keep-alive connections to one origin, one request at a time on each (undici Clients, pipelining 1), opened
// gradually. undici's Pool opens a new connection for every request that finds all others busy — busy connecting
// included — so an open-model start at 5,000 req/s opened all maxInFlight (256) sockets in its first
// milliseconds, and that burst of connects stalled the generator for over 100 ms: drops in the first second.
// Here at most MAX_CONNECTING connections are being opened at once; a request that finds no idle connection and
// may not open one waits (FIFO) for the first connection to come free or up. It still counts as in flight, and
// its latency still runs from its intended start, so the wait is measured, not hidden.

import { Client, type Dispatcher } from 'undici';

/** Connections opened concurrently at most. */
export const MAX_CONNECTING = 4;

/** What the pool needs from a request: whether it is settled, and a slot for the connection it runs on. */
export interface PooledRequest extends Dispatcher.DispatchHandler {
  readonly done: boolean;
  /** Set by the pool while the request occupies a connection; hand it back with release(). */
  connection: Client | undefined;
}

export interface ConnectionPoolOptions {
  connections: number;
  keepAliveTimeoutMs: number;
}

export class ConnectionPool {
  private readonly all: Client[] = [];
  private readonly idle: Client[] = [];
  private waiting: [Dispatcher.DispatchOptions, PooledRequest][] = [];
  private waitingHead = 0;
  private connecting = 0;
  private closed = false;
  private pumpScheduled = false;
  /**
   * Waiting requests are handed to free connections on a microtask, never from inside undici's callbacks: undici
   * fails every queued request of a connection that could not connect in one loop, and a dispatch into that same
   * Client from the middle of it breaks its invariants (an assertion in undici's onError).
   */
  private readonly pumpSoon = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(
    private readonly origin: string,
    private readonly options: ConnectionPoolOptions,
  ) {}

  /** Connections opened so far. */
  get size(): number {
    return this.all.length;
  }

  dispatch(options: Dispatcher.DispatchOptions, request: PooledRequest): void {
    if (this.peekWaiting() !== undefined) {
      // Others are waiting already: take a place behind them.
      this.waiting.push([options, request]);
      this.pump();
      return;
    }
    const client = this.idle.pop() ?? this.open();
    if (client === undefined) this.waiting.push([options, request]);
    else this.run(client, options, request);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting = [];
    this.waitingHead = 0;
    await Promise.allSettled(this.all.map((client) => client.destroy()));
  }

  private open(): Client | undefined {
    if (this.closed || this.all.length >= this.options.connections || this.connecting >= MAX_CONNECTING) {
      return undefined;
    }
    const client = new Client(this.origin, {
      pipelining: 1,
      keepAliveTimeout: this.options.keepAliveTimeoutMs,
      // The transport's own deadline governs the whole request; undici's per-phase timers must not fire first.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.all.push(client);
    this.connecting += 1;
    let counted = true;
    const settled = (): void => {
      if (!counted) return;
      counted = false;
      this.connecting -= 1;
      client.off('connect', settled);
      client.off('connectionError', settled);
      this.schedulePump();
    };
    client.on('connect', settled);
    client.on('connectionError', settled);
    return client;
  }

  /** The request no longer occupies its connection (answered, failed, timed out or aborted). */
  release(request: PooledRequest): void {
    const client = request.connection;
    if (client === undefined) return;
    request.connection = undefined;
    if (this.closed) return;
    this.idle.push(client);
    if (this.waitingHead < this.waiting.length) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pumpSoon);
  }

  private run(client: Client, options: Dispatcher.DispatchOptions, request: PooledRequest): void {
    request.connection = client;
    client.dispatch(options, request);
  }

  /** Room to open more connections: give them to waiting requests. */
  private pump(): void {
    while (this.peekWaiting() !== undefined) {
      const client = this.idle.pop() ?? this.open();
      if (client === undefined) return;
      const next = this.takeWaiting() as [Dispatcher.DispatchOptions, PooledRequest];
      this.run(client, next[0], next[1]);
    }
  }

  /** The first waiting request still unsettled (one that timed out or was aborted while waiting is skipped). */
  private peekWaiting(): [Dispatcher.DispatchOptions, PooledRequest] | undefined {
    while (this.waitingHead < this.waiting.length) {
      const entry = this.waiting[this.waitingHead] as [Dispatcher.DispatchOptions, PooledRequest];
      if (!entry[1].done) return entry;
      this.waitingHead += 1;
    }
    this.waiting = [];
    this.waitingHead = 0;
    return undefined;
  }

  private takeWaiting(): [Dispatcher.DispatchOptions, PooledRequest] | undefined {
    const entry = this.peekWaiting();
    if (entry === undefined) return undefined;
    this.waitingHead += 1;
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    return entry;
  }
}
