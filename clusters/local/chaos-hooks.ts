// How the Chaos Mesh emulation reaches the data path, standing in for what real Chaos Mesh does inside a pod
// (tc/netem on the pod's interface for NetworkChaos, a clock_gettime hook for TimeChaos). The kubelet gives every
// container these two environment variables, pointing at per-pod files; the chaos controller writes the files
// (temp + rename); whatever carries the pod's traffic (the sidecar proxy, the programs' outbound HTTP, the
// kube-proxy stand-in) and whatever checks time (the proxy's certificate checks) re-reads them when they change.

export const NETWORK_FAULTS_ENV = 'MESHDRILL_NETWORK_FAULTS_FILE';
export const TIME_OFFSET_ENV = 'MESHDRILL_TIME_OFFSET_FILE';

export interface NetworkFaultRule {
  /** The chaos object that owns the rule: `NetworkChaos/NS/NAME`. */
  source: string;
  action: 'delay' | 'loss' | 'partition';
  /**
   * Relative to the pod the file belongs to: `to` = traffic this pod sends to the peers, `from` = traffic it
   * receives from them, `both`.
   */
  direction: 'to' | 'from' | 'both';
  /** Peer pod IPs, or '*' for any peer. */
  peers: string[] | '*';
  delayMs?: number;
  jitterMs?: number;
  /** 0–100: the share of connections/requests dropped. */
  lossPercent?: number;
  /** 0–100: netem's correlation of successive jitter/loss draws with the previous one. */
  correlation?: number;
}

export interface NetworkFaultsFile {
  rules: NetworkFaultRule[];
}

export interface TimeOffsetFile {
  /** Added to the real clock wherever the pod checks time (certificate validity, rotation). */
  offsetMs: number;
  source: string;
}
