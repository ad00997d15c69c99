// The certificate-expiry fault: a plug-in CA whose intermediate runs out. Nothing is changed at injection —
// time is the fault — so injection waits until the `ca-cert.pem` of the named Secret expires and reports the
// expiry as the injection time. The undo gives the mesh its own CA back: delete the Secret (istiod falls back
// to a self-signed root) and restart what must pick that up, so a real cluster is left healthy.

import type { KubeClient, ObjectKey } from '../kube/index.js';
import type { FaultSpec, ObjectRef } from '../model/index.js';
import { readNotAfter } from '../util/pki.js';
import type { FaultContext, InjectedFault } from './types.js';
import { pause, waitForRollouts } from './rollout.js';

type CertificateExpiry = Extract<FaultSpec, { kind: 'certificate-expiry' }>;

const RESTART_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** How long the undo waits for each restarted Deployment. */
const RESTART_TIMEOUT_MS = 120_000;

function keyOfRef(ref: ObjectRef, defaultNamespace: string): ObjectKey {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    namespace: ref.namespace ?? defaultNamespace,
    name: ref.name ?? '',
  };
}

/** notAfter of the intermediate in a `cacerts`-shaped Secret (pure). */
export function readIntermediateExpiry(secret: unknown, where: string): Date {
  const data = (secret as { data?: Record<string, unknown> } | undefined)?.data;
  const encoded = data?.['ca-cert.pem'];
  if (typeof encoded !== 'string') {
    throw new Error(
      `certificate-expiry: Secret ${where} has no ca-cert.pem (keys: ${Object.keys(data ?? {}).join(', ') || 'none'}); expected Istio's cacerts layout`,
    );
  }
  return readNotAfter(Buffer.from(encoded, 'base64').toString('utf8'));
}

export async function restartDeployments(
  kube: KubeClient,
  keys: readonly ObjectKey[],
  signal?: AbortSignal,
): Promise<void> {
  const at = new Date().toISOString();
  for (const key of keys) {
    if (!(await kube.get(key))) continue;
    await kube.patch(
      key,
      { spec: { template: { metadata: { annotations: { [RESTART_ANNOTATION]: at } } } } },
      'strategic',
    );
  }
  await waitForRollouts(kube, keys, { timeoutMs: RESTART_TIMEOUT_MS, ...(signal ? { signal } : {}) });
}

export async function injectCertificateExpiry(
  fault: CertificateExpiry,
  ctx: FaultContext,
): Promise<InjectedFault> {
  const secretKey = keyOfRef(fault.secret, ctx.defaultNamespace);
  const where = `${secretKey.namespace}/${secretKey.name}`;
  const secret = await ctx.kube.get(secretKey);
  if (!secret) {
    throw new Error(
      `certificate-expiry: Secret ${where} not found; generate it in the workload (manifests: [{ generate: cacerts, intermediateValidity: 3m }]) or plug a CA in before the drill`,
    );
  }
  const notAfter = readIntermediateExpiry(secret, where);
  const waitMs = notAfter.getTime() - Date.now();
  if (waitMs > fault.maxWaitMs) {
    throw new Error(
      `certificate-expiry: the intermediate in ${where} expires at ${notAfter.toISOString()}, ${Math.round(waitMs / 1000)} s from now, beyond maxWait (${Math.round(fault.maxWaitMs / 1000)} s); shorten intermediateValidity or raise fault.maxWait`,
    );
  }
  if (waitMs > 0) await pause(waitMs, ctx.signal);
  const restart = fault.restart.map((r) => keyOfRef(r, ctx.defaultNamespace));
  return {
    description: `the intermediate CA in Secret ${where} expired at ${notAfter.toISOString()}${waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : ' (already expired)'}`,
    objects: [`Secret ${where}`],
    injectedAt: notAfter.getTime(),
    async revert() {
      await ctx.kube.delete(secretKey);
      await restartDeployments(ctx.kube, restart);
    },
  };
}
