// Which container a logs or exec request means: the named one, the default-container annotation, or the only one.

import type { StoredObject } from '../store/index.js';
import { badRequest } from './status-errors.js';
import { arr, obj, str } from './tables/fields.js';

export function resolveContainer(pod: StoredObject, requested: string | null): string {
  const spec = obj(pod.spec);
  const main = arr(spec.containers).map((c) => str(obj(c).name));
  const init = arr(spec.initContainers).map((c) => str(obj(c).name));
  const name = pod.metadata.name;
  if (requested) {
    if (main.includes(requested) || init.includes(requested)) return requested;
    throw badRequest(
      `container ${requested} is not valid for pod ${name}: choose one of: [${main.join(' ')}]${init.length > 0 ? ` or one of the init containers: [${init.join(' ')}]` : ''}`,
    );
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && main.includes(annotated)) return annotated;
  if (main.length === 1 && main[0]) return main[0];
  throw badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]${init.length > 0 ? ` or one of the init containers: [${init.join(' ')}]` : ''}`,
  );
}
