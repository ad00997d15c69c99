// Where the proxy's certificates and configuration come from: istiod (CSR signing, the xDS stream) or files
// (tests, mounted certificates), each followed as it changes.

import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { ProxyConfig } from '../model/proxy-config.js';
import { type CertProvider, startCertAgent, startFileCerts } from './cert-agent.js';
import { trustDomainOf } from './options.js';
import type { ProxyState } from './state.js';
import { spiffeId } from './workload-csr.js';
import { istiodCertSource, startXdsClient, validateConfig } from './xds-client.js';

type ApplyConfig = (config: ProxyConfig) => string | undefined;

/** Starts the workload certificate provider; `onChange` runs whenever it has new material. */
export function startCertificates(state: ProxyState, onChange: () => void): CertProvider {
  const { options, stats, chaos } = state;
  const identity = spiffeId(trustDomainOf(options), options.namespace, options.serviceAccount);
  if (options.certs.kind === 'files') {
    const { certChain, key, root } = options.certs;
    return startFileCerts({ certChain, key, root }, stats, onChange, chaos);
  }
  return startCertAgent({
    identity,
    ttlMs: options.certs.ttlMs,
    source: istiodCertSource(options.certs.istiodUrl, {
      namespace: options.namespace,
      serviceAccount: options.serviceAccount,
      podName: options.podName,
    }),
    stats,
    onChange,
    clock: chaos,
  });
}

/** The config file, applied now and whenever it changes; returns what stops watching it. */
function watchConfigFile(state: ProxyState, path: string, apply: ApplyConfig): () => void {
  const load = (): void => {
    try {
      const checked = validateConfig(JSON.parse(readFileSync(path, 'utf8')));
      if ('config' in checked) apply(checked.config);
      else state.stats.cdsUpdateRejected.inc();
    } catch {
      // A half-written file: the next change re-reads it.
    }
  };
  load();
  watchFile(path, { interval: 200 }, load);
  return () => unwatchFile(path, load);
}

/** Starts the configured config source; returns what stops it. */
export function startConfigSource(state: ProxyState, apply: ApplyConfig): () => void {
  const { options, stats } = state;
  if (options.config.kind === 'file') return watchConfigFile(state, options.config.path, apply);
  const xds = startXdsClient({
    baseUrl: options.config.istiodUrl,
    identity: {
      podName: options.podName,
      namespace: options.namespace,
      podIP: options.podIP,
      mode: options.mode,
      ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}),
    },
    stats,
    apply,
  });
  return () => xds.stop();
}
