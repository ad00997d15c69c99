// Job controller: runs pods until `completions` succeed (at most `parallelism` at once), gives up after
// `backoffLimit` failures, and writes the Job status and its Complete/Failed conditions.

import type { ObjectStore } from '../store/types.js';
import type { EventRecorder } from './events.js';
import type { Job, JobStatus, Pod } from './kube-types.js';
import { controllerOf, isPodTerminating, ownerReferenceTo } from './kube-types.js';
import { RESOURCES } from './resources.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const SOURCE = { component: 'job-controller' };

function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0);
}

type JobCondition = NonNullable<JobStatus['conditions']>[number];

/** What one reconcile pass works on: the Job, its pods' tallies and the conditions it is building. */
interface JobPass {
  store: ObjectStore;
  events: EventRecorder;
  job: Job;
  namespace: string | undefined;
  name: string;
  now: string;
  conditions: JobCondition[];
  completionTime: string | undefined;
}

/** Finished: Complete or Failed is True, so the Job makes no more pods. */
function isFinished(job: Job): boolean {
  return (
    job.status?.conditions?.some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    ) ?? false
  );
}

function isActivePod(p: Pod): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !isPodTerminating(p);
}

function podsOfJob(store: ObjectStore, job: Job, namespace: string | undefined): Pod[] {
  return (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter(
    (p) => controllerOf(p)?.uid === job.metadata.uid,
  );
}

/** The pod counts the Job's status reports and its decisions rest on. */
function countPods(pods: Pod[]): { succeeded: number; failed: number; active: Pod[] } {
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed').length;
  // With restartPolicy OnFailure, container restarts count against the backoff limit too.
  const failed =
    failedPods + pods.reduce((s, p) => s + (p.spec.restartPolicy === 'OnFailure' ? restartsOf(p) : 0), 0);
  return { succeeded, failed, active: pods.filter(isActivePod) };
}

/** Upstream sets an interim condition (SuccessCriteriaMet, FailureTarget) together with the terminal one. */
function terminalConditions(
  interim: string,
  terminal: string,
  reason: string,
  message: string,
  now: string,
): JobCondition[] {
  return [interim, terminal].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: now,
    lastTransitionTime: now,
    reason,
    message,
  }));
}

function completeJob(pass: JobPass): void {
  pass.conditions.push(
    ...terminalConditions(
      'SuccessCriteriaMet',
      'Complete',
      'CompletionsReached',
      'Reached expected number of succeeded pods',
      pass.now,
    ),
  );
  pass.completionTime = pass.now;
  pass.events.record(pass.job, 'Normal', 'Completed', 'Job completed', { source: SOURCE });
}

async function failJob(pass: JobPass, active: Pod[]): Promise<void> {
  const message = 'Job has reached the specified backoff limit';
  pass.conditions.push(
    ...terminalConditions('FailureTarget', 'Failed', 'BackoffLimitExceeded', message, pass.now),
  );
  for (const p of active) {
    await pass.store.delete(RESOURCES.pods, pass.namespace, p.metadata.name).catch(() => undefined);
  }
  pass.events.record(pass.job, 'Warning', 'BackoffLimitExceeded', message, { source: SOURCE });
}

/** A pod of the Job's template, labelled and owned as the upstream Job controller makes them. */
function podFor(job: Job, namespace: string | undefined, name: string): unknown {
  const template = job.spec.template;
  const labels = {
    ...(template.metadata?.labels ?? {}),
    'batch.kubernetes.io/controller-uid': job.metadata.uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': job.metadata.uid,
    'job-name': name,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace,
      labels,
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerReferenceTo(job)],
    },
    spec: structuredClone(template.spec),
  };
}

async function createPods(pass: JobPass, want: number): Promise<void> {
  const { store, events, job } = pass;
  for (let i = 0; i < want; i++) {
    try {
      const pod = await store.create(RESOURCES.pods, podFor(job, pass.namespace, pass.name));
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

/** Writes the status from the pods as they are after this pass (a no-op write is skipped). */
async function writeJobStatus(pass: JobPass, succeeded: number, failed: number): Promise<void> {
  const { store, job, namespace, name, conditions, completionTime } = pass;
  const fresh = store.get(RESOURCES.jobs, namespace, name);
  if (!fresh) return;
  const stillActive = podsOfJob(store, job, namespace).filter(isActivePod);
  const status = {
    active: stillActive.length,
    succeeded,
    failed,
    ready: stillActive.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length,
    startTime: job.status?.startTime ?? pass.now,
    ...(completionTime ? { completionTime } : {}),
    ...(conditions.length > 0 ? { conditions } : {}),
  };
  if (JSON.stringify(status) !== JSON.stringify(fresh.status)) {
    await store.updateStatus(RESOURCES.jobs, { ...fresh, status });
  }
}

async function reconcileJob(store: ObjectStore, events: EventRecorder, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const job = store.get(RESOURCES.jobs, namespace, name) as Job | undefined;
  if (!job || job.metadata.deletionTimestamp) return;
  const { succeeded, failed, active } = countPods(podsOfJob(store, job, namespace));
  const completions = job.spec.completions ?? 1;
  const pass: JobPass = {
    store,
    events,
    job,
    namespace,
    name,
    now: new Date().toISOString(),
    conditions: [...(job.status?.conditions ?? [])],
    completionTime: job.status?.completionTime,
  };
  if (!isFinished(job)) {
    if (succeeded >= completions) completeJob(pass);
    else if (failed > (job.spec.backoffLimit ?? 6)) await failJob(pass, active);
    else await createPods(pass, Math.min(job.spec.parallelism ?? 1, completions - succeeded) - active.length);
  }
  await writeJobStatus(pass, succeeded, failed);
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
