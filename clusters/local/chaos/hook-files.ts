// Writes the per-pod chaos-hook files (clusters/local/chaos-hooks.ts) — the union of every chaos object's rules
// for a pod, temp + rename so readers see whole files — and answers the kube-proxy stand-in's pod-IP lookups.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkFaultRule, NetworkFaultsFile, TimeOffsetFile } from '../chaos-hooks.js';
import type { Pod } from '../controllers/kube-types.js';
import { podChaosFiles } from '../kubelet/chaos-hooks.js';
import { type PodFaultTable, publishPodFaults } from '../network/pod-faults.js';
import type { ObjectStore } from '../store/types.js';

interface PodHooks {
  pod: Pod;
  ip: string;
  sidecar: boolean;
  network: Map<string, NetworkFaultRule[]>;
  time: Map<string, TimeOffsetFile>;
}

export interface HookFiles {
  setNetworkRules(pod: Pod, source: string, rules: NetworkFaultRule[]): void;
  setTimeOffset(pod: Pod, source: string, offsetMs: number): void;
  /** Removes everything `source` put in the pod's files. */
  clear(pod: Pod, source: string): void;
  /** The pod is gone: forget it (its sandbox, files included, went with it). */
  forget(podUid: string): void;
  /** The rules the file of the pod with this IP holds (tests). */
  rulesOf(podIP: string): NetworkFaultRule[];
  stop(): void;
}

/** A pod whose traffic its own sidecar carries (injected istio-proxy, native or not). */
export function hasIstioSidecar(pod: Pod): boolean {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.name === 'istio-proxy');
}

function writeAtomic(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The hook files' state: every pod that has rules or an offset, by uid. */
interface HookState {
  store: ObjectStore;
  workDir: string;
  byUid: Map<string, PodHooks>;
}

function entry(state: HookState, pod: Pod): PodHooks {
  let hooks = state.byUid.get(pod.metadata.uid);
  if (!hooks) {
    hooks = {
      pod,
      ip: pod.status?.podIP ?? '',
      sidecar: hasIstioSidecar(pod),
      network: new Map(),
      time: new Map(),
    };
    state.byUid.set(pod.metadata.uid, hooks);
  }
  return hooks;
}

/** Rewrites the pod's files from its rules; a pod left with nothing is forgotten. */
function flush(state: HookState, hooks: PodHooks): void {
  const files = podChaosFiles(state.workDir, hooks.pod);
  mkdirSync(files.dir, { recursive: true });
  const rules = [...hooks.network.values()].flat();
  if (rules.length > 0) writeAtomic(files.networkFaults, { rules } satisfies NetworkFaultsFile);
  else rmSync(files.networkFaults, { force: true });
  const offsets = [...hooks.time.values()];
  const last = offsets[offsets.length - 1];
  if (last) writeAtomic(files.timeOffset, last);
  else rmSync(files.timeOffset, { force: true });
  if (rules.length === 0 && offsets.length === 0) state.byUid.delete(hooks.pod.metadata.uid);
}

function rulesOf(state: HookState, ip: string): NetworkFaultRule[] {
  const out: NetworkFaultRule[] = [];
  for (const h of state.byUid.values()) if (h.ip === ip) out.push(...[...h.network.values()].flat());
  return out;
}

// The kube-proxy shapes only pods without a sidecar; an injected pod's sidecar applies its own rules.
function kubeProxyTable(state: HookState): PodFaultTable {
  const carriedBySidecar = new Set([...state.byUid.values()].filter((h) => h.sidecar).map((h) => h.ip));
  const table = new Map<string, NetworkFaultRule[]>();
  for (const h of state.byUid.values()) {
    if (h.ip === '' || carriedBySidecar.has(h.ip)) continue;
    const rules = [...h.network.values()].flat();
    if (rules.length > 0) table.set(h.ip, [...(table.get(h.ip) ?? []), ...rules]);
  }
  return table;
}

function publish(state: HookState): void {
  publishPodFaults(state.store, kubeProxyTable(state));
}

export function createHookFiles(store: ObjectStore, workDir: string): HookFiles {
  const state: HookState = { store, workDir, byUid: new Map() };
  publish(state);
  return {
    setNetworkRules(pod, source, rules): void {
      const hooks = entry(state, pod);
      hooks.network.set(source, rules);
      flush(state, hooks);
      publish(state);
    },
    setTimeOffset(pod, source, offsetMs): void {
      const hooks = entry(state, pod);
      hooks.time.delete(source);
      hooks.time.set(source, { offsetMs, source });
      flush(state, hooks);
    },
    clear(pod, source): void {
      const hooks = state.byUid.get(pod.metadata.uid);
      if (!hooks) return;
      hooks.network.delete(source);
      hooks.time.delete(source);
      flush(state, hooks);
      publish(state);
    },
    forget(podUid): void {
      if (state.byUid.delete(podUid)) publish(state);
    },
    rulesOf: (ip) => rulesOf(state, ip),
    stop(): void {
      publishPodFaults(store, undefined);
    },
  };
}
