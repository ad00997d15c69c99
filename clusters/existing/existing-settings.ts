// The existing target's settings (`--target-opt key=value`), documented in one table that docs/targets.md mirrors.

import { type SettingDoc, SettingsReader } from '../shared/index.js';
import { STACK_SETTING_DOCS, type StackSettings, readStackSettings } from '../shared/index.js';
import type { StackPart } from '../shared/index.js';

export const EXISTING_SETTING_DOCS: readonly SettingDoc[] = [
  {
    key: 'context',
    description: 'the kubeconfig context to use (required); the current context is never changed',
  },
  { key: 'kubeconfig', description: 'kubeconfig file to read', default: '$KUBECONFIG or ~/.kube/config' },
  { key: 'allow-faults', description: 'the context name again, to allow fault injection on it' },
  {
    key: 'prometheus-url',
    description:
      'Prometheus base URL reachable from this host (else a Service is discovered and port-forwarded)',
  },
  {
    key: 'ingress-url',
    description:
      'ingress base URL reachable from this host (else the gateway LoadBalancer, else a port-forward)',
  },
  {
    key: 'alertmanager',
    description:
      "your Alertmanager's base URL (v2 API) reachable from this host: notification signals are judged from its routing (delivery not observed); without it they are not judged",
  },
  {
    key: 'install',
    description: 'comma-separated parts meshdrill may install: istio, prometheus, chaos-mesh, k6-operator',
    default: 'nothing',
  },
  ...STACK_SETTING_DOCS,
];

const PARTS: readonly StackPart[] = ['istio', 'prometheus', 'chaos-mesh', 'k6-operator'];

export interface ExistingSettings {
  context: string;
  kubeconfig?: string;
  allowFaults?: string;
  prometheusUrl?: string;
  ingressUrl?: string;
  alertmanagerUrl?: string;
  install: Set<StackPart>;
  stack: StackSettings;
}

function checkUrl(reader: SettingsReader, key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  reader.problem(`--target-opt ${key}: expected an http(s) URL, got "${value}"`);
  return undefined;
}

export function readExistingSettings(
  settings: Record<string, string>,
  istioVersion: string | undefined,
): ExistingSettings {
  const reader = new SettingsReader('existing', settings, EXISTING_SETTING_DOCS);
  const context = reader.string('context');
  if (!context) {
    reader.problem(
      '--target-opt context: required — name the kubeconfig context to drill (`kubectl config get-contexts`)',
    );
  }
  const install = new Set<StackPart>();
  for (const part of reader.list('install')) {
    if ((PARTS as readonly string[]).includes(part)) install.add(part as StackPart);
    else reader.problem(`--target-opt install: expected parts among ${PARTS.join(', ')}, got "${part}"`);
  }
  const kubeconfig = reader.string('kubeconfig');
  const allowFaults = reader.string('allow-faults');
  const prometheusUrl = checkUrl(reader, 'prometheus-url', reader.string('prometheus-url'));
  const ingressUrl = checkUrl(reader, 'ingress-url', reader.string('ingress-url'));
  const alertmanagerUrl = checkUrl(reader, 'alertmanager', reader.string('alertmanager'));
  const stack = readStackSettings(reader, istioVersion, {
    ingressServiceType: 'LoadBalancer',
    chaosMesh: install.has('chaos-mesh'),
    // Someone else's Prometheus: assume Istio's addon intervals unless told.
    ...(install.has('prometheus') ? {} : { intervalMs: 15_000 }),
  });
  reader.finish();
  return {
    context: context ?? '',
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(allowFaults ? { allowFaults } : {}),
    ...(prometheusUrl ? { prometheusUrl } : {}),
    ...(ingressUrl ? { ingressUrl } : {}),
    ...(alertmanagerUrl ? { alertmanagerUrl } : {}),
    install,
    stack,
  };
}
