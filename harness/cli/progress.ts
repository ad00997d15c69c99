// Live progress from journal events: a status line on a TTY (phase, elapsed, request rate, success ratio), plain
// lines otherwise, JSON lines with --json. Only the CLI prints.

import type { EventOf, JournalEvent } from '../model/index.js';
import { formatDuration } from '../util/duration.js';

export type ProgressMode = 'tty' | 'plain' | 'json';

/** What the status line shows: the drill, its phase and since when, the latest second's load. */
interface Status {
  phase: string;
  phaseStarted: number;
  scenario: string;
  rate: number;
  success: number;
}

/**
 * `interleaved`: drills run side by side (`--parallel`), so each line of a drill starts with its
 * `scenario/variant` to keep the lines of one drill findable.
 */
export function createProgress(
  mode: ProgressMode,
  out: NodeJS.WriteStream = process.stderr,
  options: { interleaved?: boolean } = {},
) {
  const status: Status = { phase: '', phaseStarted: Date.now(), scenario: '', rate: 0, success: Number.NaN };
  let lineShown = false;

  const clearLine = (): void => {
    if (lineShown) out.write('\r\x1b[2K');
    lineShown = false;
  };
  const say = (prefix: string, text: string): void => {
    if (mode === 'tty') clearLine();
    out.write(`${prefix}${text}\n`);
  };
  const showStatus = (): void => {
    if (mode !== 'tty' || !status.phase) return;
    const pct = Number.isNaN(status.success) ? '—' : `${(status.success * 100).toFixed(1)}%`;
    out.write(
      `\r\x1b[2K  ${status.scenario} · ${status.phase} · ${formatDuration(Date.now() - status.phaseStarted)} · ${status.rate} req/s · ${pct} ok`,
    );
    lineShown = true;
  };
  const ticker = mode === 'tty' ? setInterval(showStatus, 500) : undefined;
  ticker?.unref();

  return {
    onEvent(event: JournalEvent): void {
      if (mode === 'json') {
        process.stdout.write(`${JSON.stringify(event)}\n`);
        return;
      }
      updateStatus(status, event);
      const line = describeEvent(event, mode);
      if (line !== undefined) say(options.interleaved ? prefixOf(event) : '', line);
    },
    stop(): void {
      if (ticker) clearInterval(ticker);
      if (mode === 'tty') clearLine();
    },
  };
}

/** Drills side by side: a drill's lines start with its scenario/variant; run-level lines stay bare. */
function prefixOf(event: JournalEvent): string {
  if ('variant' in event && event.variant !== undefined) {
    return `${event.scenario}/${event.variant} │ `;
  }
  return event.type === 'log' && event.scenario ? `${event.scenario} │ ` : '';
}

function updateStatus(status: Status, event: JournalEvent): void {
  switch (event.type) {
    case 'scenario-start':
      status.scenario = `${event.scenario}/${event.variant}`;
      return;
    case 'phase-start':
      status.phase = event.phase;
      status.phaseStarted = event.t;
      return;
    case 'load-sample': {
      const { scheduled, completed, dropped, succeeded } = event.sample;
      status.rate = scheduled;
      status.success = completed + dropped > 0 ? succeeded / (completed + dropped) : Number.NaN;
      return;
    }
    case 'scenario-end':
      status.phase = '';
      return;
    default:
      return;
  }
}

/** The line an event prints, if any (phase starts only in plain mode: the TTY's status line shows them). */
function describeEvent(event: JournalEvent, mode: ProgressMode): string | undefined {
  switch (event.type) {
    case 'scenario-start':
      return `▶ ${event.scenario} — ${event.title} [${event.variant}${event.iteration > 1 ? ` #${event.iteration}` : ''}]`;
    case 'phase-start':
      return mode === 'plain' ? `  · ${event.phase}` : undefined;
    case 'phase-end':
      return event.outcome === 'passed'
        ? undefined
        : `  ✗ ${event.phase} ${event.outcome}${event.error ? `: ${event.error}` : ''}`;
    case 'target-ready':
      return `target ${event.target} ready (${Object.entries(event.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`;
    case 'fault-injected':
      return `  ⚡ ${event.description}`;
    case 'runbook-step':
      return `  $ ${event.title} → exit ${event.exitCode ?? (event.timedOut ? 'timeout' : '?')} (${formatDuration(event.durationMs)})`;
    case 'assertion':
      return describeAssertion(event);
    case 'scenario-end':
      return `  = ${event.outcome} in ${formatDuration(event.durationMs)}`;
    case 'cleanup':
      return event.ok
        ? `cleanup: ${event.restored?.length ? `${event.restored.length} object(s) restored, ` : ''}${event.removed.length} object(s) removed, none left`
        : `CLEANUP FAILED — left behind: ${event.leftover.join(', ') || event.error}`;
    case 'log':
      return `${event.level === 'info' ? '' : `${event.level}: `}${event.message}`;
    default:
      return undefined;
  }
}

function describeAssertion(event: EventOf<'assertion'>): string {
  if (event.informational) return `  ○ ${event.name}: ${event.message}`;
  return `  ${event.passed ? '✓' : event.inconclusive ? '?' : '✗'} ${event.name}: ${event.message}`;
}
