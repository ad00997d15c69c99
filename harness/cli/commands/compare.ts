// `meshdrill compare RUN_A RUN_B`: the regression verdict between two runs (nightly mesh-upgrade CI).

import { writeFile } from 'node:fs/promises';
import { invalidInput } from '../../model/errors.js';
import { parseDuration } from '../../util/duration.js';
import {
  compareRuns,
  loadRunResults,
  renderComparisonHtml,
  renderComparisonText,
  type TolerancesInput,
} from '../../../reports/index.js';
import type { CliArgs } from '../args.js';

function parseTolerance(flag: string, text: string): { relative?: number; absoluteMs?: number } {
  if (text.endsWith('%')) {
    const pct = Number(text.slice(0, -1));
    if (Number.isFinite(pct) && pct >= 0) return { relative: pct / 100 };
  }
  const ms = parseDuration(text);
  if (ms !== undefined) return { absoluteMs: ms };
  throw invalidInput(`${flag}: expected a percentage like "20%" or a duration like "5s", got "${text}"`);
}

export async function compareCommand(args: CliArgs): Promise<number> {
  const [a, b] = args.positionals;
  if (!a || !b)
    throw invalidInput('compare: expected two run directories, e.g. meshdrill compare runs/A runs/B');
  const tolerances: TolerancesInput = {
    ...(args.ttdTolerance ? { ttd: parseTolerance('--ttd-tolerance', args.ttdTolerance) } : {}),
    ...(args.ttrTolerance ? { ttr: parseTolerance('--ttr-tolerance', args.ttrTolerance) } : {}),
  } as TolerancesInput;
  const comparison = compareRuns(await loadRunResults(a), await loadRunResults(b), tolerances);
  console.log(renderComparisonText(comparison));
  if (args.html) {
    await writeFile(args.html, renderComparisonHtml(comparison), 'utf8');
    console.log(`comparison written to ${args.html}`);
  }
  return comparison.regression ? 1 : 0;
}
