// `meshdrill doctor --target kind`: the tools and their versions, the container engine and its image store, the
// ingress host port, and a cluster that would be reused (its node image, its port mapping, what earlier runs left
// on it) — each checked as provisioning would meet it, nothing created or changed.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DoctorCheck, compareVersions, hostPortFree } from '../shared/index.js';
import { type Host, cacheDirOf, resolveHost } from '../shared/index.js';
import { findPrerequisites, installHintOf } from '../shared/index.js';
import { type ToolRunner, createToolRunner } from '../shared/index.js';
import { KIND_RELEASE, parseKindClusters, parseKindVersion } from './kind-config.js';
import { type KindSettings, readKindSettings } from './kind-settings.js';
import { buildKindRequirements } from './kind-target.js';
import { judgeReuse, readReuseFacts } from './reuse-check.js';

/** The first line a tool prints for its version, or why it could not tell. */
async function versionOf(runner: ToolRunner, tool: string, args: string[]): Promise<string> {
  const result = await runner.run(tool, args, { timeoutMs: 20_000 });
  return result.exitCode === 0
    ? (result.stdout.trim().split('\n')[0] ?? '')
    : `(\`${tool} ${args.join(' ')}\` failed)`;
}

async function checkTools(runner: ToolRunner, settings: KindSettings, host: Host): Promise<DoctorCheck[]> {
  const requirements = await buildKindRequirements(settings, cacheDirOf(host));
  const report = await findPrerequisites(requirements, runner);
  const checks: DoctorCheck[] = [];
  for (const requirement of requirements) {
    const id = requirement.id ?? (requirement.anyOf[0] as string);
    const tool = report.chosen[id];
    if (tool) {
      checks.push({
        status: 'ok',
        check: tool,
        detail: `${(await runner.which(tool)) ?? tool} — ${requirement.purpose}`,
      });
      continue;
    }
    const missing = report.missing.find((m) => m.requirement === requirement);
    checks.push({
      status: 'fail',
      check: requirement.anyOf.join(' or '),
      detail: `${requirement.purpose}: ${
        missing?.reasons
          .map((r) => `${r.tool} ${r.reason}`)
          .join('; ')
          .replace(/\s*\n\s*/g, ' ') ?? 'missing'
      }`,
      fix: requirement.anyOf.map(installHintOf).join('; or '),
    });
  }
  return checks;
}

async function checkKindVersion(runner: ToolRunner): Promise<DoctorCheck | undefined> {
  if (!(await runner.which('kind'))) return undefined;
  const version = parseKindVersion((await runner.run('kind', ['version'])).stdout);
  if (!version) return { status: 'warn', check: 'kind version', detail: 'could not read `kind version`' };
  const order = compareVersions(version, KIND_RELEASE);
  if (order === 0)
    return {
      status: 'ok',
      check: 'kind version',
      detail: `${version}, the release the pinned node images were built for`,
    };
  return {
    status: order < 0 ? 'fail' : 'warn',
    check: 'kind version',
    detail: `${version}; the pinned node images were built for kind ${KIND_RELEASE}, and kind supports an image only with the release that built it`,
    fix:
      order < 0
        ? `install kind ${KIND_RELEASE} or later`
        : `pass --target-opt node-image=kindest/node:…@sha256:… from kind ${version}'s release notes`,
  };
}

async function checkImageStore(runner: ToolRunner, runtime: string): Promise<DoctorCheck> {
  if (runtime === 'podman') {
    const conf = await readFile('/etc/containers/registries.conf', 'utf8').catch(() => '');
    const mode = /^\s*short-name-mode\s*=\s*"(\w+)"/m.exec(conf)?.[1] ?? 'enforcing (the default)';
    return {
      status: 'ok',
      check: 'podman short names',
      detail: `short-name-mode ${mode}; meshdrill passes images by their fully qualified names, so no prompt is needed`,
    };
  }
  const info = await runner.run('docker', ['info', '--format', '{{json .DriverStatus}}']);
  if (info.exitCode !== 0)
    return { status: 'warn', check: 'docker image store', detail: 'could not read `docker info`' };
  if (info.stdout.includes('io.containerd.snapshotter')) {
    return {
      status: 'warn',
      check: 'docker image store',
      detail:
        'containerd image store: `kind load docker-image` fails for multi-platform images (kind #3795); meshdrill then loads a single-platform archive (`docker image save --platform`, Docker ≥ 28), and a preload that still fails only makes the nodes pull from the registry',
      fix: 'nothing needed; to preload as kind does by default, turn off "containerd-snapshotter" in Docker\'s daemon.json',
    };
  }
  return {
    status: 'ok',
    check: 'docker image store',
    detail: 'classic image store: kind loads images directly',
  };
}

/** A cluster of that name: reusable as it is, or why not. No cluster: whether its host port is free. */
async function checkCluster(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  settings: KindSettings,
  host: Host,
): Promise<DoctorCheck[]> {
  const name = settings.cluster.name;
  const listed = await runner.run('kind', ['get', 'clusters']);
  if (listed.exitCode !== 0) {
    return [
      {
        status: 'fail',
        check: 'kind clusters',
        detail: '`kind get clusters` failed',
        fix: `check that ${runtime} is running`,
      },
    ];
  }
  if (!parseKindClusters(listed.stdout).includes(name)) return checkNewCluster(settings);
  if (!settings.reuse) {
    return [
      {
        status: 'fail',
        check: `cluster "${name}"`,
        detail: 'exists, and reuse=false',
        fix: `kind delete cluster --name ${name}, or another cluster-name=`,
      },
    ];
  }
  return checkReuse(runner, runtime, settings, host);
}

/** No cluster of that name yet: a run creates one, if the ingress host port is free. */
async function checkNewCluster(settings: KindSettings): Promise<DoctorCheck[]> {
  const port = settings.cluster.ingressHostPort;
  const free = await hostPortFree(port);
  return [
    {
      status: 'ok',
      check: `cluster "${settings.cluster.name}"`,
      detail: 'does not exist: a run creates it (and deletes it after, unless keep=true)',
    },
    free
      ? { status: 'ok', check: `host port ${port}`, detail: 'free for the ingress mapping' }
      : {
          status: 'fail',
          check: `host port ${port}`,
          detail: 'in use: kind cannot map the ingress there',
          fix: '--target-opt ingress-host-port=<a free port>',
        },
  ];
}

/** The existing cluster, checked as a run would before reusing it (through a kubeconfig in a temp dir). */
async function checkReuse(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  settings: KindSettings,
  host: Host,
): Promise<DoctorCheck[]> {
  const name = settings.cluster.name;
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-doctor-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      (await runner.runChecked('kind', ['get', 'kubeconfig', '--name', name])).stdout,
      { mode: 0o600 },
    );
    const expected = {
      name,
      nodeImage: settings.cluster.nodeImage,
      ingressNodePort: settings.cluster.ingressNodePort,
      ingressHostPort: settings.cluster.ingressHostPort,
    };
    const problems = judgeReuse(
      await readReuseFacts(runner, runtime, host.createKubeClient(kubeconfig), expected),
      expected,
    );
    if (problems.length === 0) {
      return [
        {
          status: 'ok',
          check: `cluster "${name}"`,
          detail: 'exists and will be reused: node image, ingress mapping and no leftovers checked',
        },
      ];
    }
    return problems.map((p) => ({
      status: 'fail',
      check: `cluster "${name}"`,
      detail: p.problem,
      fix: p.fix,
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function diagnoseKind(
  settingsRecord: Record<string, string>,
  hostOverrides: Partial<Host> = {},
): Promise<DoctorCheck[]> {
  const host = resolveHost(hostOverrides);
  const settings = readKindSettings(settingsRecord, undefined);
  const runner = createToolRunner(host);
  const checks = await checkTools(runner, settings, host);
  const kindVersion = await checkKindVersion(runner);
  if (kindVersion) checks.push(kindVersion);
  for (const [tool, args] of [
    ['kubectl', ['version', '--client']],
    ['helm', ['version', '--short']],
  ] as const) {
    if (await runner.which(tool))
      checks.push({
        status: 'ok',
        check: `${tool} version`,
        detail: await versionOf(runner, tool, [...args]),
      });
  }
  const runtime = checks.some((c) => c.check === 'podman' && c.status === 'ok') ? 'podman' : 'docker';
  const runtimeReady = checks.some(
    (c) => (c.check === 'docker' || c.check === 'podman') && c.status === 'ok',
  );
  if (!runtimeReady) return checks;
  checks.push(await checkImageStore(runner, runtime));
  if (await runner.which('kind')) {
    const withProvider = createToolRunner(
      host,
      runtime === 'podman' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {},
    );
    checks.push(...(await checkCluster(withProvider, runtime, settings, host)));
  }
  return checks;
}
