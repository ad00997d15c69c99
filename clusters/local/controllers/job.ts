// Job controller: runs pods until `completions` succeed (at most `parallelism` at once), gives up after
// `backoffLimit` failures, and writes the Job status and its Complete/Failed conditions.

import type { ObjectStore } from '../store/types.js';
import type { EventRecorder } from './events.js';
import type { Job, Pod } from './kube-types.js';
import { controllerOf, isPodTerminating, ownerReferenceTo } from './kube-types.js';
import { RESOURCES } from './resources.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const SOURCE = { component: 'job-controller' };

function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0);
}

async function reconcileJob(store: ObjectStore, events: EventRecorder, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const job = store.get(RESOURCES.jobs, namespace, name) as Job | undefined;
  if (!job || job.metadata.deletionTimestamp) return;
  const finished = job.status?.conditions?.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  const pods = (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter(
    (p) => controllerOf(p)?.uid === job.metadata.uid,
  );
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed').length;
  // With restartPolicy OnFailure, container restarts count against the backoff limit too.
  const failed =
    failedPods + pods.reduce((s, p) => s + (p.spec.restartPolicy === 'OnFailure' ? restartsOf(p) : 0), 0);
  const active = pods.filter(
    (p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !isPodTerminating(p),
  );
  const completions = job.spec.completions ?? 1;
  const parallelism = job.spec.parallelism ?? 1;
  const backoffLimit = job.spec.backoffLimit ?? 6;
  const now = new Date().toISOString();
  const conditions = [...(job.status?.conditions ?? [])];
  let completionTime = job.status?.completionTime;

  if (!finished) {
    if (succeeded >= completions) {
      conditions.push(
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
        {
          type: 'Complete',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
      );
      completionTime = now;
      events.record(job, 'Normal', 'Completed', 'Job completed', { source: SOURCE });
    } else if (failed > backoffLimit) {
      conditions.push(
        {
          type: 'FailureTarget',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
        {
          type: 'Failed',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      );
      for (const p of active)
        await store.delete(RESOURCES.pods, namespace, p.metadata.name).catch(() => undefined);
      events.record(job, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', {
        source: SOURCE,
      });
    } else {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      const template = job.spec.template;
      for (let i = 0; i < want; i++) {
        const labels = {
          ...(template.metadata?.labels ?? {}),
          'batch.kubernetes.io/controller-uid': job.metadata.uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': job.metadata.uid,
          'job-name': name,
        };
        try {
          const pod = await store.create(RESOURCES.pods, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              generateName: `${name}-`,
              namespace,
              labels,
              ...(template.metadata?.annotations
                ? { annotations: { ...template.metadata.annotations } }
                : {}),
              ownerReferences: [ownerReferenceTo(job)],
            },
            spec: structuredClone(template.spec),
          });
          events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, {
            source: SOURCE,
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          events.record(job, 'Warning', 'FailedCreate', `Error creating: ${message}`, { source: SOURCE });
          throw error;
        }
      }
    }
  }
  const fresh = store.get(RESOURCES.jobs, namespace, name);
  if (!fresh) return;
  const stillActive = (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter(
    (p) =>
      controllerOf(p)?.uid === job.metadata.uid &&
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed' &&
      !isPodTerminating(p),
  );
  const status = {
    active: stillActive.length,
    succeeded,
    failed,
    ready: stillActive.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length,
    startTime: job.status?.startTime ?? now,
    ...(completionTime ? { completionTime } : {}),
    ...(conditions.length > 0 ? { conditions } : {}),
  };
  if (JSON.stringify(status) !== JSON.stringify(fresh.status)) {
    await store.updateStatus(RESOURCES.jobs, { ...fresh, status });
  }
}

export function startJobController(store: ObjectStore, events: EventRecorder): ControllerLoop {
  return startControllerLoop({
    name: 'job',
    store,
    sources: [
      { key: RESOURCES.jobs, toKeys: (e) => [objectKey(e.object)] },
      {
        key: RESOURCES.pods,
        toKeys: (e) => {
          const owner = controllerOf(e.object);
          return owner?.kind === 'Job' ? [`${e.object.metadata.namespace}/${owner.name}`] : [];
        },
      },
    ],
    initialKeys: () => store.list(RESOURCES.jobs).items.map(objectKey),
    reconcile: (key) => reconcileJob(store, events, key),
  });
}
