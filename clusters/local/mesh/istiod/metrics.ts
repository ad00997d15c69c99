// istiod's metrics with the real names (ISTIO-FACTS.md): counters carry no `_total` suffix, push errors are
// `pilot_xds_pushes{type=~".*_senderr"}`, convergence is a histogram in seconds.

import type { CertificateAuthority } from '../ca/index.js';
import type { MeshSnapshot } from '../config/snapshot.js';
import { Registry } from '../metrics/registry.js';

const CONVERGENCE_BUCKETS_S = [0.1, 0.5, 1, 3, 5, 10, 20, 30];
const PUSH_TIME_BUCKETS_S = [0.01, 0.1, 1, 3, 5, 10, 20, 30];

// Counters are plain registry counters: the registry never appends `_total`, which matches istiod's
// OpenCensus-era names.
export class IstiodMetrics {
  readonly registry = new Registry();
  private readonly r = this.registry;
  readonly connected = this.r.gauge('pilot_xds', 'Number of endpoints connected to this pilot using XDS.', [
    'version',
  ]);
  readonly pushes = this.r.counter(
    'pilot_xds_pushes',
    'Pilot build and send errors for lds, rds, cds and eds.',
    ['type'],
  );
  readonly pushTriggers = this.r.counter(
    'pilot_push_triggers',
    'Total number of times a push was triggered, labeled by reason for the push.',
    ['type'],
  );
  readonly rejects = this.r.counter(
    'pilot_total_xds_rejects',
    'Total number of XDS responses from pilot rejected by proxy.',
  );
  readonly cdsRejects = this.r.counter('pilot_xds_cds_reject', 'Pilot rejected CDS configs.');
  readonly convergence = this.r.histogram(
    'pilot_proxy_convergence_time',
    'Delay in seconds between config change and a proxy receiving all required configuration.',
    CONVERGENCE_BUCKETS_S,
  );
  readonly pushTime = this.r.histogram(
    'pilot_xds_push_time',
    'Total time in seconds Pilot takes to push lds, rds, cds and eds.',
    PUSH_TIME_BUCKETS_S,
    ['type'],
  );
  readonly services = this.r.gauge('pilot_services', 'Total services known to pilot.');
  readonly virtualServices = this.r.gauge('pilot_virt_services', 'Total virtual services known to pilot.');
  readonly destinationRules = this.r.gauge(
    'pilot_destrule_subsets',
    'Duplicate subsets across destination rules for same host',
  );
  readonly csrCount = this.r.counter(
    'citadel_server_csr_count',
    'The number of CSRs received by Citadel server.',
  );
  readonly issued = this.r.counter(
    'citadel_server_success_cert_issuance_count',
    'The number of certificates issuances that have succeeded.',
  );
  readonly signErr = this.r.counter(
    'citadel_server_csr_sign_err_count',
    'The number of errors occurred when signing the CSR.',
  );
  readonly csrParseErr = this.r.counter(
    'citadel_server_csr_parsing_err_count',
    'The number of errors occurred when parsing the CSR.',
  );
  readonly authnErr = this.r.counter(
    'citadel_server_authentication_failure_count',
    'The number of authentication failures.',
  );
  readonly rootExpiry = this.r.gauge(
    'citadel_server_root_cert_expiry_timestamp',
    'The unix timestamp, in seconds, when Citadel root cert will expire.',
  );
  readonly chainExpiry = this.r.gauge(
    'citadel_server_cert_chain_expiry_timestamp',
    'The unix timestamp, in seconds, when Citadel cert chain will expire.',
  );
  readonly chainExpirySeconds = this.r.gauge(
    'citadel_server_cert_chain_expiry_seconds',
    'The time remaining, in seconds, before the cert chain will expire.',
  );
  readonly build = this.r.gauge('istio_build', 'Istio component build info', ['component', 'tag']);
  private ca: CertificateAuthority | undefined;

  constructor(readonly version: string) {
    this.connected.set({ version }, 0);
    // What dashboards and upgrade checks read the control plane's version from.
    this.build.set({ component: 'pilot', tag: version }, 1);
    for (const t of ['cds', 'eds', 'lds', 'rds']) this.pushes.inc({ type: t }, 0);
    this.rejects.inc({}, 0);
    for (const c of [this.csrCount, this.issued, this.signErr]) c.inc({}, 0);
    this.registry.onCollect(() => {
      if (!this.ca) return;
      this.chainExpirySeconds.set(
        {},
        Math.round((this.ca.signingCertNotAfter.getTime() - Date.now()) / 1000),
      );
    });
  }

  setCa(ca: CertificateAuthority): void {
    this.ca = ca;
    this.rootExpiry.set({}, Math.floor(ca.rootCertNotAfter.getTime() / 1000));
    this.chainExpiry.set({}, Math.floor(ca.signingCertNotAfter.getTime() / 1000));
  }

  refreshInventory(snapshot: MeshSnapshot): void {
    this.services.set({}, snapshot.services.length + snapshot.serviceEntries.length);
    this.virtualServices.set({}, snapshot.virtualServices.length);
  }
}
