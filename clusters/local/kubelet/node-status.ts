// The node object this kubelet registers: one Ready node with the host's CPUs and memory as capacity.

import { cpus, hostname, release, totalmem } from 'node:os';
import { KUBERNETES_VERSION } from '../apiserver/server.js';
import { RESOURCES } from '../controllers/resources.js';
import type { ObjectStore } from '../store/types.js';

export const KUBELET_VERSION = KUBERNETES_VERSION;

const NODE_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

function nodeConditions(now: string) {
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return [
    condition(
      'MemoryPressure',
      'False',
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
    ),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

function nodeInfo() {
  return {
    machineID: hostname(),
    systemUUID: hostname(),
    bootID: '',
    kernelVersion: release(),
    osImage: 'meshdrill local node',
    containerRuntimeVersion: 'meshdrill://0.1.0',
    kubeletVersion: KUBELET_VERSION,
    kubeProxyVersion: KUBELET_VERSION,
    operatingSystem: 'linux',
    architecture: NODE_ARCH,
  };
}

function nodeStatus(nodeName: string, now: string) {
  const memKi = `${Math.floor(totalmem() / 1024)}Ki`;
  const cpu = String(cpus().length);
  return {
    capacity: { cpu, memory: memKi, pods: '110', 'ephemeral-storage': '0' },
    allocatable: { cpu, memory: memKi, pods: '110', 'ephemeral-storage': '0' },
    conditions: nodeConditions(now),
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: nodeName },
    ],
    nodeInfo: nodeInfo(),
  };
}

function nodeObject(nodeName: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': NODE_ARCH,
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: { podCIDR: '127.1.0.0/16', podCIDRs: ['127.1.0.0/16'] },
    status: nodeStatus(nodeName, new Date().toISOString()),
  };
}

/** Creates the node (or keeps the one a previous kubelet of this store registered) and posts a fresh status. */
export async function registerNode(store: ObjectStore, nodeName: string): Promise<void> {
  const node = nodeObject(nodeName);
  const existing = store.get(RESOURCES.nodes, undefined, nodeName);
  const created = existing ?? (await store.create(RESOURCES.nodes, node));
  await store.updateStatus(RESOURCES.nodes, { ...created, status: node.status });
}
