// `meshdrill cleanup`: for runs that were killed before their own cleanup — delete every object carrying the
// run-id label (or any meshdrill run's, with --all) and prove none is left.

import { deleteRunObjects, createKubeClient } from '../../kube/index.js';
import { invalidInput } from '../../model/errors.js';
import type { CliArgs } from '../args.js';

export async function cleanupCommand(args: CliArgs): Promise<number> {
  const kubeconfig = args.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    throw invalidInput('cleanup: expected --kubeconfig FILE (or KUBECONFIG) naming the cluster to clean');
  }
  if (!args.runId && !args.all) {
    throw invalidInput('cleanup: expected --run-id ID (see runs/<run-id>/) or --all for every meshdrill run');
  }
  const kube = createKubeClient(kubeconfig, args.context);
  const result = await deleteRunObjects(kube, args.all ? undefined : args.runId, { timeoutMs: 120_000 });
  for (const name of result.removed) console.log(`deleted ${name}`);
  if (result.leftover.length > 0) {
    console.error(`CLEANUP FAILED — still present: ${result.leftover.join(', ')}`);
    return 4;
  }
  console.log(`${result.removed.length} object(s) removed; nothing carrying the label is left`);
  return 0;
}
