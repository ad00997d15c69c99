// How the local target takes the mesh on: `configure` (images + admission webhooks, before any pod starts)
// and `install` (the istio-system objects through the store, then wait until istiod and the ingress gateway
// are available), as `istioctl install` would on a real cluster.

import { MeshdrillError } from '../../../harness/model/index.js';
import type { ImageRegistry } from '../programs/registry.js';
import type { ObjectStore, ResourceKey } from '../store/types.js';
import { ISTIO_VERSION } from './injection/inject.js';
import { type MeshAdmission, registerMeshAdmission } from './injection/admission.js';
import {
  ISTIO_NAMESPACE,
  installDefaultTag,
  installIstio,
  registerMeshImages,
  uninstallIstio,
} from './install.js';
import { chartRevision, istiodName } from './revisions.js';

export interface LocalMeshOptions {
  version?: string;
  /** Readiness probe period of injected sidecars and the gateway (Istio: 15 s; drills want ~1 s). */
  readinessPeriodSeconds?: number;
  /** Istio 1.27+ on Kubernetes ≥ 1.33 defaults to native sidecars; the local API reports 1.31: false. */
  nativeSidecarDefault?: boolean;
  /** istiod's PILOT_DEBOUNCE_AFTER. */
  debounce?: string;
  /**
   * Boot the control plane as this revision only (`--target-opt revision=`): `istiod-<rev>`, the gateway on it,
   * and the `default` tag pointing at it, as `istioctl install --set revision=<rev>` on a fresh cluster.
   */
  revision?: string;
}

export interface LocalMesh {
  configure(cluster: { store: ObjectStore; images: ImageRegistry }): void;
  /** Creates the install and waits (bounded) for istiod and the gateway; resolves with the versions to report. */
  install(
    store: ObjectStore,
    kubeconfigPath: string,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<Record<string, string>>;
  uninstall(store: ObjectStore): Promise<void>;
  admission(): MeshAdmission | undefined;
}

const DEPLOYMENTS: ResourceKey = { group: 'apps', version: 'v1', resource: 'deployments' };

function available(store: ObjectStore, name: string): boolean {
  const status = store.get(DEPLOYMENTS, ISTIO_NAMESPACE, name)?.status as
    | { availableReplicas?: number }
    | undefined;
  return (status?.availableReplicas ?? 0) >= 1;
}

export function createLocalMesh(options: LocalMeshOptions = {}): LocalMesh {
  let admission: MeshAdmission | undefined;
  return {
    configure({ store, images }) {
      registerMeshImages(images);
      admission = registerMeshAdmission(store, {
        ...(options.version ? { version: options.version } : {}),
        ...(options.readinessPeriodSeconds !== undefined
          ? { readinessPeriodSeconds: options.readinessPeriodSeconds }
          : {}),
        nativeSidecarDefault: options.nativeSidecarDefault ?? false,
      });
    },
    async install(store, kubeconfigPath, installOptions = {}) {
      const revision = chartRevision(options.revision);
      await installIstio(store, {
        ...(options.version ? { version: options.version } : {}),
        ...(revision ? { revision, gateway: true } : {}),
        ...(options.readinessPeriodSeconds !== undefined
          ? { readinessPeriodSeconds: options.readinessPeriodSeconds }
          : {}),
        // istiod watches the API like any client; a real pod would get a projected service-account token.
        istiodEnv: {
          MESHDRILL_KUBECONFIG: kubeconfigPath,
          PILOT_DEBOUNCE_AFTER: options.debounce ?? '100ms',
        },
      });
      if (revision) await installDefaultTag(store, revision);
      const timeoutMs = installOptions.timeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const missing = [istiodName(revision), 'istio-ingressgateway'].filter((n) => !available(store, n));
        if (missing.length === 0) break;
        if (installOptions.signal?.aborted) {
          throw new MeshdrillError('interrupted', 'the Istio install was interrupted');
        }
        if (Date.now() > deadline) {
          throw new Error(
            `Istio install: ${missing.join(' and ')} not available within ${timeoutMs} ms; ` +
              `check \`kubectl -n ${ISTIO_NAMESPACE} get pods\` and \`kubectl -n ${ISTIO_NAMESPACE} logs deploy/${missing[0]}\``,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return {
        istio: options.version ?? ISTIO_VERSION,
        'istio-emulation': 'meshdrill-local',
        ...(revision ? { 'istio-revision': revision } : {}),
      };
    },
    uninstall: (store) => uninstallIstio(store, { revision: chartRevision(options.revision), gateway: true }),
    admission: () => admission,
  };
}
