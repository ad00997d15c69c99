// The kube-proxy stand-in on a thread of its own. On a real node kube-proxy programs the kernel, and traffic to a
// Service never waits on anything else the node runs. Here the forwarders are Node sockets: on the harness's main
// thread — beside the API server, controllers, kubelets and the engine of every drill — a stall there held every
// request through a nodePort or ClusterIP, and the load generator measured it as the mesh's latency. On their own
// event loop they keep forwarding whatever the main thread does.

import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../../harness/util/worker-thread.js';
import type { NetworkFaultRule } from '../chaos-hooks.js';
import type { KubeProxy, ListenerSpec } from './kube-proxy.js';
import type { KubeProxyCommand, KubeProxyReport } from './kube-proxy-worker.js';
import type { PodFaultTable } from './pod-faults.js';

/** A thread that died is started again with the last listeners and faults, up to this many times. */
const MAX_RESTARTS = 5;
/** How long a stop waits for the forwarders to close before the thread is terminated. */
const STOP_GRACE_MS = 5000;

export interface KubeProxyThread extends KubeProxy {
  setFaults(table: PodFaultTable): void;
}

export function startKubeProxyThread(
  onError: (spec: ListenerSpec, error: Error) => void = () => undefined,
): KubeProxyThread {
  let specs: ListenerSpec[] = [];
  let faults: [string, NetworkFaultRule[]][] = [];
  let open: string[] = [];
  let restarts = 0;
  let stopping: Promise<void> | undefined;
  let worker = start();

  function start(): Worker {
    const w = startWorkerThread(import.meta.url, 'kube-proxy-worker');
    // The cluster's owner decides how long it lives (stop()); the thread must never be what keeps meshdrill running.
    w.unref();
    w.on('message', (report: KubeProxyReport) => {
      if (report.type === 'listeners') open = report.open;
      else if (report.type === 'listen-error') onError(report.spec, new Error(report.message));
    });
    w.on('error', (error) => {
      open = [];
      if (stopping || restarts >= MAX_RESTARTS) {
        onError({ host: '*', port: 0, service: 'kube-proxy', backends: [] }, error);
        return;
      }
      restarts += 1;
      worker = start();
    });
    send(w, { type: 'faults', table: faults });
    send(w, { type: 'sync', specs });
    return w;
  }

  function send(w: Worker, command: KubeProxyCommand): void {
    w.postMessage(command);
  }

  return {
    sync(next): void {
      specs = next;
      send(worker, { type: 'sync', specs });
    },
    setFaults(table): void {
      faults = [...table];
      send(worker, { type: 'faults', table: faults });
    },
    openListeners: () => [...open],
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        const w = worker;
        const done = (): void => {
          clearTimeout(grace);
          open = [];
          void w.terminate().then(() => resolve());
        };
        const grace = setTimeout(done, STOP_GRACE_MS);
        // Whatever the thread does, a stop ends: a teardown waits on it.
        setTimeout(resolve, STOP_GRACE_MS + 1000).unref();
        w.once('exit', () => {
          clearTimeout(grace);
          resolve();
        });
        w.on('message', (report: KubeProxyReport) => {
          if (report.type === 'stopped') done();
        });
        send(w, { type: 'stop' });
      });
      return stopping;
    },
  };
}
