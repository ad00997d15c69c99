// The contract between the local API server and the kubelet: what the server needs from the node to answer
// pods/log, pods/exec and metrics.k8s.io (real clusters proxy these to the kubelet too).

export interface LogOptions {
  container: string;
  tailLines?: number;
  /** The log of the previous instance of the container (after a restart). */
  previous?: boolean;
  sinceSeconds?: number;
  timestamps?: boolean;
}

export interface LogFollow {
  /** Lines written so far (after tail/since filtering). */
  initial: string;
  /** Subscribes to new output; returns an unsubscribe function. Ends (onEnd) when the container stops. */
  subscribe(onData: (chunk: string) => void, onEnd: () => void): () => void;
}

export interface ExecIo {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** stdin chunks from the client, when it sends any. */
  onStdin?(listener: (chunk: Buffer | null) => void): void;
}

export interface PodMetrics {
  namespace: string;
  name: string;
  timestamp: string;
  containers: { name: string; cpuNanoCores: number; memoryBytes: number }[];
}

export class PodRuntimeError extends Error {
  constructor(
    readonly code: 400 | 404 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'PodRuntimeError';
  }
}

export interface PodRuntime {
  /** Throws PodRuntimeError(404/400) when the pod or container is unknown or has no previous instance. */
  readLog(namespace: string, pod: string, options: LogOptions): string;
  followLog(namespace: string, pod: string, options: LogOptions): LogFollow;
  /** Runs a command in the container's environment; resolves with its exit code. */
  exec(namespace: string, pod: string, container: string, command: string[], io: ExecIo): Promise<number>;
  /** Real RSS and CPU of the running container processes. */
  podMetrics(): PodMetrics[];
}
