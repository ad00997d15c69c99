// The imperative edge of istioctl: the cluster through the Kubernetes API (the kubeconfig in KUBECONFIG, as
// real istioctl reads it) and the pods' debug ports at their pod IPs — istiod's :15014 and a proxy's :15000 —
// which stand in for the port-forwards real istioctl opens.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient, loadKubeConfig } from '../../../harness/kube/index.js';
import type { KubeObject } from '../../../harness/model/index.js';
import { asArray, asRecord, asString, asStringMap } from '../mesh/model/read.js';

/** A failure istioctl reports as `Error: …` with exit code 1. */
export class IstioctlError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ClusterAccess {
  kube: KubeClient;
  /** The kubeconfig context's namespace, or `default`. */
  defaultNamespace: string;
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]>;
  getJson(url: string): Promise<unknown>;
}

export function resolveKubeconfig(env: NodeJS.ProcessEnv, flag: string | undefined): string {
  const candidates = flag
    ? [flag]
    : (env.KUBECONFIG ?? '')
        .split(':')
        .filter((p) => p !== '')
        .concat(join(env.HOME ?? homedir(), '.kube', 'config'));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new IstioctlError(
      `no kubeconfig found (tried ${candidates.join(', ') || 'nothing'}); set KUBECONFIG to the target's kubeconfig`,
    );
  }
  return found;
}

export function openCluster(
  kubeconfig: string,
  context: string | undefined,
  timeoutMs = 5000,
): ClusterAccess {
  const kc = loadKubeConfig(kubeconfig, context);
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const kube = createKubeClient(kubeconfig, context);
  return {
    kube,
    defaultNamespace: ctx?.namespace ?? 'default',
    list: (apiVersion, kind, namespace, labelSelector) =>
      kube.list(apiVersion, kind, {
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
      }),
    async getJson(url) {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${text.trim()}`);
      return JSON.parse(text) as unknown;
    },
  };
}

export function podIp(pod: KubeObject): string | undefined {
  return asString(asRecord(pod.status).podIP);
}

export function isRunning(pod: KubeObject): boolean {
  return asString(asRecord(pod.status).phase) === 'Running' && !pod.metadata.deletionTimestamp;
}

/** `NAME.NS` (split at the last dot, as istioctl), `deployment/NAME`, or a bare name in `namespace`. */
export async function resolvePod(access: ClusterAccess, ref: string, namespace: string): Promise<KubeObject> {
  const typed = /^(deployment|deploy|deployments|pod|pods|po)\/(.+)$/.exec(ref);
  if (typed?.[1]?.startsWith('deploy')) {
    const name = typed[2] ?? '';
    const deployment = (await access.list('apps/v1', 'Deployment', namespace)).find(
      (d) => d.metadata.name === name,
    );
    if (!deployment) throw new IstioctlError(`deployments.apps "${name}" not found`);
    const selector = asStringMap(asRecord(asRecord(deployment.spec).selector).matchLabels);
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = (await access.list('v1', 'Pod', namespace, labelSelector)).filter(isRunning);
    const first = pods[0];
    if (!first) throw new IstioctlError(`no running pods for deployment ${name} in namespace ${namespace}`);
    return first;
  }
  const bare = typed ? (typed[2] ?? '') : ref;
  const dot = bare.lastIndexOf('.');
  const [name, ns] = dot < 0 ? [bare, namespace] : [bare.slice(0, dot), bare.slice(dot + 1)];
  const pod = (await access.list('v1', 'Pod', ns)).find((p) => p.metadata.name === name);
  if (!pod) throw new IstioctlError(`pods "${name}" not found`);
  return pod;
}

/** Running istiod pods of the control-plane namespace; none is the outage istioctl reports. */
export async function runningIstiods(
  access: ClusterAccess,
  istioNamespace: string,
  revision?: string,
): Promise<KubeObject[]> {
  const selector = revision ? `app=istiod,istio.io/rev=${revision}` : 'app=istiod';
  const pods = (await access.list('v1', 'Pod', istioNamespace, selector)).filter(isRunning);
  if (pods.length === 0) throw new IstioctlError(`no running Istio pods in "${istioNamespace}"`);
  return pods;
}

export function containerImageTag(pod: KubeObject, container: string): string | undefined {
  const spec = asRecord(pod.spec);
  const all = [...asArray(spec.containers), ...asArray(spec.initContainers)].map(asRecord);
  const image = asString(all.find((c) => c.name === container)?.image);
  const tag = image?.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : undefined;
  return tag && !tag.includes('/') ? tag : undefined;
}
