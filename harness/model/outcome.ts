// A run's outcome, and the exit code it gives: the one rule, beside the exit-code table, for a run, a re-rendered
// run (`meshdrill report`) and merged shards alike.

import { EXIT_CODES } from './errors.js';
import type { Outcome } from './journal.js';

/** Worst outcome wins: interrupted > cleanup failed > error > failed/timed out > inconclusive > passed. */
export function worstOutcome(outcomes: Outcome[]): Outcome {
  const rank: Record<Outcome, number> = {
    passed: 0,
    inconclusive: 1,
    failed: 2,
    'timed-out': 2,
    error: 3,
    'cleanup-failed': 4,
    interrupted: 5,
  };
  return outcomes.reduce<Outcome>((worst, o) => (rank[o] > rank[worst] ? o : worst), 'passed');
}

export function exitCodeFor(outcome: Outcome): number {
  switch (outcome) {
    case 'passed':
      return EXIT_CODES.passed;
    case 'inconclusive':
      return EXIT_CODES.inconclusive;
    case 'failed':
    case 'timed-out':
      return EXIT_CODES.assertionFailed;
    case 'error':
      return EXIT_CODES.environment;
    case 'cleanup-failed':
      return EXIT_CODES.cleanupFailed;
    case 'interrupted':
      return EXIT_CODES.interrupted;
  }
}
