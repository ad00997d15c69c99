// What an existing cluster must already have for drills — Istio (istiod), an ingress gateway, Prometheus and
// Chaos Mesh — checked through the Kubernetes API, each gap named with how to fill it.

import type { KubeClient } from '../../harness/kube/index.js';
import type { KubeObject } from '../../harness/model/index.js';
import { CHAOS_MESH_CRDS } from '../shared/index.js';
import { INGRESS_GATEWAY, ISTIO_NAMESPACE, istiodDeploymentName } from '../shared/index.js';
import { type ServiceRef, discoverPrometheus } from '../shared/index.js';
import { deploymentNotAvailableReason } from '../shared/index.js';

export interface MeshPresence {
  istiod?: KubeObject;
  ingressGateway?: KubeObject;
  prometheus?: ServiceRef;
  chaosMesh: boolean;
  /** One line per missing component, saying how to fix it. */
  missing: string[];
}

export async function checkMeshPresence(
  kube: KubeClient,
  options: {
    prometheusUrl?: string;
    need: { istio: boolean; prometheus: boolean; chaosMesh: boolean };
    /** The revision the cluster runs (`--target-opt revision=`): its istiod is the one that counts. */
    revision?: string;
  },
): Promise<MeshPresence> {
  const missing: string[] = [];
  const presence: MeshPresence = { chaosMesh: false, missing };
  if (options.need.istio) {
    await findIstiod(kube, presence, options.revision);
    await findIngressGateway(kube, presence);
  }
  if (options.need.prometheus && !options.prometheusUrl) await findPrometheus(kube, presence);
  if (options.need.chaosMesh) await findChaosMesh(kube, presence);
  return presence;
}

async function findIstiod(
  kube: KubeClient,
  presence: MeshPresence,
  revision: string | undefined,
): Promise<void> {
  const all = await kube.list('apps/v1', 'Deployment', {
    namespace: ISTIO_NAMESPACE,
    labelSelector: 'app=istiod',
  });
  // During a canary upgrade two revisions run side by side: the one named is the one whose version counts.
  const istiods = revision ? all.filter((d) => d.metadata.name === istiodDeploymentName(revision)) : all;
  if (revision && istiods.length === 0) {
    presence.missing.push(
      `Istio: no istiod of revision ${revision} (Deployment ${istiodDeploymentName(revision)}) in istio-system${all.length > 0 ? `; there are ${all.map((d) => d.metadata.name).join(', ')}` : ''} — pass the revision the cluster runs`,
    );
    return;
  }
  const ready = istiods.find((d) => deploymentNotAvailableReason(d) === undefined);
  if (ready) presence.istiod = ready;
  else if (istiods[0]) {
    presence.missing.push(
      `Istio: ${deploymentNotAvailableReason(istiods[0])} — fix istiod first (\`kubectl -n istio-system get pods\`)`,
    );
  } else {
    presence.missing.push(
      'Istio: no istiod Deployment (label app=istiod) in istio-system — install Istio, or pass --target-opt install=istio',
    );
  }
}

async function findIngressGateway(kube: KubeClient, presence: MeshPresence): Promise<void> {
  const gateway = await kube.get({
    apiVersion: 'v1',
    kind: 'Service',
    namespace: ISTIO_NAMESPACE,
    name: INGRESS_GATEWAY,
  });
  if (gateway) presence.ingressGateway = gateway;
  else {
    presence.missing.push(
      `Istio ingress gateway: no Service ${ISTIO_NAMESPACE}/${INGRESS_GATEWAY} — install one, or pass --target-opt ingress-url=http://HOST:PORT`,
    );
  }
}

async function findPrometheus(kube: KubeClient, presence: MeshPresence): Promise<void> {
  const found = await discoverPrometheus(kube);
  if (found) presence.prometheus = found;
  else {
    presence.missing.push(
      'Prometheus: no Service found (looked for meshdrill-system/meshdrill-prometheus, istio-system/prometheus, ' +
        'and Services labelled app.kubernetes.io/name=prometheus, app=prometheus or operated-prometheus=true) — ' +
        'pass --target-opt prometheus-url=URL, or --target-opt install=prometheus',
    );
  }
}

async function findChaosMesh(kube: KubeClient, presence: MeshPresence): Promise<void> {
  const crds = await Promise.all(
    CHAOS_MESH_CRDS.map((name) =>
      kube.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name }),
    ),
  );
  const controllers = await kube.list('apps/v1', 'Deployment', {
    fieldSelector: 'metadata.name=chaos-controller-manager',
  });
  const absentCrds = CHAOS_MESH_CRDS.filter((_, i) => !crds[i]);
  if (absentCrds.length > 0 || controllers.length === 0) {
    const what = [
      absentCrds.length > 0 ? `CRDs ${absentCrds.join(', ')} absent` : '',
      controllers.length === 0 ? 'no chaos-controller-manager Deployment' : '',
    ].filter(Boolean);
    presence.missing.push(
      `Chaos Mesh: ${what.join('; ')} — install Chaos Mesh, or pass --target-opt install=chaos-mesh`,
    );
  } else presence.chaosMesh = true;
}

/** The ingress URL from a LoadBalancer Service's status, when it has one (pure). */
export function loadBalancerUrlOf(service: KubeObject | undefined): string | undefined {
  const status = service?.status as
    | { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } }
    | undefined;
  const first = status?.loadBalancer?.ingress?.[0];
  const host = first?.ip ?? first?.hostname;
  return host ? `http://${host.includes(':') ? `[${host}]` : host}` : undefined;
}
