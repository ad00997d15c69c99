// Deployment controller: owns ReplicaSets named <deployment>-<pod-template-hash>, rolls them on template
// change (RollingUpdate or Recreate), scales, and writes the status `kubectl rollout status` reads.

import type { ObjectStore, StoredObject } from '../store/types.js';
import { computeTemplateHash, planRollingUpdate, resolveSurgeAndUnavailable } from './deployment-math.js';
import type { EventRecorder } from './events.js';
import type { Deployment, DeploymentCondition, ReplicaSet } from './kube-types.js';
import { controllerOf, ownerReferenceTo } from './kube-types.js';
import { RESOURCES } from './resources.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const REVISION = 'deployment.kubernetes.io/revision';

function ownedReplicaSets(store: ObjectStore, deployment: StoredObject): ReplicaSet[] {
  const { items } = store.list(RESOURCES.replicasets, { namespace: deployment.metadata.namespace });
  return (items as ReplicaSet[]).filter((rs) => controllerOf(rs)?.uid === deployment.metadata.uid);
}

function replicasOf(rs: ReplicaSet): number {
  return rs.spec.replicas ?? 1;
}

function revisionOf(object: StoredObject): number {
  return Number(object.metadata.annotations?.[REVISION] ?? '0') || 0;
}

function condition(
  previous: DeploymentCondition[] | undefined,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  now: string,
): DeploymentCondition {
  const old = previous?.find((c) => c.type === type);
  const same = old?.status === status;
  return {
    type,
    status,
    lastUpdateTime: old && old.reason === reason && same ? old.lastUpdateTime : now,
    lastTransitionTime: old && same ? old.lastTransitionTime : now,
    reason,
    message,
  };
}

/**
 * Progressing: True while replicas move (lastUpdateTime follows progress); False with
 * ProgressDeadlineExceeded once nothing moved for progressDeadlineSeconds (rollout status then fails).
 */
function progressingCondition(
  deployment: Deployment,
  newRs: ReplicaSet | undefined,
  complete: boolean,
  counts: { replicas: number; updatedReplicas: number; readyReplicas: number; availableReplicas: number },
  now: string,
): DeploymentCondition {
  const old = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  const rsName = newRs?.metadata.name ?? '';
  const make = (
    status: 'True' | 'False',
    reason: string,
    message: string,
    updated: string,
  ): DeploymentCondition => ({
    type: 'Progressing',
    status,
    lastUpdateTime: updated,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
    reason,
    message,
  });
  if (complete) {
    const same = old?.reason === 'NewReplicaSetAvailable';
    return make(
      'True',
      'NewReplicaSetAvailable',
      `ReplicaSet "${rsName}" has successfully progressed.`,
      same ? old.lastUpdateTime : now,
    );
  }
  const s = deployment.status;
  const progressed =
    !old ||
    s?.observedGeneration !== deployment.metadata.generation ||
    s?.replicas !== counts.replicas ||
    s?.updatedReplicas !== counts.updatedReplicas ||
    s?.readyReplicas !== counts.readyReplicas ||
    s?.availableReplicas !== counts.availableReplicas;
  if (progressed) return make('True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, now);
  if (old.reason === 'ProgressDeadlineExceeded') return old;
  const deadlineMs = (deployment.spec.progressDeadlineSeconds ?? 600) * 1000;
  if (Date.parse(now) - Date.parse(old.lastUpdateTime) > deadlineMs) {
    return make(
      'False',
      'ProgressDeadlineExceeded',
      `ReplicaSet "${rsName}" has timed out progressing.`,
      now,
    );
  }
  return old;
}

async function scaleReplicaSet(
  store: ObjectStore,
  events: EventRecorder,
  deployment: Deployment,
  rs: ReplicaSet,
  to: number,
): Promise<void> {
  const from = replicasOf(rs);
  if (from === to) return;
  const annotations = {
    ...(rs.metadata.annotations ?? {}),
    'deployment.kubernetes.io/desired-replicas': String(deployment.spec.replicas ?? 1),
  };
  await store.update(RESOURCES.replicasets, {
    ...rs,
    metadata: { ...rs.metadata, annotations },
    spec: { ...rs.spec, replicas: to },
  });
  events.record(
    deployment,
    'Normal',
    'ScalingReplicaSet',
    `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
    { source: { component: 'deployment-controller' } },
  );
}

/** The ReplicaSet for a template not yet rolled out: it starts empty unless nothing else runs. */
async function createNewReplicaSet(
  store: ObjectStore,
  events: EventRecorder,
  deployment: Deployment,
  hash: string,
  oldRss: ReplicaSet[],
  maxRevision: number,
): Promise<ReplicaSet> {
  const desired = deployment.spec.replicas ?? 1;
  const template = deployment.spec.template;
  const activeOld = oldRss.some((rs) => replicasOf(rs) > 0);
  const initial = !activeOld ? desired : 0;
  const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash };
  const created = (await store.create(RESOURCES.replicasets, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      labels,
      annotations: {
        [REVISION]: String(maxRevision + 1),
        'deployment.kubernetes.io/desired-replicas': String(desired),
        'deployment.kubernetes.io/max-replicas': String(
          desired + resolveSurgeAndUnavailable(desired, deployment.spec.strategy?.rollingUpdate).maxSurge,
        ),
      },
      ownerReferences: [ownerReferenceTo(deployment)],
    },
    spec: {
      replicas: initial,
      minReadySeconds: deployment.spec.minReadySeconds ?? 0,
      selector: {
        ...deployment.spec.selector,
        matchLabels: { ...(deployment.spec.selector.matchLabels ?? {}), 'pod-template-hash': hash },
      },
      template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
    },
  })) as ReplicaSet;
  if (initial > 0) {
    events.record(
      deployment,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${created.metadata.name} from 0 to ${initial}`,
      { source: { component: 'deployment-controller' } },
    );
  }
  return created;
}

/** Rolling back to an older template makes its ReplicaSet the newest revision again. */
async function promoteToNewestRevision(
  store: ObjectStore,
  rs: ReplicaSet,
  maxRevision: number,
): Promise<ReplicaSet> {
  await store.update(RESOURCES.replicasets, {
    ...rs,
    metadata: {
      ...rs.metadata,
      annotations: { ...(rs.metadata.annotations ?? {}), [REVISION]: String(maxRevision + 1) },
    },
  });
  return store.get(RESOURCES.replicasets, rs.metadata.namespace, rs.metadata.name) as ReplicaSet;
}

/** Recreate: scale every old ReplicaSet to zero, and the new one up only once their pods are gone. */
async function rolloutRecreate(
  store: ObjectStore,
  events: EventRecorder,
  deployment: Deployment,
  newRs: ReplicaSet,
  oldRss: ReplicaSet[],
): Promise<void> {
  const oldActive = oldRss.filter((rs) => replicasOf(rs) > 0);
  for (const rs of oldActive) await scaleReplicaSet(store, events, deployment, rs, 0);
  const oldPods = store
    .list(RESOURCES.pods, { namespace: deployment.metadata.namespace })
    .items.filter((p) => oldRss.some((rs) => controllerOf(p)?.uid === rs.metadata.uid));
  if (oldActive.length === 0 && oldPods.length === 0) {
    await scaleReplicaSet(store, events, deployment, newRs, deployment.spec.replicas ?? 1);
  }
}

/** RollingUpdate: one step of the plan within maxSurge and maxUnavailable. */
async function rolloutRolling(
  store: ObjectStore,
  events: EventRecorder,
  deployment: Deployment,
  newRs: ReplicaSet,
  oldRss: ReplicaSet[],
): Promise<void> {
  const desired = deployment.spec.replicas ?? 1;
  const bounds = resolveSurgeAndUnavailable(desired, deployment.spec.strategy?.rollingUpdate);
  const view = (rs: ReplicaSet) => ({
    name: rs.metadata.name,
    replicas: replicasOf(rs),
    available: rs.status?.availableReplicas ?? 0,
    createdAt: rs.metadata.creationTimestamp,
  });
  const plan = planRollingUpdate(desired, bounds, view(newRs), oldRss.map(view));
  await scaleReplicaSet(store, events, deployment, newRs, plan.newReplicas);
  for (const rs of oldRss) {
    const to = plan.oldReplicas.get(rs.metadata.name);
    if (to !== undefined) await scaleReplicaSet(store, events, deployment, rs, to);
  }
}

async function reconcileDeployment(store: ObjectStore, events: EventRecorder, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const deployment = store.get(RESOURCES.deployments, namespace, name) as Deployment | undefined;
  if (!deployment || deployment.metadata.deletionTimestamp) return;
  const hash = computeTemplateHash(deployment.spec.template, deployment.status?.collisionCount ?? 0);
  const owned = ownedReplicaSets(store, deployment);
  let newRs = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  const oldRss = owned.filter((rs) => rs !== newRs);
  const maxRevision = owned.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);

  if (deployment.spec.paused) {
    await writeStatus(store, deployment, newRs, owned);
    return;
  }
  if (!newRs) newRs = await createNewReplicaSet(store, events, deployment, hash, oldRss, maxRevision);
  else if (revisionOf(newRs) < maxRevision) newRs = await promoteToNewestRevision(store, newRs, maxRevision);

  if (deployment.spec.strategy?.type === 'Recreate')
    await rolloutRecreate(store, events, deployment, newRs, oldRss);
  else await rolloutRolling(store, events, deployment, newRs, oldRss);
  await pruneHistory(store, deployment, newRs);
  await writeStatus(store, deployment, newRs, ownedReplicaSets(store, deployment));
}

async function pruneHistory(store: ObjectStore, deployment: Deployment, newRs: ReplicaSet): Promise<void> {
  const limit = deployment.spec.revisionHistoryLimit ?? 10;
  const idle = ownedReplicaSets(store, deployment)
    .filter(
      (rs) =>
        rs.metadata.uid !== newRs.metadata.uid && replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0,
    )
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
    await store.delete(RESOURCES.replicasets, rs.metadata.namespace, rs.metadata.name).catch(() => undefined);
  }
}

/** The status the Deployment's ReplicaSets add up to; conditions keep their times while unchanged. */
function computeStatus(
  store: ObjectStore,
  fresh: Deployment,
  newRs: ReplicaSet | undefined,
  owned: ReplicaSet[],
) {
  const desired = fresh.spec.replicas ?? 1;
  const sum = (f: (rs: ReplicaSet) => number): number => owned.reduce((s, rs) => s + f(rs), 0);
  const replicas = sum((rs) => rs.status?.replicas ?? 0);
  const updatedReplicas = newRs
    ? ((
        store.get(RESOURCES.replicasets, newRs.metadata.namespace, newRs.metadata.name) as
          | ReplicaSet
          | undefined
      )?.status?.replicas ?? 0)
    : 0;
  const readyReplicas = sum((rs) => rs.status?.readyReplicas ?? 0);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas ?? 0);
  const { maxUnavailable } = resolveSurgeAndUnavailable(desired, fresh.spec.strategy?.rollingUpdate);
  const now = new Date().toISOString();
  const previous = fresh.status?.conditions;
  const isAvailable = availableReplicas >= desired - maxUnavailable;
  const complete =
    updatedReplicas === desired &&
    replicas === desired &&
    availableReplicas >= desired &&
    newRs !== undefined;
  const conditions = [
    condition(
      previous,
      'Available',
      isAvailable ? 'True' : 'False',
      isAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      isAvailable ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      now,
    ),
    progressingCondition(
      fresh,
      newRs,
      complete,
      { replicas, updatedReplicas, readyReplicas, availableReplicas },
      now,
    ),
  ];
  return {
    observedGeneration: fresh.metadata.generation ?? 1,
    replicas,
    updatedReplicas,
    readyReplicas,
    availableReplicas,
    unavailableReplicas: Math.max(0, desired - availableReplicas),
    conditions,
    ...(fresh.status?.collisionCount === undefined ? {} : { collisionCount: fresh.status.collisionCount }),
  };
}

/** Status equality that ignores condition timestamps, so a pass that changes nothing writes nothing. */
function comparable(s: unknown): string {
  return JSON.stringify(s, (k, v) => (k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : v));
}

async function writeStatus(
  store: ObjectStore,
  deployment: Deployment,
  newRs: ReplicaSet | undefined,
  owned: ReplicaSet[],
): Promise<void> {
  const fresh = store.get(RESOURCES.deployments, deployment.metadata.namespace, deployment.metadata.name) as
    | Deployment
    | undefined;
  if (!fresh || fresh.metadata.uid !== deployment.metadata.uid) return;
  const status = computeStatus(store, fresh, newRs, owned);
  const revision = newRs?.metadata.annotations?.[REVISION];
  if (revision !== undefined && fresh.metadata.annotations?.[REVISION] !== revision) {
    await store.update(RESOURCES.deployments, {
      ...fresh,
      metadata: {
        ...fresh.metadata,
        annotations: { ...(fresh.metadata.annotations ?? {}), [REVISION]: revision },
      },
    });
  } else if (comparable(status) === comparable(fresh.status)) {
    return;
  }
  const latest = store.get(RESOURCES.deployments, fresh.metadata.namespace, fresh.metadata.name);
  if (!latest) return;
  await store.updateStatus(RESOURCES.deployments, { ...latest, status });
}

export function startDeploymentController(store: ObjectStore, events: EventRecorder): ControllerLoop {
  return startControllerLoop({
    name: 'deployment',
    store,
    sources: [
      { key: RESOURCES.deployments, toKeys: (e) => [objectKey(e.object)] },
      {
        key: RESOURCES.replicasets,
        toKeys: (e) => {
          const owner = controllerOf(e.object);
          return owner?.kind === 'Deployment' ? [`${e.object.metadata.namespace}/${owner.name}`] : [];
        },
      },
      {
        // Recreate waits for old pods to be gone.
        key: RESOURCES.pods,
        toKeys: (e) => {
          if (e.type !== 'DELETED') return [];
          const rsOwner = controllerOf(e.object);
          if (rsOwner?.kind !== 'ReplicaSet') return [];
          const rs = store.get(RESOURCES.replicasets, e.object.metadata.namespace, rsOwner.name);
          const dep = rs ? controllerOf(rs) : undefined;
          return dep?.kind === 'Deployment' ? [`${e.object.metadata.namespace}/${dep.name}`] : [];
        },
      },
    ],
    initialKeys: () => store.list(RESOURCES.deployments).items.map(objectKey),
    // Progress deadlines are time-based: look at every Deployment again each second.
    resyncMs: 1000,
    reconcile: (key) => reconcileDeployment(store, events, key),
  });
}
