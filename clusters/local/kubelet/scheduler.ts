// The default scheduler's part for a one-node cluster: bind an unscheduled pod to this node, with its event.

import type { Pod } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import type { KubeletState } from './state.js';

/** Binds the pod unless it is gone, already bound, or replaced by a new pod of the same name. */
export async function schedule(state: KubeletState, pod: Pod): Promise<void> {
  const { store, events, nodeName } = state;
  const fresh = store.get(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name) as Pod | undefined;
  if (!fresh || fresh.spec.nodeName || fresh.metadata.uid !== pod.metadata.uid) return;
  await store.update(RESOURCES.pods, { ...fresh, spec: { ...fresh.spec, nodeName } });
  events.record(
    fresh,
    'Normal',
    'Scheduled',
    `Successfully assigned ${fresh.metadata.namespace}/${fresh.metadata.name} to ${nodeName}`,
    {
      source: { component: 'default-scheduler' },
    },
  );
}
