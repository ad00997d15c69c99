// Installs meshdrill's Alertmanager in a cluster through the Kubernetes API, waits for it, and reaches its API
// from this host through a port-forward (as Prometheus is reached): the URL notification signals read.

import type { KubeClient } from '../../../harness/kube/index.js';
import type { Host } from '../host.js';
import { type PortForward, startPortForward } from '../port-forward.js';
import { PROMETHEUS_NAMESPACE } from '../prometheus/manifests.js';
import { type WaitOptions, pollUntilReady, waitForDeploymentsAvailable } from '../readiness.js';
import { buildAlertmanagerConfig } from './config.js';
import {
  ALERTMANAGER_NAME,
  MESHDRILL_ALERTMANAGER_SERVICE,
  buildAlertmanagerManifests,
} from './manifests.js';

export async function installAlertmanager(
  kube: KubeClient,
  webhookBaseUrl: string,
  wait: WaitOptions,
): Promise<void> {
  for (const object of buildAlertmanagerManifests(buildAlertmanagerConfig(webhookBaseUrl))) {
    await kube.apply(object);
  }
  await waitForDeploymentsAvailable(kube, PROMETHEUS_NAMESPACE, [ALERTMANAGER_NAME], wait);
}

export async function forwardAlertmanager(
  host: Host,
  kubeconfigPath: string,
  wait: WaitOptions,
  options: { commands?: string[] } = {},
): Promise<PortForward> {
  const service = MESHDRILL_ALERTMANAGER_SERVICE;
  const forward = await startPortForward(
    host,
    {
      kubeconfigPath,
      namespace: service.namespace,
      resource: `svc/${service.name}`,
      remotePort: service.port,
    },
    options.commands ? { commands: options.commands } : {},
  );
  try {
    await pollUntilReady(
      `Alertmanager at ${forward.url}`,
      async () => {
        const response = await fetch(`${forward.url}/-/ready`, { signal: AbortSignal.timeout(5000) });
        return response.ok ? undefined : `/-/ready answered ${response.status}`;
      },
      { ...wait, hint: 'check the Alertmanager pod in meshdrill-system and the port-forward' },
    );
  } catch (error) {
    await forward.stop();
    throw error;
  }
  return forward;
}
