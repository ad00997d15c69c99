// A CLI-like process for the no-survivor tests: runs the local target through runLocalCluster, starts a few
// pods, writes the PIDs the target owns to a file, then waits for SIGTERM — or, with `crash`, dies of an
// uncaught error as a failing test would.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocalCluster } from '../../../clusters/local/index.js';
import { RESOURCES } from '../../../clusters/local/controllers/index.js';

const [dir, mode] = process.argv.slice(2);
if (!dir) throw new Error('usage: run-cluster-child.ts DIR [crash]');

let reporter: NodeJS.Timeout | undefined;
await runLocalCluster({
  kubeconfigPath: join(dir, 'kubeconfig'),
  workDir: join(dir, 'work'),
  backoffScale: 0.05,
  onReady: ({ target, environment }) => {
    const store = target.cluster?.store;
    if (!store) throw new Error('no cluster after provision');
    const pod = (name: string, image: string, command?: string[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [{ name: 'c', image, ...(command ? { command } : {}) }] },
    });
    void store.create(RESOURCES.pods, pod('echo', 'fortio/fortio'));
    // Grandchildren in the background: a stop must reach them too.
    void store.create(
      RESOURCES.pods,
      pod('forker', 'busybox', ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']),
    );
    const report = (): void => {
      const pids = target.pids();
      writeFileSync(join(dir, 'pids.json'), JSON.stringify({ pids, kubeconfig: environment.kubeconfigPath }));
      if (mode === 'crash' && pids.length >= 5)
        throw new Error('simulated failing test: uncaught error with the target up');
    };
    reporter = setInterval(report, 100);
  },
});
clearInterval(reporter);
