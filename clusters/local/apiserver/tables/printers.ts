// Column printers per kind, matching what `kubectl get` shows against a real cluster (built-in printers from
// pkg/printers/internalversion, and the additionalPrinterColumns of the Istio, Chaos Mesh and k6 CRDs).

import type { StoredObject } from '../../store/index.js';
import { arr, at, formatSelector, joinOrNone, num, obj, str } from './fields.js';
import { formatAge } from './human-duration.js';

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format?: string;
  description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: number;
}

export interface Printer {
  columns: Column[];
  cells(object: StoredObject, now: number): (string | number)[];
}

function col(name: string, priority = 0, type: Column['type'] = 'string', format?: string): Column {
  return { name, type, ...(format ? { format } : {}), description: `${name} of the object`, priority };
}

const NAME = col('Name', 0, 'string', 'name');
const AGE = col('Age');

function name(o: StoredObject): string {
  return o.metadata.name;
}

function age(o: StoredObject, now: number): string {
  return formatAge(o.metadata.creationTimestamp, now);
}

/** The STATUS column of a pod, following kubectl's printPod. */
export function podStatus(pod: StoredObject): string {
  const status = obj(pod.status);
  let reason = str(status.reason) || str(status.phase, 'Unknown');
  const initStatuses = arr(status.initContainerStatuses).map(obj);
  const initSpecs = arr(at(pod, 'spec.initContainers')).map(obj);
  let initializing = false;
  initStatuses.forEach((cs, i) => {
    const sidecar = str(initSpecs[i]?.restartPolicy) === 'Always';
    const terminated = obj(obj(cs.state).terminated);
    const waiting = obj(obj(cs.state).waiting);
    if (Object.keys(terminated).length > 0 && num(terminated.exitCode) === 0) return;
    if (sidecar && cs.started === true) return;
    if (initializing) return;
    initializing = true;
    if (Object.keys(terminated).length > 0) {
      reason = str(terminated.reason)
        ? `Init:${str(terminated.reason)}`
        : `Init:ExitCode:${num(terminated.exitCode)}`;
    } else if (str(waiting.reason) && str(waiting.reason) !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    for (const cs of arr(status.containerStatuses).map(obj).reverse()) {
      const state = obj(cs.state);
      const waiting = obj(state.waiting);
      const terminated = obj(state.terminated);
      if (str(waiting.reason)) reason = str(waiting.reason);
      else if (str(terminated.reason)) reason = str(terminated.reason);
      else if (Object.keys(terminated).length > 0) {
        reason =
          num(terminated.signal) !== 0
            ? `Signal:${num(terminated.signal)}`
            : `ExitCode:${num(terminated.exitCode)}`;
      } else if (Object.keys(obj(state.running)).length > 0 && cs.ready === true) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = arr(status.conditions)
        .map(obj)
        .some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = str(status.reason) === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podReady(pod: StoredObject): string {
  const statuses = arr(obj(pod.status).containerStatuses).map(obj);
  const total = arr(at(pod, 'spec.containers')).length;
  const sidecars = arr(at(pod, 'spec.initContainers'))
    .map(obj)
    .filter((c) => c.restartPolicy === 'Always');
  const sidecarReady = arr(obj(pod.status).initContainerStatuses)
    .map(obj)
    .filter((cs) => sidecars.some((s) => s.name === cs.name) && cs.ready === true).length;
  const ready = statuses.filter((cs) => cs.ready === true).length + sidecarReady;
  return `${ready}/${total + sidecars.length}`;
}

function podRestarts(pod: StoredObject, now: number): string {
  const statuses = [
    ...arr(obj(pod.status).initContainerStatuses).map(obj),
    ...arr(obj(pod.status).containerStatuses).map(obj),
  ];
  let restarts = 0;
  let last: number | undefined;
  for (const cs of statuses) {
    restarts += num(cs.restartCount);
    const finished = str(obj(obj(cs.lastState).terminated).finishedAt);
    const t = finished ? Date.parse(finished) : Number.NaN;
    if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return last !== undefined && restarts > 0
    ? `${restarts} (${formatAge(new Date(last).toISOString(), now)} ago)`
    : String(restarts);
}

const pods: Printer = {
  columns: [
    NAME,
    col('Ready'),
    col('Status'),
    col('Restarts', 0),
    AGE,
    col('IP', 1),
    col('Node', 1),
    col('Nominated Node', 1),
    col('Readiness Gates', 1),
  ],
  cells: (o, now) => [
    name(o),
    podReady(o),
    podStatus(o),
    podRestarts(o, now),
    age(o, now),
    str(obj(o.status).podIP, '<none>'),
    str(at(o, 'spec.nodeName'), '<none>'),
    '<none>',
    '<none>',
  ],
};

function containersAndImages(template: unknown): [string, string] {
  const containers = arr(at(template, 'spec.containers')).map(obj);
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
}

/** `-o wide` columns kubectl shows for Deployments and ReplicaSets alike. */
const WORKLOAD_WIDE_COLUMNS = [col('Containers', 1), col('Images', 1), col('Selector', 1)];

function workloadWideCells(o: StoredObject): string[] {
  const [containers, images] = containersAndImages(at(o, 'spec.template'));
  return [containers, images, formatSelector(at(o, 'spec.selector'))];
}

const deployments: Printer = {
  columns: [
    NAME,
    col('Ready'),
    col('Up-to-date', 0, 'integer'),
    col('Available', 0, 'integer'),
    AGE,
    ...WORKLOAD_WIDE_COLUMNS,
  ],
  cells: (o, now) => {
    const status = obj(o.status);
    return [
      name(o),
      `${num(status.readyReplicas)}/${num(at(o, 'spec.replicas'), 1)}`,
      num(status.updatedReplicas),
      num(status.availableReplicas),
      age(o, now),
      ...workloadWideCells(o),
    ];
  },
};

const replicasets: Printer = {
  columns: [
    NAME,
    col('Desired', 0, 'integer'),
    col('Current', 0, 'integer'),
    col('Ready', 0, 'integer'),
    AGE,
    ...WORKLOAD_WIDE_COLUMNS,
  ],
  cells: (o, now) => {
    const status = obj(o.status);
    return [
      name(o),
      num(at(o, 'spec.replicas'), 1),
      num(status.replicas),
      num(status.readyReplicas),
      age(o, now),
      ...workloadWideCells(o),
    ];
  },
};

function servicePorts(o: StoredObject): string {
  const ports = arr(at(o, 'spec.ports')).map(obj);
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) => {
      const node = typeof p.nodePort === 'number' ? `:${p.nodePort}` : '';
      return `${num(p.port)}${node}/${str(p.protocol, 'TCP')}`;
    })
    .join(',');
}

function externalIp(o: StoredObject): string {
  const type = str(at(o, 'spec.type'), 'ClusterIP');
  const external = arr(at(o, 'spec.externalIPs')).map((x) => str(x));
  if (type === 'ExternalName') return str(at(o, 'spec.externalName'));
  if (type === 'LoadBalancer') {
    const ingress = arr(at(o, 'status.loadBalancer.ingress')).map(
      (i) => str(obj(i).ip) || str(obj(i).hostname),
    );
    const all = [...ingress, ...external].filter((x) => x !== '');
    return all.length > 0 ? all.join(',') : '<pending>';
  }
  return external.length > 0 ? external.join(',') : '<none>';
}

const services: Printer = {
  columns: [
    NAME,
    col('Type'),
    col('Cluster-IP'),
    col('External-IP'),
    col('Port(s)'),
    AGE,
    col('Selector', 1),
  ],
  cells: (o, now) => [
    name(o),
    str(at(o, 'spec.type'), 'ClusterIP'),
    str(at(o, 'spec.clusterIP'), '<none>'),
    externalIp(o),
    servicePorts(o),
    age(o, now),
    formatSelector(at(o, 'spec.selector')),
  ],
};

function formatEndpoints(o: StoredObject): string {
  const out: string[] = [];
  for (const subset of arr(o.subsets).map(obj)) {
    const ports = arr(subset.ports).map((p) => num(obj(p).port));
    for (const address of arr(subset.addresses).map(obj)) {
      for (const port of ports.length > 0 ? ports : [0]) {
        out.push(port === 0 ? str(address.ip) : `${str(address.ip)}:${port}`);
      }
    }
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

const endpoints: Printer = {
  columns: [NAME, col('Endpoints'), AGE],
  cells: (o, now) => [name(o), formatEndpoints(o), age(o, now)],
};

const endpointslices: Printer = {
  columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
  cells: (o, now) => {
    const ports = arr(o.ports).map((p) => String(num(obj(p).port)));
    const addresses = arr(o.endpoints).flatMap((e) => arr(obj(e).addresses).map((a) => str(a)));
    return [name(o), str(o.addressType, 'IPv4'), joinOrNone(ports), joinOrNone(addresses), age(o, now)];
  },
};

function eventObject(o: StoredObject): string {
  const involved = obj(o.involvedObject ?? o.regarding);
  return `${str(involved.kind).toLowerCase()}/${str(involved.name)}`;
}

const events: Printer = {
  columns: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Message'),
    col('Subobject', 1),
    col('Source', 1),
    col('First Seen', 1),
    col('Count', 1, 'integer'),
    col('Name', 1),
  ],
  cells: (o, now) => {
    const last = str(o.lastTimestamp) || str(o.eventTime) || o.metadata.creationTimestamp;
    const first = str(o.firstTimestamp) || str(o.eventTime) || o.metadata.creationTimestamp;
    const source = obj(o.source);
    return [
      formatAge(last, now),
      str(o.type, 'Normal'),
      str(o.reason),
      eventObject(o),
      str(o.message ?? o.note),
      str(obj(o.involvedObject).fieldPath),
      [str(source.component), str(source.host)].filter((s) => s !== '').join(', '),
      formatAge(first, now),
      num(o.count, 1),
      name(o),
    ];
  },
};

const namespaces: Printer = {
  columns: [NAME, col('Status'), AGE],
  cells: (o, now) => [name(o), str(obj(o.status).phase, 'Active'), age(o, now)],
};

function jobStatus(o: StoredObject): string {
  const conditions = arr(obj(o.status).conditions).map(obj);
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

const jobs: Printer = {
  columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, ...WORKLOAD_WIDE_COLUMNS],
  cells: (o, now) => {
    const status = obj(o.status);
    const start = str(status.startTime);
    const end = str(status.completionTime);
    const duration = start ? formatAge(start, end ? Date.parse(end) : now) : '';
    return [
      name(o),
      jobStatus(o),
      `${num(status.succeeded)}/${num(at(o, 'spec.completions'), 1)}`,
      duration,
      age(o, now),
      ...workloadWideCells(o),
    ];
  },
};

const configmaps: Printer = {
  columns: [NAME, col('Data', 0, 'integer'), AGE],
  cells: (o, now) => [
    name(o),
    Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length,
    age(o, now),
  ],
};

const secrets: Printer = {
  columns: [NAME, col('Type'), col('Data', 0, 'integer'), AGE],
  cells: (o, now) => [name(o), str(o.type, 'Opaque'), Object.keys(obj(o.data)).length, age(o, now)],
};

const serviceaccounts: Printer = {
  columns: [NAME, col('Secrets', 0, 'integer'), AGE],
  cells: (o, now) => [name(o), arr(o.secrets).length, age(o, now)],
};

const nodes: Printer = {
  columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 1)],
  cells: (o, now) => {
    const ready = arr(obj(o.status).conditions)
      .map(obj)
      .find((c) => c.type === 'Ready');
    const roles = Object.keys(o.metadata.labels ?? {})
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length));
    const address = arr(obj(o.status).addresses)
      .map(obj)
      .find((a) => a.type === 'InternalIP');
    return [
      name(o),
      ready?.status === 'True' ? 'Ready' : 'NotReady',
      joinOrNone(roles),
      age(o, now),
      str(at(o, 'status.nodeInfo.kubeletVersion')),
      str(address?.address, '<none>'),
    ];
  },
};

const leases: Printer = {
  columns: [NAME, col('Holder'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'spec.holderIdentity')), age(o, now)],
};

/** As kubectl prints them (`istio-sidecar-injector   4   5m`). */
const webhookconfigurations: Printer = {
  columns: [NAME, col('Webhooks', 0, 'integer'), AGE],
  cells: (o, now) => [name(o), arr(o.webhooks).length, age(o, now)],
};

function stringList(value: unknown): string {
  const items = arr(value).map((v) => str(v));
  return items.length > 0 ? `[${items.map((i) => `"${i}"`).join(',')}]` : '';
}

const virtualservices: Printer = {
  columns: [NAME, col('Gateways'), col('Hosts'), AGE],
  cells: (o, now) => [
    name(o),
    stringList(at(o, 'spec.gateways')),
    stringList(at(o, 'spec.hosts')),
    age(o, now),
  ],
};

const destinationrules: Printer = {
  columns: [NAME, col('Host'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'spec.host')), age(o, now)],
};

const serviceentries: Printer = {
  columns: [NAME, col('Hosts'), col('Location'), col('Resolution'), AGE],
  cells: (o, now) => [
    name(o),
    stringList(at(o, 'spec.hosts')),
    str(at(o, 'spec.location')),
    str(at(o, 'spec.resolution')),
    age(o, now),
  ],
};

const peerauthentications: Printer = {
  columns: [NAME, col('Mode'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'spec.mtls.mode')), age(o, now)],
};

const authorizationpolicies: Printer = {
  columns: [NAME, col('Action'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'spec.action'), 'ALLOW'), age(o, now)],
};

const chaos: Printer = {
  columns: [NAME, col('Action'), col('Duration'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'spec.action')), str(at(o, 'spec.duration')), age(o, now)],
};

const testruns: Printer = {
  columns: [NAME, col('Stage'), AGE],
  cells: (o, now) => [name(o), str(at(o, 'status.stage')), age(o, now)],
};

const fallback: Printer = { columns: [NAME, AGE], cells: (o, now) => [name(o), age(o, now)] };

/** Printers by storage key (`group/plural`); anything else gets NAME and AGE, as an unannotated CRD would. */
const PRINTERS: Record<string, Printer> = {
  '/pods': pods,
  '/services': services,
  '/endpoints': endpoints,
  '/events': events,
  '/namespaces': namespaces,
  '/configmaps': configmaps,
  '/secrets': secrets,
  '/serviceaccounts': serviceaccounts,
  '/nodes': nodes,
  'apps/deployments': deployments,
  'apps/replicasets': replicasets,
  'batch/jobs': jobs,
  'discovery.k8s.io/endpointslices': endpointslices,
  'coordination.k8s.io/leases': leases,
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': webhookconfigurations,
  'networking.istio.io/virtualservices': virtualservices,
  'networking.istio.io/destinationrules': destinationrules,
  'networking.istio.io/serviceentries': serviceentries,
  'security.istio.io/peerauthentications': peerauthentications,
  'security.istio.io/authorizationpolicies': authorizationpolicies,
  'chaos-mesh.org/podchaos': chaos,
  'chaos-mesh.org/stresschaos': chaos,
  'chaos-mesh.org/networkchaos': chaos,
  'chaos-mesh.org/timechaos': chaos,
  'chaos-mesh.org/httpchaos': chaos,
  'k6.io/testruns': testruns,
};

export function printerFor(storage: string): Printer {
  return PRINTERS[storage] ?? fallback;
}
