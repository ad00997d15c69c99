// Records core/v1 Events the way the kubelet and controllers do: one object per (object, reason, message,
// source), repeated occurrences folded into count/lastTimestamp instead of new objects.

import { randomBytes } from 'node:crypto';
import type { ObjectStore, StoredObject } from '../store/types.js';
import { RESOURCES } from './resources.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventRecorder {
  record(
    object: StoredObject | InvolvedObject,
    type: EventType,
    reason: string,
    message: string,
    options?: { fieldPath?: string; source?: EventSource },
  ): void;
  /** Resolves when every recorded event has been written (tests). */
  flush(): Promise<void>;
}

function toInvolved(object: StoredObject | InvolvedObject): InvolvedObject {
  if ('metadata' in object) {
    const meta = (object as StoredObject).metadata;
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: meta.name,
      ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    };
  }
  return object as InvolvedObject;
}

export function createEventRecorder(store: ObjectStore, defaultSource: EventSource): EventRecorder {
  // Aggregation key → the stored event's name, so repeats update in place (kubelet's EventCorrelator).
  const known = new Map<string, { namespace: string; name: string }>();
  let chain: Promise<void> = Promise.resolve();

  const write = async (
    involved: InvolvedObject,
    type: EventType,
    reason: string,
    message: string,
    source: EventSource,
  ): Promise<void> => {
    const namespace = involved.namespace ?? 'default';
    const aggregate = [involved.uid, involved.fieldPath ?? '', reason, message, source.component, type].join(
      '\u0000',
    );
    const now = new Date().toISOString();
    const seen = known.get(aggregate);
    if (seen) {
      const existing = store.get(RESOURCES.events, seen.namespace, seen.name);
      if (existing) {
        const count = typeof existing.count === 'number' ? existing.count : 1;
        await store.update(RESOURCES.events, { ...existing, count: count + 1, lastTimestamp: now });
        return;
      }
    }
    const name = `${involved.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await store.create(RESOURCES.events, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    known.set(aggregate, { namespace, name });
  };

  return {
    record(object, type, reason, message, options = {}): void {
      const involved = toInvolved(object);
      if (options.fieldPath !== undefined) involved.fieldPath = options.fieldPath;
      const source = options.source ?? defaultSource;
      // Events are best-effort, as in Kubernetes: a namespace being deleted simply drops them.
      chain = chain.then(() => write(involved, type, reason, message, source)).catch(() => undefined);
    },
    flush(): Promise<void> {
      return chain;
    },
  };
}
