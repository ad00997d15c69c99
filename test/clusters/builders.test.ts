// Pure builders of the kind and existing targets: kind config, IstioOperator, Helm values, Prometheus manifests,
// command lines — checked against golden files (UPDATE_GOLDEN=1 regenerates them) and exact argv.

import { expect } from 'chai';
import { stringify } from 'yaml';
import {
  KIND_NODE_IMAGES,
  buildKindConfig,
  nodeImageFor,
  parseKindClusters,
} from '../../clusters/kind/index.js';
import {
  type IstioInstallConfig,
  buildChaosMeshCommands,
  buildIstioHelmCommands,
  buildIstioHelmValues,
  buildIstioOperator,
  buildIstioctlCommands,
  buildK6OperatorCommands,
  buildPortForwardArgs,
  buildPreloadCommands,
  nodePlatform,
  qualifyImage,
  buildPrometheusConfig,
  buildPrometheusManifests,
  CONFIG_CHECKSUM_ANNOTATION,
  formatGoDuration,
  imageTagOf,
  istioArchiveUrl,
  ruleFileKeys,
} from '../../clusters/shared/index.js';
import type { KubeObject } from '../../harness/model/index.js';
import { expectGolden } from './support.js';

const baseIstio: IstioInstallConfig = {
  version: '1.30.3',
  profile: 'default',
  revisionIsDefault: true,
  ingressServiceType: 'NodePort',
  ingressNodePort: 30080,
  ingressHttpsNodePort: 30081,
};

describe('clusters builders', () => {
  describe('kind config', () => {
    it('maps the ingress NodePort to 127.0.0.1 and adds workers, with the pinned image on every node', async () => {
      const config = buildKindConfig({
        name: 'drill',
        nodeImage: nodeImageFor('1.33'),
        workers: 2,
        ingressNodePort: 30080,
        ingressHostPort: 8080,
      });
      await expectGolden('kind-config-2-workers.yaml', stringify(config));
      const nodes = config.nodes as { role: string; image: string }[];
      expect(nodes.map((n) => n.role)).to.deep.equal(['control-plane', 'worker', 'worker']);
      expect(new Set(nodes.map((n) => n.image))).to.deep.equal(new Set([KIND_NODE_IMAGES['1.33']]));
    });

    it('pins every node image by digest and refuses unknown Kubernetes versions', () => {
      for (const image of Object.values(KIND_NODE_IMAGES))
        expect(image).to.match(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
      expect(nodeImageFor('v1.34.2')).to.equal(KIND_NODE_IMAGES['1.34']);
      expect(() => nodeImageFor('1.20')).to.throw(/k8s-version: expected one of .*1\.34.*got "1\.20"/);
    });

    it('reads `kind get clusters` output, including the empty answer', () => {
      expect(parseKindClusters('a\nmeshdrill\n')).to.deep.equal(['a', 'meshdrill']);
      expect(parseKindClusters('No kind clusters found.\n')).to.deep.equal([]);
    });
  });

  describe('Istio', () => {
    it('builds the drill IstioOperator (access logs, stats matcher, NodePort gateway)', async () => {
      await expectGolden('istio-operator-default.yaml', stringify(buildIstioOperator(baseIstio)));
    });

    it('adds SECRET_TTL and keeps the revision off the IstioOperator (it goes on the command line)', async () => {
      const config = { ...baseIstio, revision: '1-30-3', secretTtlMs: 10 * 60_000 };
      const operator = buildIstioOperator(config);
      await expectGolden('istio-operator-secret-ttl.yaml', stringify(operator));
      expect(JSON.stringify(operator)).to.not.include('1-30-3');
      expect(buildIstioctlCommands(config, '/w/kubeconfig', '/w/op.yaml')).to.deep.equal([
        ['install', '--kubeconfig', '/w/kubeconfig', '-f', '/w/op.yaml', '--set', 'revision=1-30-3', '-y'],
        ['tag', 'set', 'default', '--revision', '1-30-3', '--overwrite', '--kubeconfig', '/w/kubeconfig'],
      ]);
    });

    it('builds equivalent Helm values and the exact helm command lines', async () => {
      const config = { ...baseIstio, revision: '1-30-3', secretTtlMs: 90_000 };
      await expectGolden('istio-helm-values.yaml', stringify(buildIstioHelmValues(config)));
      const commands = buildIstioHelmCommands(config, '/w/kubeconfig', '/w/istio').map((c) => c.join(' '));
      expect(commands).to.deep.equal([
        'repo add istio https://istio-release.storage.googleapis.com/charts --force-update',
        'upgrade --install istio-base istio/base --namespace istio-system --version 1.30.3 --kubeconfig /w/kubeconfig --create-namespace -f /w/istio/base.yaml --wait --timeout 10m',
        'upgrade --install istiod-1-30-3 istio/istiod --namespace istio-system --version 1.30.3 --kubeconfig /w/kubeconfig -f /w/istio/istiod.yaml --wait --timeout 10m',
        'upgrade --install istio-ingressgateway istio/gateway --namespace istio-system --version 1.30.3 --kubeconfig /w/kubeconfig -f /w/istio/gateway.yaml --wait --timeout 10m',
      ]);
    });

    it('formats SECRET_TTL as a Go duration', () => {
      expect(formatGoDuration(600_000)).to.equal('10m');
      expect(formatGoDuration(90_000)).to.equal('90s');
      expect(formatGoDuration(7_200_000)).to.equal('2h');
    });

    it('names the release archive per platform as Istio publishes it', () => {
      const base = 'https://github.com/istio/istio/releases/download/1.30.3/istio-1.30.3';
      expect(istioArchiveUrl('1.30.3', 'linux', 'x64')).to.equal(`${base}-linux-amd64.tar.gz`);
      expect(istioArchiveUrl('1.30.3', 'linux', 'arm64')).to.equal(`${base}-linux-arm64.tar.gz`);
      expect(istioArchiveUrl('1.30.3', 'darwin', 'x64')).to.equal(`${base}-osx.tar.gz`);
      expect(istioArchiveUrl('1.30.3', 'darwin', 'arm64')).to.equal(`${base}-osx-arm64.tar.gz`);
      expect(() => istioArchiveUrl('1.30.3', 'win32', 'x64')).to.throw(/no release for win32\/x64/);
    });

    it('reads the running version from the istiod image tag', () => {
      const deployment = (image: string) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {},
        spec: { template: { spec: { containers: [{ image }] } } },
      });
      expect(imageTagOf(deployment('docker.io/istio/pilot:1.29.4'))).to.equal('1.29.4');
      expect(imageTagOf(deployment('localhost:5000/pilot:1.30.3-distroless@sha256:abc'))).to.equal(
        '1.30.3-distroless',
      );
      expect(imageTagOf(undefined)).to.equal(undefined);
    });
  });

  describe('Prometheus', () => {
    const options = {
      scrapeIntervalMs: 5000,
      evaluationIntervalMs: 5000,
      ruleFiles: [
        { name: '/x/rules/mesh.yaml', content: 'groups: []\n' },
        { name: '/y/other rules.yml', content: 'groups: []\n' },
      ],
    };

    it('builds the manifests with the rule files in a ConfigMap and a short scrape interval', async () => {
      const configYaml = stringify(buildPrometheusConfig(options));
      const manifests = buildPrometheusManifests(options, configYaml);
      await expectGolden('prometheus-manifests.yaml', manifests.map((m) => stringify(m)).join('---\n'));
      const rules = manifests.find((m) => m.metadata.name === 'meshdrill-prometheus-rules');
      expect(Object.keys(rules?.data as object)).to.deep.equal(['00-mesh.yaml', '01-other_rules.yml']);
      expect(configYaml).to.include('scrape_interval: 5s');
      const deployment = manifests.find((m) => m.kind === 'Deployment');
      expect(JSON.stringify(deployment)).to.include('--web.enable-lifecycle');
    });

    it('rolls the Prometheus pod when its rules or configuration change, and only then (a reused cluster)', () => {
      const checksum = (o: typeof options, yaml: string): unknown => {
        const deployment = buildPrometheusManifests(o, yaml).find(
          (m) => m.kind === 'Deployment',
        ) as KubeObject;
        const template = (
          deployment.spec as { template: { metadata: { annotations: Record<string, string> } } }
        ).template;
        return template.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION];
      };
      const configYaml = stringify(buildPrometheusConfig(options));
      const first = checksum(options, configYaml);
      expect(first).to.match(/^[0-9a-f]{64}$/);
      expect(checksum(options, configYaml)).to.equal(first);
      const otherRules = {
        ...options,
        ruleFiles: options.ruleFiles.map((f, i) =>
          i === 0 ? { ...f, content: `${f.content}\n# changed` } : f,
        ),
      };
      expect(checksum(otherRules, configYaml)).to.not.equal(first);
      expect(checksum(options, `${configYaml}\n# changed`)).to.not.equal(first);
    });

    it('keeps the scrape timeout within the interval', () => {
      const config = buildPrometheusConfig({ ...options, scrapeIntervalMs: 30_000 }) as {
        global: Record<string, string>;
      };
      expect(config.global).to.deep.include({ scrape_interval: '30s', scrape_timeout: '10s' });
    });

    it('gives rule files unique, ConfigMap-safe keys', () => {
      expect(ruleFileKeys(['/a/r.yaml', '/b/r.yaml', '/c/ä b.yml'])).to.deep.equal([
        '00-r.yaml',
        '01-r.yaml',
        '02-__b.yml',
      ]);
    });
  });

  describe('add-ons, images and port-forward', () => {
    it('installs Chaos Mesh with the containerd socket and one controller replica', () => {
      const [repo, install] = buildChaosMeshCommands(
        { version: '2.8.3', runtime: 'containerd', socketPath: '/run/containerd/containerd.sock' },
        '/w/kubeconfig',
      );
      expect(repo?.join(' ')).to.equal('repo add chaos-mesh https://charts.chaos-mesh.org --force-update');
      expect(install?.join(' ')).to.equal(
        'upgrade --install chaos-mesh chaos-mesh/chaos-mesh -n chaos-mesh --create-namespace --set chaosDaemon.runtime=containerd --set chaosDaemon.socketPath=/run/containerd/containerd.sock --set controllerManager.replicaCount=1 --version 2.8.3 --kubeconfig /w/kubeconfig --wait --timeout 10m',
      );
    });

    it('installs k6-operator from the Grafana charts, at a version when given', () => {
      expect(buildK6OperatorCommands({ version: '3.12.0' }, '/k')[1]?.join(' ')).to.equal(
        'upgrade --install k6-operator grafana/k6-operator -n k6-operator-system --create-namespace --set namespace.create=false --version 3.12.0 --kubeconfig /k --wait --timeout 10m',
      );
      expect(buildK6OperatorCommands({}, '/k')[1]).to.not.include('--version');
    });

    it('preloads images by their fully qualified name, docker directly and podman through an archive', () => {
      const docker = buildPreloadCommands('docker', 'fortio/fortio:1.74.0', 'drill', '/w', 'linux/arm64');
      expect([docker.pull, ...docker.load].map((c) => `${c.tool} ${c.args.join(' ')}`)).to.deep.equal([
        'docker pull --platform linux/arm64 docker.io/fortio/fortio:1.74.0',
        'kind load docker-image docker.io/fortio/fortio:1.74.0 --name drill',
      ]);
      expect(docker.fallbackLoad.map((c) => `${c.tool} ${c.args.join(' ')}`)).to.deep.equal([
        'docker image save --platform linux/arm64 -o /w/docker.io_fortio_fortio_1.74.0.tar docker.io/fortio/fortio:1.74.0',
        'kind load image-archive /w/docker.io_fortio_fortio_1.74.0.tar --name drill',
      ]);
      const podman = buildPreloadCommands('podman', 'fortio/fortio:1.74.0', 'drill', '/w', 'linux/amd64');
      expect([podman.pull, ...podman.load].map((c) => c.args.join(' '))).to.deep.equal([
        'pull --platform linux/amd64 docker.io/fortio/fortio:1.74.0',
        'save -o /w/docker.io_fortio_fortio_1.74.0.tar docker.io/fortio/fortio:1.74.0',
        'load image-archive /w/docker.io_fortio_fortio_1.74.0.tar --name drill',
      ]);
      expect(podman.fallbackLoad).to.deep.equal([]);
    });

    it('qualifies image names as Docker normalises them, and maps the host architecture to a node platform', () => {
      expect(qualifyImage('busybox')).to.equal('docker.io/library/busybox');
      expect(qualifyImage('fortio/fortio:1.74.0')).to.equal('docker.io/fortio/fortio:1.74.0');
      expect(qualifyImage('quay.io/org/app:1')).to.equal('quay.io/org/app:1');
      expect(qualifyImage('localhost/app')).to.equal('localhost/app');
      expect(qualifyImage('registry:5000/app')).to.equal('registry:5000/app');
      expect(nodePlatform('x64')).to.equal('linux/amd64');
      expect(nodePlatform('arm64')).to.equal('linux/arm64');
    });

    it('port-forwards on 127.0.0.1 only, with the target kubeconfig', () => {
      expect(
        buildPortForwardArgs(
          { kubeconfigPath: '/w/k', namespace: 'ns', resource: 'svc/p', remotePort: 9090 },
          41234,
        ),
      ).to.deep.equal([
        '--kubeconfig',
        '/w/k',
        '--namespace',
        'ns',
        'port-forward',
        '--address',
        '127.0.0.1',
        'svc/p',
        '41234:9090',
      ]);
    });
  });
});
