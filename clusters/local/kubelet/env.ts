// A container's environment as the kubelet builds it: service links, envFrom, env (value, ConfigMap/Secret
// keys, the downward API), `$(VAR)` expansion — plus what the emulation's programs need to find their pod.

import { RESOURCES } from '../controllers/resources.js';
import type { Container, Pod, Service } from '../controllers/kube-types.js';
import type { ObjectStore } from '../store/types.js';

export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
}

export interface EnvContext {
  store: ObjectStore;
  pod: Pod;
  container: Container;
  podIP: string;
  nodeName: string;
  hostIP: string;
  /** Variables of the emulation (MESHDRILL_*, PATH, HOME …), set first so the spec can override them. */
  base: Record<string, string>;
}

function readKey(
  store: ObjectStore,
  kind: 'configmap' | 'secret',
  namespace: string,
  name: string,
  key: string,
  optional: boolean | undefined,
): string | undefined {
  const object = store.get(kind === 'configmap' ? RESOURCES.configmaps : RESOURCES.secrets, namespace, name);
  if (!object) {
    if (optional) return undefined;
    throw new ContainerConfigError(`${kind} "${name}" not found`);
  }
  const data = (object.data ?? {}) as Record<string, string>;
  const value =
    kind === 'secret'
      ? data[key] === undefined
        ? undefined
        : Buffer.from(data[key], 'base64').toString('utf8')
      : data[key];
  const stringData =
    kind === 'secret' ? ((object.stringData ?? {}) as Record<string, string>)[key] : undefined;
  const found = value ?? stringData;
  if (found === undefined && !optional) {
    throw new ContainerConfigError(
      `couldn't find key ${key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${namespace}/${name}`,
    );
  }
  return found;
}

function fieldRef(ctx: EnvContext, path: string): string {
  const meta = ctx.pod.metadata;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return meta.labels?.[label[1] as string] ?? '';
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (annotation) return meta.annotations?.[annotation[1] as string] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'spec.nodeName':
      return ctx.nodeName;
    case 'spec.serviceAccountName':
      return ctx.pod.spec.serviceAccountName ?? 'default';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${path}"`);
  }
}

/** `$(VAR)` references resolve against earlier variables; `$$(VAR)` escapes; unknown ones stay as written. */
export function expandReferences(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : match;
  });
}

function serviceLinks(store: ObjectStore, namespace: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const svc of store.list(RESOURCES.services, { namespace }).items as Service[]) {
    const ip = svc.spec.clusterIP;
    const first = svc.spec.ports?.[0];
    if (!ip || ip === 'None' || !first) continue;
    const prefix = svc.metadata.name.toUpperCase().replace(/-/g, '_');
    out[`${prefix}_SERVICE_HOST`] = ip;
    out[`${prefix}_SERVICE_PORT`] = String(first.port);
    for (const p of svc.spec.ports ?? []) {
      if (p.name) out[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
    }
  }
  return out;
}

export function buildContainerEnv(ctx: EnvContext): Record<string, string> {
  const namespace = ctx.pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...ctx.base };
  if ((ctx.pod.spec as { enableServiceLinks?: boolean }).enableServiceLinks !== false) {
    Object.assign(env, serviceLinks(ctx.store, namespace));
  }
  for (const from of ctx.container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const object = ctx.store.get(
      kind === 'configmap' ? RESOURCES.configmaps : RESOURCES.secrets,
      namespace,
      ref.name,
    );
    if (!object) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries((object.data ?? {}) as Record<string, string>)) {
      env[`${from.prefix ?? ''}${k}`] = kind === 'secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
    }
  }
  for (const v of ctx.container.env ?? []) {
    if (v.value !== undefined) {
      env[v.name] = expandReferences(v.value, env);
      continue;
    }
    const from = v.valueFrom;
    if (!from) {
      env[v.name] = '';
      continue;
    }
    let value: string | undefined;
    if (from.configMapKeyRef) {
      const r = from.configMapKeyRef;
      value = readKey(ctx.store, 'configmap', namespace, r.name, r.key, r.optional);
    } else if (from.secretKeyRef) {
      const r = from.secretKeyRef;
      value = readKey(ctx.store, 'secret', namespace, r.name, r.key, r.optional);
    } else if (from.fieldRef) {
      value = fieldRef(ctx, from.fieldRef.fieldPath);
    } else if (from.resourceFieldRef) {
      const res = ctx.container.resources?.limits?.[from.resourceFieldRef.resource.replace(/^limits\./, '')];
      value = res === undefined ? '' : String(res);
    }
    if (value !== undefined) env[v.name] = value;
  }
  return env;
}
