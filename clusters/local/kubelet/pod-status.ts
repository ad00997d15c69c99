// Builds a pod's status from its containers' states (pure): conditions, phase, QoS class.

import type {
  Container,
  ContainerStatus,
  PodCondition,
  PodSpec,
  PodStatus,
} from '../controllers/kube-types.js';

export interface ContainerView {
  status: ContainerStatus;
  kind: 'init' | 'sidecar' | 'regular';
  /** Will not run again. */
  finished: boolean;
}

export interface PodStatusInput {
  spec: PodSpec;
  previous: PodStatus | undefined;
  podIP: string;
  hostIP: string;
  startTime: string;
  init: ContainerView[];
  regular: ContainerView[];
  now: string;
}

export function computeQosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all: Container[] = [...spec.containers, ...(spec.initContainers ?? [])];
  const has = all.some(
    (c) =>
      Object.keys(c.resources?.limits ?? {}).length > 0 ||
      Object.keys(c.resources?.requests ?? {}).length > 0,
  );
  if (!has) return 'BestEffort';
  const guaranteed = spec.containers.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? l;
    return ['cpu', 'memory'].every((k) => l[k] !== undefined && String(l[k]) === String(r[k] ?? l[k]));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function condition(
  previous: PodStatus | undefined,
  type: string,
  ok: boolean,
  now: string,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = previous?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
    ...(ok || reason === undefined ? {} : { reason }),
    ...(ok || message === undefined ? {} : { message }),
  };
}

export function isInitialized(init: ContainerView[]): boolean {
  return init.every((c) =>
    c.kind === 'sidecar' ? c.status.started : c.finished && c.status.state.terminated?.exitCode === 0,
  );
}

export function computePodPhase(input: Pick<PodStatusInput, 'init' | 'regular'>): PodStatus['phase'] {
  const failedInit = input.init.some(
    (c) => c.kind === 'init' && c.finished && (c.status.state.terminated?.exitCode ?? 0) !== 0,
  );
  if (failedInit) return 'Failed';
  if (!isInitialized(input.init)) return 'Pending';
  const regular = input.regular;
  if (regular.length > 0 && regular.every((c) => c.finished && c.status.state.terminated)) {
    return regular.every((c) => c.status.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  const ran = regular.some(
    (c) =>
      c.status.state.running ||
      c.status.state.terminated ||
      c.status.restartCount > 0 ||
      c.status.lastState.terminated,
  );
  return ran ? 'Running' : 'Pending';
}

export function computePodStatus(input: PodStatusInput): PodStatus {
  const { now, previous } = input;
  const initialized = isInitialized(input.init);
  const sidecars = input.init.filter((c) => c.kind === 'sidecar');
  const notReady = [...input.regular, ...sidecars].filter((c) => !c.status.ready).map((c) => c.status.name);
  const incompleteInit = input.init
    .filter((c) =>
      c.kind === 'sidecar' ? !c.status.started : !(c.finished && c.status.state.terminated?.exitCode === 0),
    )
    .map((c) => c.status.name);
  const phase = computePodPhase(input);
  const done = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = notReady.length === 0 && !done;
  const unreadyMessage = `containers with unready status: [${notReady.join(' ')}]`;
  const conditions: PodCondition[] = [
    condition(previous, 'PodReadyToStartContainers', !done, now),
    condition(
      previous,
      'Initialized',
      initialized,
      now,
      'ContainersNotInitialized',
      `containers with incomplete status: [${incompleteInit.join(' ')}]`,
    ),
    condition(
      previous,
      'Ready',
      containersReady,
      now,
      done ? 'PodCompleted' : 'ContainersNotReady',
      done ? '' : unreadyMessage,
    ),
    condition(
      previous,
      'ContainersReady',
      containersReady,
      now,
      done ? 'PodCompleted' : 'ContainersNotReady',
      done ? '' : unreadyMessage,
    ),
    condition(previous, 'PodScheduled', true, now),
  ];
  return {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.podIP,
    podIPs: [{ ip: input.podIP }],
    startTime: input.startTime,
    ...(input.init.length > 0 ? { initContainerStatuses: input.init.map((c) => c.status) } : {}),
    containerStatuses: input.regular.map((c) => c.status),
    qosClass: computeQosClass(input.spec),
  };
}
