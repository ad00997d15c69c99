// Live progress from journal events: a status line on a TTY (phase, elapsed, request rate, success ratio), plain
// lines otherwise, JSON lines with --json. Only the CLI prints.

import type { JournalEvent } from '../model/index.js';
import { formatDuration } from '../util/duration.js';

export type ProgressMode = 'tty' | 'plain' | 'json';

/**
 * `interleaved`: drills run side by side (`--parallel`), so each line of a drill starts with its
 * `scenario/variant` to keep the lines of one drill findable.
 */
export function createProgress(
  mode: ProgressMode,
  out: NodeJS.WriteStream = process.stderr,
  options: { interleaved?: boolean } = {},
) {
  let phase = '';
  let phaseStarted = Date.now();
  let scenario = '';
  let rate = 0;
  let success = Number.NaN;
  let lineShown = false;

  const clearLine = (): void => {
    if (lineShown) out.write('\r\x1b[2K');
    lineShown = false;
  };
  let prefix = '';
  const say = (text: string): void => {
    if (mode === 'tty') clearLine();
    out.write(`${prefix}${text}\n`);
  };
  const status = (): void => {
    if (mode !== 'tty' || !phase) return;
    const pct = Number.isNaN(success) ? '—' : `${(success * 100).toFixed(1)}%`;
    out.write(
      `\r\x1b[2K  ${scenario} · ${phase} · ${formatDuration(Date.now() - phaseStarted)} · ${rate} req/s · ${pct} ok`,
    );
    lineShown = true;
  };
  const ticker = mode === 'tty' ? setInterval(status, 500) : undefined;
  ticker?.unref();

  return {
    onEvent(event: JournalEvent): void {
      if (mode === 'json') {
        process.stdout.write(`${JSON.stringify(event)}\n`);
        return;
      }
      prefix = !options.interleaved
        ? ''
        : 'variant' in event
          ? `${event.scenario}/${event.variant} │ `
          : event.type === 'log' && event.scenario
            ? `${event.scenario} │ `
            : '';
      switch (event.type) {
        case 'scenario-start':
          scenario = `${event.scenario}/${event.variant}`;
          say(
            `▶ ${event.scenario} — ${event.title} [${event.variant}${event.iteration > 1 ? ` #${event.iteration}` : ''}]`,
          );
          break;
        case 'phase-start':
          phase = event.phase;
          phaseStarted = event.t;
          if (mode === 'plain') say(`  · ${event.phase}`);
          break;
        case 'phase-end':
          if (event.outcome !== 'passed')
            say(`  ✗ ${event.phase} ${event.outcome}${event.error ? `: ${event.error}` : ''}`);
          break;
        case 'target-ready':
          say(
            `target ${event.target} ready (${Object.entries(event.versions)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')})`,
          );
          break;
        case 'load-sample':
          rate = event.sample.scheduled;
          success =
            event.sample.completed + event.sample.dropped > 0
              ? event.sample.succeeded / (event.sample.completed + event.sample.dropped)
              : Number.NaN;
          break;
        case 'fault-injected':
          say(`  ⚡ ${event.description}`);
          break;
        case 'runbook-step':
          say(
            `  $ ${event.title} → exit ${event.exitCode ?? (event.timedOut ? 'timeout' : '?')} (${formatDuration(event.durationMs)})`,
          );
          break;
        case 'assertion':
          if (!event.informational)
            say(`  ${event.passed ? '✓' : event.inconclusive ? '?' : '✗'} ${event.name}: ${event.message}`);
          else say(`  ○ ${event.name}: ${event.message}`);
          break;
        case 'scenario-end':
          say(`  = ${event.outcome} in ${formatDuration(event.durationMs)}`);
          phase = '';
          break;
        case 'cleanup':
          say(
            event.ok
              ? `cleanup: ${event.restored?.length ? `${event.restored.length} object(s) restored, ` : ''}${event.removed.length} object(s) removed, none left`
              : `CLEANUP FAILED — left behind: ${event.leftover.join(', ') || event.error}`,
          );
          break;
        case 'log':
          say(`${event.level === 'info' ? '' : `${event.level}: `}${event.message}`);
          break;
        default:
          break;
      }
    },
    stop(): void {
      if (ticker) clearInterval(ticker);
      if (mode === 'tty') clearLine();
    },
  };
}
