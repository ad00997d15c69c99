// Table output (`application/json;as=Table;v=v1;g=meta.k8s.io`): what `kubectl get` renders as columns.

import type { ResourceDefinition, StoredObject } from '../../store/index.js';
import { printerFor } from './printers.js';

export { formatAge, formatHumanDuration } from './human-duration.js';
export { podStatus } from './printers.js';

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** Whether the Accept header asks for a Table (kubectl get does; -o json/yaml/name do not). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

export interface TableOptions {
  /** `includeObject=Object` sends whole objects; the default (Metadata) sends PartialObjectMetadata. */
  includeObject?: string;
  resourceVersion: string;
  now?: number;
  /** Leave column definitions out (watch events after the first, as upstream). */
  noHeaders?: boolean;
}

function rowObject(object: StoredObject, include: string | undefined): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function buildTable(def: ResourceDefinition, objects: StoredObject[], options: TableOptions) {
  const printer = printerFor(def.storage);
  const now = options.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: options.resourceVersion },
    columnDefinitions: options.noHeaders ? [] : printer.columns,
    rows: objects.map((object) => {
      const row = rowObject(object, options.includeObject);
      return { cells: printer.cells(object, now), ...(row === undefined ? {} : { object: row }) };
    }),
  };
}
