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

export function createHookFiles(store: ObjectStore, workDir: string): HookFiles {
  const byUid = new Map<string, PodHooks>();

  const entry = (pod: Pod): PodHooks => {
    let hooks = byUid.get(pod.metadata.uid);
    if (!hooks) {
      hooks = {
        pod,
        ip: pod.status?.podIP ?? '',
        sidecar: hasIstioSidecar(pod),
        network: new Map(),
        time: new Map(),
      };
      byUid.set(pod.metadata.uid, hooks);
    }
    return hooks;
  };

  const flush = (hooks: PodHooks): void => {
    const files = podChaosFiles(workDir, hooks.pod);
    mkdirSync(files.dir, { recursive: true });
    const rules = [...hooks.network.values()].flat();
    if (rules.length > 0) writeAtomic(files.networkFaults, { rules } satisfies NetworkFaultsFile);
    else rmSync(files.networkFaults, { force: true });
    const offsets = [...hooks.time.values()];
    const last = offsets[offsets.length - 1];
    if (last) writeAtomic(files.timeOffset, last);
    else rmSync(files.timeOffset, { force: true });
    if (rules.length === 0 && offsets.length === 0) byUid.delete(hooks.pod.metadata.uid);
  };

  const rulesOf = (ip: string): NetworkFaultRule[] => {
    const out: NetworkFaultRule[] = [];
    for (const h of byUid.values()) if (h.ip === ip) out.push(...[...h.network.values()].flat());
    return out;
  };

  // The kube-proxy shapes only pods without a sidecar; an injected pod's sidecar applies its own rules.
  const kubeProxyTable = (): PodFaultTable => {
    const carriedBySidecar = new Set([...byUid.values()].filter((h) => h.sidecar).map((h) => h.ip));
    const table = new Map<string, NetworkFaultRule[]>();
    for (const h of byUid.values()) {
      if (h.ip === '' || carriedBySidecar.has(h.ip)) continue;
      const rules = [...h.network.values()].flat();
      if (rules.length > 0) table.set(h.ip, [...(table.get(h.ip) ?? []), ...rules]);
    }
    return table;
  };
  const publish = (): void => publishPodFaults(store, kubeProxyTable());
  publish();

  return {
    setNetworkRules(pod, source, rules): void {
      const hooks = entry(pod);
      hooks.network.set(source, rules);
      flush(hooks);
      publish();
    },
    setTimeOffset(pod, source, offsetMs): void {
      const hooks = entry(pod);
      hooks.time.delete(source);
      hooks.time.set(source, { offsetMs, source });
      flush(hooks);
    },
    clear(pod, source): void {
      const hooks = byUid.get(pod.metadata.uid);
      if (!hooks) return;
      hooks.network.delete(source);
      hooks.time.delete(source);
      flush(hooks);
      publish();
    },
    forget(podUid): void {
      if (byUid.delete(podUid)) publish();
    },
    rulesOf,
    stop(): void {
      publishPodFaults(store, undefined);
    },
  };
}
