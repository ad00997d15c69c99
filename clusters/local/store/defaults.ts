// Server-side defaulting, as a real API server applies it on every write before admission: the fields users
// leave out but kubectl's columns, controllers and the kubelet read (replicas, strategy, service type, ports).

import type { ResourceDefinition } from './resources.js';
import { isObject, type JsonObject } from './json.js';

function setDefault(target: JsonObject, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function defaultContainers(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const c of list) {
    if (!isObject(c)) continue;
    const image = typeof c.image === 'string' ? c.image : '';
    const latest = !image.includes(':') || image.endsWith(':latest');
    setDefault(c, 'imagePullPolicy', latest ? 'Always' : 'IfNotPresent');
    setDefault(c, 'terminationMessagePath', '/dev/termination-log');
    setDefault(c, 'terminationMessagePolicy', 'File');
    setDefault(c, 'resources', {});
    if (Array.isArray(c.ports)) {
      for (const p of c.ports) if (isObject(p)) setDefault(p, 'protocol', 'TCP');
    }
  }
}

function defaultPodSpec(spec: unknown): void {
  if (!isObject(spec)) return;
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  defaultContainers(spec.containers);
  defaultContainers(spec.initContainers);
}

function defaultTemplate(spec: JsonObject): void {
  const template = spec.template;
  if (isObject(template)) defaultPodSpec(template.spec);
}

function defaultService(spec: JsonObject): void {
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (!Array.isArray(spec.ports)) return;
  for (const p of spec.ports) {
    if (!isObject(p)) continue;
    setDefault(p, 'protocol', 'TCP');
    setDefault(p, 'targetPort', p.port);
  }
}

/** Fills defaults in place. `object` is a private copy owned by the store. */
export function applyDefaults(def: ResourceDefinition, object: JsonObject): void {
  const spec = object.spec;
  switch (`${def.group}/${def.plural}`) {
    case '/pods':
      defaultPodSpec(spec);
      break;
    case 'apps/deployments':
      if (!isObject(spec)) return;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      setDefault(spec, 'strategy', {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
      });
      defaultTemplate(spec);
      break;
    case 'apps/replicasets':
      if (!isObject(spec)) return;
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    case 'batch/jobs':
      if (!isObject(spec)) return;
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'backoffLimit', 6);
      // Upstream rejects a Job without restartPolicy Never/OnFailure; defaulting to Never is kinder here.
      if (isObject(spec.template) && isObject(spec.template.spec))
        setDefault(spec.template.spec, 'restartPolicy', 'Never');
      defaultTemplate(spec);
      break;
    case '/services':
      if (isObject(spec)) defaultService(spec);
      break;
    case '/secrets':
      setDefault(object, 'type', 'Opaque');
      break;
    default:
      break;
  }
}
