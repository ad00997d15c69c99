// The kube-proxy stand-in's thread (kube-proxy-thread.ts starts it): the forwarders of createKubeProxy on an event
// loop of their own. Commands come from the harness's main thread as messages; nothing is shared but them.

import { parentPort } from 'node:worker_threads';
import type { NetworkFaultRule } from '../chaos-hooks.js';
import { createKubeProxy, type ListenerSpec } from './kube-proxy.js';

export type KubeProxyCommand =
  | { type: 'sync'; specs: ListenerSpec[] }
  | { type: 'faults'; table: [string, NetworkFaultRule[]][] }
  | { type: 'stop' };

export type KubeProxyReport =
  | { type: 'listeners'; open: string[] }
  | { type: 'listen-error'; spec: ListenerSpec; message: string }
  | { type: 'stopped' };

const port = parentPort;
if (port) {
  const report = (message: KubeProxyReport): void => port.postMessage(message);
  let faults = new Map<string, NetworkFaultRule[]>();
  const proxy = createKubeProxy(
    (spec, error) => {
      report({ type: 'listen-error', spec, message: error.message });
      report({ type: 'listeners', open: proxy.openListeners() });
    },
    (ip) => faults.get(ip) ?? [],
  );
  port.on('message', (command: KubeProxyCommand) => {
    if (command.type === 'sync') {
      proxy.sync(command.specs);
      report({ type: 'listeners', open: proxy.openListeners() });
    } else if (command.type === 'faults') faults = new Map(command.table);
    else
      void proxy.stop().then(() => {
        report({ type: 'stopped' });
        port.close();
      });
  });
}
