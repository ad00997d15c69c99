// Phases as setup/teardown pairs (STYLE.md §4): a phase's teardown is registered BEFORE its setup runs, so a
// setup that fails halfway (or times out, or is interrupted) is still undone. Teardowns always run, in reverse
// order, under their own deadline — never skipped after a failure (unlike Chaos Toolkit's default rollbacks).

import { setMaxListeners } from 'node:events';
import type { ExecutionScope, Outcome, PhaseName } from '../model/index.js';
import type { Journal } from '../journal/index.js';
import { abortableSleep } from '../util/abortable-sleep.js';

/** Thrown inside a phase to end the scenario with a verdict (e.g. steady state did not hold). */
export class StopScenario extends Error {
  constructor(
    message: string,
    readonly outcome: Extract<Outcome, 'failed'> = 'failed',
  ) {
    super(message);
    this.name = 'StopScenario';
  }
}

/** Listeners a signal shared by a phase's (or a run's) concurrent work may hold before Node warns of a leak. */
export const SHARED_SIGNAL_LISTENERS = 256;

export class PhaseTimeout extends Error {
  constructor(
    readonly phase: PhaseName,
    readonly timeoutMs: number,
  ) {
    super(`phase "${phase}" did not finish within its deadline of ${timeoutMs} ms (raise timeouts.${phase})`);
    this.name = 'PhaseTimeout';
  }
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted by a signal');
    this.name = 'Interrupted';
  }
}

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof StopScenario) return error.outcome;
  if (error instanceof PhaseTimeout) return 'timed-out';
  if (error instanceof Interrupted) return 'interrupted';
  return 'error';
}

/** Resolves after ms, or rejects with Interrupted when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal, () => new Interrupted());
}

interface Teardown {
  name: string;
  run: () => Promise<void>;
}

/** The execution whose phases a runner journals. */
export type PhaseScope = ExecutionScope;

export class PhaseRunner {
  private readonly teardowns: Teardown[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly scope: PhaseScope,
    /** Aborted on SIGINT/SIGTERM. */
    private readonly interrupt: AbortSignal,
  ) {}

  /** Registers an undo step; it runs at cleanup even if the matching setup throws or never finishes. */
  onCleanup(name: string, run: () => Promise<void>): void {
    this.teardowns.push({ name, run });
  }

  /**
   * Runs one phase under its deadline. `body` gets a signal that aborts on the deadline or an interrupt and
   * must honour it; a body that ignores it is abandoned at the deadline anyway.
   */
  async phase<R>(phase: PhaseName, timeoutMs: number, body: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const started = Date.now();
    this.journal.append({ type: 'phase-start', ...this.scope, phase, deadlineMs: timeoutMs });
    const controller = new AbortController();
    // Every concurrent poll of the phase's conditions listens to this signal while its request is in flight;
    // with a dozen signals that passes Node's default of 10 listeners, whose leak warning would be wrong here.
    setMaxListeners(SHARED_SIGNAL_LISTENERS, controller.signal);
    let timedOut = false;
    const onInterrupt = (): void => controller.abort();
    this.interrupt.addEventListener('abort', onInterrupt, { once: true });
    if (this.interrupt.aborted) controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
        reject(new PhaseTimeout(phase, timeoutMs));
      }, timeoutMs);
      controller.signal.addEventListener('abort', () => {
        if (!timedOut) reject(new Interrupted());
      });
    });
    deadline.catch(() => undefined);
    try {
      const result = await Promise.race([body(controller.signal), deadline]);
      this.journal.append({
        type: 'phase-end',
        ...this.scope,
        phase,
        outcome: 'passed',
        durationMs: Date.now() - started,
      });
      return result;
    } catch (caught) {
      const error = timedOut
        ? new PhaseTimeout(phase, timeoutMs)
        : this.interrupt.aborted
          ? new Interrupted()
          : caught;
      this.journal.append({
        type: 'phase-end',
        ...this.scope,
        phase,
        outcome: outcomeOf(error),
        durationMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      clearTimeout(timer);
      this.interrupt.removeEventListener('abort', onInterrupt);
    }
  }

  /** Runs every registered teardown, newest first; each failure is recorded and the rest still run. */
  async cleanup(timeoutMs: number): Promise<{ ok: boolean; errors: string[] }> {
    const started = Date.now();
    this.journal.append({ type: 'phase-start', ...this.scope, phase: 'cleanup', deadlineMs: timeoutMs });
    const errors: string[] = [];
    const deadline = started + timeoutMs;
    while (this.teardowns.length > 0) {
      const teardown = this.teardowns.pop() as Teardown;
      const remaining = Math.max(1000, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          teardown.run(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not finish within ${remaining} ms`)), remaining);
          }),
        ]);
      } catch (error) {
        errors.push(`${teardown.name}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    this.journal.append({
      type: 'phase-end',
      ...this.scope,
      phase: 'cleanup',
      outcome: errors.length === 0 ? 'passed' : 'cleanup-failed',
      durationMs: Date.now() - started,
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    });
    return { ok: errors.length === 0, errors };
  }
}
