// meshdrill's Alertmanager in a cluster (kind) as pure manifests: one replica beside Prometheus in
// meshdrill-system, the routing of config.ts (the same as the local target's), every notification to meshdrill's
// webhook receiver on the host.

import type { KubeObject } from '../../../harness/model/index.js';
import { CONFIG_CHECKSUM_ANNOTATION, PROMETHEUS_NAMESPACE, configChecksum } from '../prometheus/manifests.js';

export const ALERTMANAGER_NAME = 'meshdrill-alertmanager';
export const ALERTMANAGER_PORT = 9093;
/** Pinned so drills compare like with like; 0.28 reads the config.ts routing as the local target's 0.25 does. */
export const ALERTMANAGER_IMAGE = 'quay.io/prometheus/alertmanager:v0.28.1';

/** Where Prometheus in the cluster sends alerts (its alerting.alertmanagers target). */
export const ALERTMANAGER_SERVICE_ADDRESS = `${ALERTMANAGER_NAME}.${PROMETHEUS_NAMESPACE}.svc:${ALERTMANAGER_PORT}`;

export const MESHDRILL_ALERTMANAGER_SERVICE = {
  namespace: PROMETHEUS_NAMESPACE,
  name: ALERTMANAGER_NAME,
  port: ALERTMANAGER_PORT,
} as const;

const LABELS = { 'app.kubernetes.io/name': ALERTMANAGER_NAME, 'app.kubernetes.io/managed-by': 'meshdrill' };

const metadataOf = (name: string): KubeObject['metadata'] => ({
  name,
  namespace: PROMETHEUS_NAMESPACE,
  labels: { ...LABELS },
});

/** The ConfigMap, Deployment and Service (the namespace is Prometheus's, applied before). */
export function buildAlertmanagerManifests(configYaml: string, image = ALERTMANAGER_IMAGE): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadataOf(`${ALERTMANAGER_NAME}-config`),
      data: { 'alertmanager.yml': configYaml },
    },
    buildDeployment(configYaml, image),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadataOf(ALERTMANAGER_NAME),
      spec: {
        selector: { 'app.kubernetes.io/name': ALERTMANAGER_NAME },
        ports: [{ name: 'http', port: ALERTMANAGER_PORT, targetPort: ALERTMANAGER_PORT }],
      },
    },
  ];
}

function buildDeployment(configYaml: string, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadataOf(ALERTMANAGER_NAME),
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': ALERTMANAGER_NAME } },
      template: {
        metadata: {
          labels: { ...LABELS, 'sidecar.istio.io/inject': 'false' },
          // A reused cluster whose receiver moved (a new port each run) must not route to the old one while the
          // mounted ConfigMap catches up: a new configuration rolls the pod.
          annotations: { [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(configYaml, {}) },
        },
        spec: {
          containers: [
            {
              name: 'alertmanager',
              image,
              args: [
                '--config.file=/etc/alertmanager/alertmanager.yml',
                '--storage.path=/alertmanager',
                // One replica, no gossip: clustering would wait for peers and delay the first notification.
                '--cluster.listen-address=',
              ],
              ports: [{ name: 'http', containerPort: ALERTMANAGER_PORT }],
              readinessProbe: { httpGet: { path: '/-/ready', port: ALERTMANAGER_PORT }, periodSeconds: 5 },
              volumeMounts: [
                { name: 'config', mountPath: '/etc/alertmanager' },
                { name: 'data', mountPath: '/alertmanager' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: `${ALERTMANAGER_NAME}-config` } },
            { name: 'data', emptyDir: {} },
          ],
        },
      },
    },
  };
}
