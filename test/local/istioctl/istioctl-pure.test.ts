// The pure parts of the local istioctl: Go tabwriter layout, istioctl's describe helpers and sync states, the
// analyzers on hand-made objects (each code with its real template), Envoy /certs parsing, argument parsing.

import { expect } from 'chai';
import type { KubeObject } from '../../../harness/model/kube-object.js';
import { type AnalysisInput, analyze, formatMessage } from '../../../clusters/local/istioctl/analyze.js';
import { parseArgs, UsageError } from '../../../clusters/local/istioctl/args.js';
import { parseClustersAdmin, parseSubsetKey } from '../../../clusters/local/istioctl/envoy-dump.js';
import { syncRows, writeProxyStatus, xdsStatus } from '../../../clusters/local/istioctl/proxy-status.js';
import { summariseSecrets } from '../../../clusters/local/istioctl/secrets.js';
import { formatTable, parseTable } from '../../../clusters/local/istioctl/tabwriter.js';
import {
  describeMatch,
  describeRouteDomains,
  renderConfigPath,
  writeSecretSummary,
} from '../../../clusters/local/istioctl/writers.js';

function obj(kind: string, namespace: string, name: string, rest: Record<string, unknown> = {}): KubeObject {
  const { labels, ...body } = rest as { labels?: Record<string, string> };
  return { apiVersion: 'v1', kind, metadata: { name, namespace, ...(labels ? { labels } : {}) }, ...body };
}

function input(partial: Partial<AnalysisInput>): AnalysisInput {
  return {
    namespaces: [],
    services: [],
    serviceEntries: [],
    virtualServices: [],
    destinationRules: [],
    gateways: [],
    pods: [],
    ...partial,
  };
}

describe('istioctl (local) pure parts', () => {
  it('formats like Go tabwriter with padding 5: widest cell + 5, last cell unpadded, empty cells padded', () => {
    const text = formatTable([
      'NAME\tDOMAINS\tMATCH\tVS',
      'http.8080\ta.example.com\t/get*\tweb.default',
      '\tb\t/x*\t',
    ]);
    expect(text).to.equal(
      'NAME          DOMAINS           MATCH     VS\n' +
        'http.8080     a.example.com     /get*     web.default\n' +
        '              b                 /x*       \n',
    );
    expect(parseTable(text)).to.deep.equal([
      { NAME: 'http.8080', DOMAINS: 'a.example.com', MATCH: '/get*', VS: 'web.default' },
      { NAME: '', DOMAINS: 'b', MATCH: '/x*', VS: '' },
    ]);
  });

  it('describes domains, matches and config paths as istioctl does', () => {
    const domains = [
      'reviews.demo.svc.cluster.local',
      'reviews.demo.svc.cluster.local:8080',
      'reviews',
      'reviews:8080',
      'reviews.demo.svc',
      'reviews.demo',
    ];
    expect(describeRouteDomains(domains)).to.equal('reviews, reviews.demo');
    expect(describeRouteDomains([...domains, '10.96.0.7'])).to.equal('reviews, reviews.demo + 1 more...');
    expect(describeRouteDomains(['*'])).to.equal('*');
    expect(describeMatch({ prefix: '/' })).to.equal('/*');
    expect(describeMatch({ path: '/API/orders', caseSensitive: true })).to.equal('/API/orders');
    expect(describeMatch({ safeRegex: { regex: '/v[0-9]+' } })).to.equal('regex /v[0-9]+');
    expect(
      renderConfigPath('/apis/networking.istio.io/v1alpha3/namespaces/demo/virtual-service/reviews'),
    ).to.equal('reviews.demo');
    expect(parseSubsetKey('inbound|8080||')).to.deep.equal({
      direction: 'inbound',
      port: 8080,
      subset: '',
      host: '',
    });
    expect(parseSubsetKey('xds-grpc')).to.equal(undefined);
  });

  it('sync states: NOT SENT, SYNCED, STALE (Never Acknowledged), STALE; rows sorted by proxy', () => {
    expect(xdsStatus('', '')).to.equal('NOT SENT');
    expect(xdsStatus('n1', 'n1')).to.equal('SYNCED');
    expect(xdsStatus('n2', undefined)).to.equal('STALE (Never Acknowledged)');
    expect(xdsStatus('n2', 'n1')).to.equal('STALE');
    const rows = syncRows(
      [
        {
          proxy: 'b.demo',
          istio_version: '1.30.3',
          cluster_sent: 'x',
          cluster_acked: 'x',
          route_sent: 'y',
          route_acked: 'x',
        },
        { proxy: 'a.demo', istio_version: '1.30.3' },
      ],
      'istiod-1',
    );
    const table = parseTable(writeProxyStatus(rows));
    expect(table.map((r) => [r.NAME, r.CDS, r.RDS, r.ECDS])).to.deep.equal([
      ['a.demo', 'NOT SENT', 'NOT SENT', 'NOT SENT'],
      ['b.demo', 'SYNCED', 'STALE', 'NOT SENT'],
    ]);
  });

  it('analyze: IST0101 for hosts, subsets (case-sensitive) and gateways; ServiceEntry wildcards count as hosts', () => {
    const vs = obj('VirtualService', 'shop', 'cart', {
      spec: {
        hosts: ['cart'],
        gateways: ['mesh', 'istio-system/front', 'edge'],
        http: [
          { match: [{ uri: { exact: '/a' } }], route: [{ destination: { host: 'cart', subset: 'V1' } }] },
          {
            route: [
              { destination: { host: 'api.partner.example.com' } },
              { destination: { host: 'nowhere' } },
            ],
          },
        ],
      },
    });
    const messages = analyze(
      input({
        services: [obj('Service', 'shop', 'cart')],
        serviceEntries: [
          obj('ServiceEntry', 'shop', 'partners', { spec: { hosts: ['*.partner.example.com'] } }),
        ],
        destinationRules: [
          obj('DestinationRule', 'shop', 'cart', { spec: { host: 'cart', subsets: [{ name: 'v1' }] } }),
        ],
        gateways: [obj('Gateway', 'istio-system', 'front')],
        virtualServices: [vs],
      }),
      'shop',
    ).map(formatMessage);
    expect(messages).to.deep.equal([
      'Error [IST0101] (VirtualService shop/cart) Referenced gateway not found: "edge"',
      'Error [IST0101] (VirtualService shop/cart) Referenced host not found: "nowhere"',
      'Error [IST0101] (VirtualService shop/cart) Referenced host+subset in destinationrule not found: "cart+V1"',
    ]);
  });

  it('analyze: IST0130/IST0131 for unreachable rules and exact duplicate matches (case makes a match distinct)', () => {
    const vs = obj('VirtualService', 'shop', 'cart', {
      spec: {
        hosts: ['cart'],
        http: [
          { name: 'api', match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'cart' } }] },
          { match: [{ uri: { prefix: '/API' } }], route: [{ destination: { host: 'cart' } }] },
          { match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'cart' } }] },
          { route: [{ destination: { host: 'cart' } }] },
        ],
      },
    });
    const messages = analyze(
      input({ services: [obj('Service', 'shop', 'cart')], virtualServices: [vs] }),
      'shop',
    ).map(formatMessage);
    expect(messages).to.deep.equal([
      'Warning [IST0130] (VirtualService shop/cart) VirtualService rule #2 not used (all matches used by prior rules).',
      'Info [IST0131] (VirtualService shop/cart) VirtualService rule #2 match #0 is not used (duplicate/overlapping match in rule api).',
    ]);
  });

  it('analyze: IST0102 for a namespace without injection, IST0103 for a pod without proxy in an injected one', () => {
    const messages = analyze(
      input({
        namespaces: [
          obj('Namespace', '', 'plain'),
          obj('Namespace', '', 'meshed', { labels: { 'istio-injection': 'enabled' } }),
          obj('Namespace', '', 'kube-system'),
        ],
        pods: [
          obj('Pod', 'meshed', 'old-pod', { spec: { containers: [{ name: 'app' }] } }),
          obj('Pod', 'meshed', 'new-pod', {
            spec: { containers: [{ name: 'app' }, { name: 'istio-proxy' }] },
          }),
        ],
      }),
      undefined,
    ).map((m) => `${m.level} ${m.code} ${m.origin}`);
    expect(messages).to.deep.equal(['Info IST0102 Namespace plain', 'Warning IST0103 Pod meshed/old-pod']);
  });

  it('reads Envoy /certs details and /clusters?format=json health', () => {
    const now = new Date('2030-01-02T00:00:00Z');
    const secrets = summariseSecrets(
      {
        certificate: { notAfter: '2030-01-03T00:00:00.000Z' },
        certificates: [
          {
            cert_chain: [
              {
                serial_number: '00AB12',
                valid_from: '2030-01-01T00:00:00.000Z',
                expiration_time: '2030-01-03T00:00:00.000Z',
              },
            ],
            ca_cert: [
              {
                serial_number: 'ff',
                valid_from: '2020-01-01T00:00:00.000Z',
                expiration_time: '2029-12-31T00:00:00.000Z',
              },
            ],
          },
        ],
      },
      undefined,
      now,
    );
    const table = parseTable(writeSecretSummary(secrets));
    expect(table).to.deep.equal([
      {
        'RESOURCE NAME': 'default',
        TYPE: 'Cert Chain',
        STATUS: 'ACTIVE',
        'VALID CERT': 'true',
        'SERIAL NUMBER': 'ab12',
        'NOT AFTER': '2030-01-03T00:00:00Z',
        'NOT BEFORE': '2030-01-01T00:00:00Z',
      },
      {
        'RESOURCE NAME': 'ROOTCA',
        TYPE: 'CA',
        STATUS: 'ACTIVE',
        'VALID CERT': 'false',
        'SERIAL NUMBER': 'ff',
        'NOT AFTER': '2029-12-31T00:00:00Z',
        'NOT BEFORE': '2020-01-01T00:00:00Z',
      },
    ]);
    const hosts = parseClustersAdmin({
      cluster_statuses: [
        {
          name: 'outbound|80||a.demo.svc.cluster.local',
          host_statuses: [
            {
              address: { socket_address: { address: '127.1.0.5', port_value: 80 } },
              health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true },
            },
          ],
        },
      ],
    });
    expect(hosts).to.deep.equal([
      {
        cluster: 'outbound|80||a.demo.svc.cluster.local',
        endpoint: '127.1.0.5:80',
        address: '127.1.0.5',
        port: 80,
        healthStatus: 'HEALTHY',
        failedOutlierCheck: true,
      },
    ]);
    expect(parseClustersAdmin('outbound|80||a::127.1.0.5:80::health_flags::healthy')).to.equal(undefined);
  });

  it('parses flags the pflag way and rejects unknown ones', () => {
    const parsed = parseArgs(['pc', 'routes', 'web-1.demo', '--name=8080', '-n', 'demo', '-o', 'json', '-A']);
    expect(parsed.positionals).to.deep.equal(['pc', 'routes', 'web-1.demo']);
    expect(Object.fromEntries(parsed.flags)).to.deep.equal({
      name: '8080',
      namespace: 'demo',
      output: 'json',
      'all-namespaces': 'true',
    });
    expect(() => parseArgs(['ps', '--bogus'])).to.throw(UsageError, 'unknown flag: --bogus');
    expect(() => parseArgs(['analyze', '-n'])).to.throw(UsageError, 'flag needs an argument: -n');
  });

  it('keeps every --set of an install in order; -y is --skip-confirmation', () => {
    const parsed = parseArgs(['install', '--set', 'revision=canary', '--set=tag=1.30.3', '-y', '-r', 'x']);
    expect(parsed.positionals).to.deep.equal(['install']);
    expect(parsed.repeated?.get('set')).to.deep.equal(['revision=canary', 'tag=1.30.3']);
    expect(parsed.flags.get('skip-confirmation')).to.equal('true');
    expect(parsed.flags.get('revision')).to.equal('x');
  });
});
