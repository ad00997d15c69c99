// The CustomResourceDefinition objects behind the custom resources the local target serves, stored as a real
// API server holds them once they are established: `kubectl get crd` lists them, and a client that checks an
// operator is installed (its CRD exists) gets the answer a real cluster gives.

import type { CrdCatalog } from '../../shared/crd/index.js';
import { KEYS } from './resources.js';
import type { ObjectStore } from './types.js';

interface CrdSpecView {
  names?: Record<string, unknown>;
  versions?: { name: string; storage?: boolean }[];
}

/** Stores every CRD of the catalog, with the status an API server gives an established CRD. */
export async function storeCustomResourceDefinitions(store: ObjectStore, catalog: CrdCatalog): Promise<void> {
  for (const document of catalog.documents()) {
    const spec = (document.spec ?? {}) as CrdSpecView;
    const storage = spec.versions?.find((v) => v.storage)?.name;
    const { status: _fileStatus, ...crd } = document;
    await store.create(KEYS.customresourcedefinitions, {
      ...crd,
      status: {
        acceptedNames: spec.names ?? {},
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
          {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
          },
        ],
        storedVersions: storage ? [storage] : [],
      },
    });
  }
}
