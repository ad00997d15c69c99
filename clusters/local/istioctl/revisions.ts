// istioctl's control-plane revision commands: `install [--revision R] [--set tag=V]`, `uninstall --revision R`
// and `tag set|list|remove`, with the checks, prompts and messages of istioctl 1.30 (operator/cmd/mesh/install.go,
// uninstall.go; istioctl/pkg/tag/tag.go, generate.go). The objects are the emulation's istio-discovery chart
// (mesh/install.ts, mesh/revisions.ts), applied through the API as real istioctl applies its rendered manifests.

import type { KubeObject } from '../../../harness/model/index.js';
import { buildInstallManifests } from '../mesh/install.js';
import { asArray, asRecord, asString, asStringMap } from '../mesh/model/read.js';
import {
  chartRevision,
  DEFAULT_REVISION,
  istiodName,
  NEVER_MATCH,
  REV_LABEL,
  revisionLabel,
  TAG_LABEL,
  tagWebhookConfiguration,
} from '../mesh/revisions.js';
import { isServedIstioVersion, servedIstioVersionList } from '../mesh/versions.js';
import { IstioctlError, isRunning, podIp } from './access.js';
import { flagTrue, UsageError } from './args.js';
import type { CommandContext } from './commands.js';
import { istioctlClientVersion } from './version-env.js';
import { formatTable } from './tabwriter.js';

const MWC = 'admissionregistration.k8s.io/v1';
const MWC_KIND = 'MutatingWebhookConfiguration';

/** `--set key=value` values (the last wins), as istioctl merges them into the IstioOperator. */
function setValues(ctx: CommandContext): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of ctx.args.repeated?.get('set') ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${entry}: expected key=value`);
    values.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return values;
}

/** `--revision`, else `--set revision=` (istioctl's applyFlagAliases; `default` means no revision). */
function revisionOf(ctx: CommandContext): string {
  return chartRevision(ctx.args.flags.get('revision') ?? setValues(ctx).get('revision'));
}

/**
 * istioctl's Confirm: unless `-y`, prints the prompt and reads an answer from stdin until it is y/yes or n/no
 * (any case); the end of stdin (a run with no input) is a no.
 */
async function confirmed(ctx: CommandContext, prompt: string): Promise<boolean> {
  if (flagTrue(ctx.args, 'skip-confirmation')) return true;
  for (;;) {
    ctx.io.out(`${prompt} `);
    const answer = (await ctx.io.readLine?.())?.trim().toUpperCase();
    if (answer === undefined || answer === 'N' || answer === 'NO') return false;
    if (answer === 'Y' || answer === 'YES') return true;
  }
}

/**
 * The env the emulated istiod needs beyond the chart's (how to reach the API, its debounce): copied from an
 * istiod already in the cluster, else the kubeconfig this istioctl uses. Real istiod uses its service account.
 */
async function emulationEnv(ctx: CommandContext): Promise<Record<string, string>> {
  const deployments = await ctx.access.list('apps/v1', 'Deployment', ctx.istioNamespace, 'app=istiod');
  for (const d of deployments) {
    const container = asRecord(asArray(asRecord(asRecord(asRecord(d.spec).template).spec).containers)[0]);
    const env = asArray(container.env)
      .map(asRecord)
      .filter((e) => /^(MESHDRILL_|PILOT_DEBOUNCE_AFTER$)/.test(asString(e.name) ?? ''));
    const found = Object.fromEntries(env.map((e) => [asString(e.name) ?? '', asString(e.value) ?? '']));
    if (found.MESHDRILL_KUBECONFIG) return found;
  }
  return ctx.kubeconfig ? { MESHDRILL_KUBECONFIG: ctx.kubeconfig } : {};
}

async function waitAvailable(ctx: CommandContext, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await ctx.access.kube.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ctx.istioNamespace,
      name,
    });
    if (((asRecord(d?.status).availableReplicas as number | undefined) ?? 0) >= 1) return;
    if (Date.now() > deadline) {
      throw new IstioctlError(
        `failed to wait for resource: resources not ready after ${timeoutMs / 1000}s: context deadline exceeded\n  Deployment/${ctx.istioNamespace}/${name} (container failed to start)`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function installCommand(ctx: CommandContext): Promise<number> {
  const sets = setValues(ctx);
  const revision = revisionOf(ctx);
  const version = sets.get('tag') ?? istioctlClientVersion();
  const profile = sets.get('profile') ?? 'default';
  if (!isServedIstioVersion(version)) {
    throw new IstioctlError(
      `--set tag=${version}: the local target serves Istio ${servedIstioVersionList()} only (no image for this tag)`,
    );
  }
  const prompt = `This will install the Istio ${version} profile "${profile}" into the cluster. Proceed? (y/N)`;
  if (!(await confirmed(ctx, prompt))) {
    ctx.io.out('Cancelled.\n');
    return 1;
  }
  const istiodEnv = await emulationEnv(ctx);
  const manifests = buildInstallManifests({ version, ...(revision ? { revision } : {}), istiodEnv });
  for (const { object } of manifests) await ctx.access.kube.apply(object as unknown as KubeObject);
  ctx.io.out('\u2714 Istio core installed \u26f5\ufe0f\n');
  const timeout = Number.parseInt(ctx.args.flags.get('readiness-timeout') ?? '300', 10) * 1000;
  await waitAvailable(ctx, istiodName(revision), timeout);
  ctx.io.out('\u2714 Istiod installed \ud83e\udde0\n');
  if (!revision) {
    await waitAvailable(ctx, 'istio-ingressgateway', timeout);
    ctx.io.out('\u2714 Ingress gateways installed \ud83d\udeec\n');
  }
  ctx.io.out('\u2714 Installation complete\n');
  return 0;
}

// --- uninstall --------------------------------------------------------------------------------------------

/** The kinds `istioctl uninstall` prunes by label that the emulated install creates. */
const PRUNED: [string, string][] = [
  [MWC, MWC_KIND],
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
];

async function prunedObjects(ctx: CommandContext, revision: string): Promise<KubeObject[]> {
  const selector = `${REV_LABEL}=${revision},operator.istio.io/component`;
  const found: KubeObject[] = [];
  for (const [apiVersion, kind] of PRUNED) {
    const namespace = kind === MWC_KIND ? undefined : ctx.istioNamespace;
    found.push(...(await ctx.access.list(apiVersion, kind, namespace, selector)));
  }
  return found;
}

/** The proxies connected to this revision's istiods (their /debug/syncz), as GetIDsFromProxyInfo lists them. */
async function proxiesOf(ctx: CommandContext, revision: string): Promise<string[]> {
  const selector = `app=istiod,${REV_LABEL}=${revision}`;
  const pods = (await ctx.access.list('v1', 'Pod', ctx.istioNamespace, selector)).filter(isRunning);
  const ids: string[] = [];
  for (const pod of pods) {
    const body = await ctx.access.getJson(`http://${podIp(pod)}:15014/debug/syncz`).catch(() => []);
    for (const s of asArray(body).map(asRecord)) {
      ids.push(asString(s.proxy) ?? `${asString(s.pod) ?? ''}.${asString(s.namespace) ?? ''}`);
    }
  }
  return ids.sort();
}

function gvk(o: KubeObject): string {
  const slash = o.apiVersion.indexOf('/');
  const [group, version] =
    slash < 0 ? ['', o.apiVersion] : [o.apiVersion.slice(0, slash), o.apiVersion.slice(slash + 1)];
  return `${group}/${version}, Kind=${o.kind}`;
}

/** preCheckWarnings: proxies still on the revision, then the gateways the prune would take (GatewaysRemovedWarning). */
function uninstallWarning(revision: string, pids: string[], objects: KubeObject[]): string {
  let message = '';
  if (pids.length > 0) {
    message +=
      `There are still ${pids.length} proxies pointing to the control plane revision ${revision}\n` +
      (pids.length <= 30 ? `${pids.join('\n')}\n` : '') +
      'If you proceed with the uninstall, these proxies will become detached from any control plane and will not function correctly.\n';
  }
  const gateways = objects
    .filter((o) => o.kind === 'Deployment' && (o.metadata.name ?? '').includes('gateway'))
    .map((o) => o.metadata.name ?? '');
  if (gateways.length > 0) {
    message += `You are about to remove the following gateways: ${gateways.join(', ')}. To avoid downtime, please quit this command and reinstall the gateway(s) with a revision that is not being removed from the cluster.\n`;
  }
  return message;
}

export async function uninstallCommand(ctx: CommandContext): Promise<number> {
  if (flagTrue(ctx.args, 'purge'))
    throw new UsageError('this istioctl uninstalls by --revision only (no --purge)');
  const given = ctx.args.flags.get('revision') ?? setValues(ctx).get('revision');
  if (given === undefined) {
    throw new UsageError(
      'at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set',
    );
  }
  if (ctx.args.positionals.length > 0) throw new UsageError('istioctl uninstall does not take arguments');
  const revision = revisionLabel(given);
  const objects = await prunedObjects(ctx, revision);
  if (objects.length === 0) throw new IstioctlError('could not find target revision');
  const message = uninstallWarning(revision, await proxiesOf(ctx, revision), objects);
  if (message && flagTrue(ctx.args, 'skip-confirmation')) ctx.io.out(message);
  else if (message && !(await confirmed(ctx, `${message}Proceed? (y/N)`))) {
    ctx.io.out('Cancelled.\n');
    return 1;
  }
  for (const o of objects) {
    await ctx.access.kube.delete({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name ?? '',
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    });
    ctx.io.out(`  Removed ${gvk(o)}/${o.metadata.name}.${o.metadata.namespace ?? ''}.\n`);
  }
  ctx.io.out('\u2714 Uninstall complete\n');
  return 0;
}

// --- tag --------------------------------------------------------------------------------------------------

async function webhooks(ctx: CommandContext, selector: string): Promise<KubeObject[]> {
  return ctx.access.list(MWC, MWC_KIND, undefined, selector);
}

async function namespacesWith(ctx: CommandContext, tag: string): Promise<string[]> {
  return (await ctx.access.list('v1', 'Namespace', undefined, `${REV_LABEL}=${tag}`))
    .map((n) => n.metadata.name ?? '')
    .sort();
}

/** The tag's Service, as revision-tags-svc.yaml renders it: selects the revision's istiod pods. */
function tagService(ctx: CommandContext, tag: string, revision: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `istiod-revision-tag-${tag}`,
      namespace: ctx.istioNamespace,
      labels: {
        [REV_LABEL]: revisionLabel(revision),
        [TAG_LABEL]: tag,
        'operator.istio.io/component': 'Pilot',
        app: 'istiod',
        istio: 'pilot',
      },
    },
    spec: {
      selector: { app: 'istiod', [REV_LABEL]: revisionLabel(revision) },
      ports: [
        { name: 'grpc-xds', port: 15010, protocol: 'TCP' },
        { name: 'https-dns', port: 15012, protocol: 'TCP' },
        { name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP' },
        { name: 'http-monitoring', port: 15014, protocol: 'TCP' },
      ],
    },
  } as unknown as KubeObject;
}

/** generate.go's checks, in its order. */
async function checkTagSet(ctx: CommandContext, tag: string, revision: string): Promise<void> {
  const overwrite = flagTrue(ctx.args, 'overwrite');
  if (
    !overwrite &&
    tag !== DEFAULT_REVISION &&
    (await webhooks(ctx, `${REV_LABEL}=${tag},!${TAG_LABEL}`)).length
  ) {
    throw new IstioctlError(
      `cannot create revision tag "${tag}": found existing control plane revision with same name`,
    );
  }
  const canonical = await webhooks(ctx, `${REV_LABEL}=${revision},!${TAG_LABEL}`);
  if (canonical.length === 0) {
    throw new IstioctlError(
      `cannot modify tag: cannot find MutatingWebhookConfiguration or Service with revision "${revision}"`,
    );
  }
  if (!overwrite && (await webhooks(ctx, `${TAG_LABEL}=${tag}`)).length > 0) {
    throw new IstioctlError(`revision tag "${tag}" already exists, and --overwrite is false`);
  }
}

/** DeactivateIstioInjectionWebhook: the default revision's own webhooks get a selector that never matches. */
async function deactivateDefaultWebhook(ctx: CommandContext): Promise<void> {
  for (const wh of await webhooks(ctx, `${REV_LABEL}=${DEFAULT_REVISION},!${TAG_LABEL}`)) {
    const hooks = asArray((wh as unknown as Record<string, unknown>).webhooks).map((h) => ({
      ...asRecord(h),
      namespaceSelector: NEVER_MATCH,
      objectSelector: NEVER_MATCH,
    }));
    await ctx.access.kube.replace({ ...wh, webhooks: hooks } as KubeObject);
  }
}

async function tagSet(ctx: CommandContext, tag: string): Promise<number> {
  const revision = ctx.args.flags.get('revision') ?? '';
  await checkTagSet(ctx, tag, revision);
  if (tag === DEFAULT_REVISION) await deactivateDefaultWebhook(ctx);
  const webhook = tagWebhookConfiguration(tag, revision, ctx.istioNamespace) as unknown as KubeObject;
  const existing = await ctx.access.kube.get({
    apiVersion: MWC,
    kind: MWC_KIND,
    name: webhook.metadata.name ?? '',
  });
  if (existing)
    await ctx.access.kube.replace({ ...webhook, metadata: { ...existing.metadata, ...webhook.metadata } });
  else await ctx.access.kube.apply(webhook);
  await ctx.access.kube.apply(tagService(ctx, tag, revision));
  ctx.io.out(
    `Revision tag "${tag}" created, referencing control plane revision "${revision}". To enable injection using this\nrevision tag, use 'kubectl label namespace <NAMESPACE> istio.io/rev=${tag}'\n`,
  );
  return 0;
}

async function tagList(ctx: CommandContext): Promise<number> {
  const rows = new Map<string, { tag: string; revision: string }>();
  for (const wh of await webhooks(ctx, REV_LABEL)) {
    const labels = asStringMap(wh.metadata.labels);
    const row = { tag: labels[TAG_LABEL] ?? '', revision: labels[REV_LABEL] ?? '' };
    rows.set(`${row.revision}\t${row.tag}`, row);
  }
  // A revision's untagged row gives way to its tags (listTags).
  for (const r of [...rows.values()]) if (r.tag) rows.delete(`${r.revision}\t`);
  if (rows.size === 0) {
    ctx.io.out('No Istio revision tags found.\n');
    return 0;
  }
  const sorted = [...rows.values()].sort((a, b) =>
    a.revision !== b.revision
      ? a.revision < b.revision
        ? -1
        : 1
      : a.tag < b.tag
        ? -1
        : a.tag > b.tag
          ? 1
          : 0,
  );
  const lines = ['TAG\tREVISION\tNAMESPACES'];
  for (const r of sorted)
    lines.push(`${r.tag}\t${r.revision}\t${(await namespacesWith(ctx, r.tag)).join(',')}`);
  ctx.io.out(formatTable(lines, { padding: 1 }));
  return 0;
}

async function tagRemove(ctx: CommandContext, tag: string): Promise<number> {
  const hooks = await webhooks(ctx, `${TAG_LABEL}=${tag}`);
  const services = await ctx.access.list('v1', 'Service', ctx.istioNamespace, `${TAG_LABEL}=${tag}`);
  if (hooks.length === 0 && services.length === 0) {
    throw new IstioctlError(
      `cannot remove tag "${tag}": cannot find MutatingWebhookConfiguration or Service for tag`,
    );
  }
  const tagged = await namespacesWith(ctx, tag);
  const prompt = `Caution, found ${tagged.length} namespace(s) still injected by tag "${tag}": ${tagged.join(' ')}\nProceed with operation? [y/N]`;
  if (tagged.length > 0 && !(await confirmed(ctx, prompt))) {
    ctx.io.out('Aborting operation.\n');
    return 0;
  }
  for (const o of [...hooks, ...services]) {
    await ctx.access.kube.delete({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name ?? '',
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    });
  }
  ctx.io.out(`Revision tag ${tag} removed\n`);
  return 0;
}

export async function tagCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args.positionals;
  const sole = (what: string): string => {
    if (rest.length === 0) throw new UsageError(`must provide a tag for ${what}`);
    if (rest.length > 1)
      throw new UsageError(`must provide a single tag for ${what === 'removal' ? what : 'creation'}`);
    return rest[0] ?? '';
  };
  switch (sub) {
    case 'set':
      return tagSet(ctx, sole('modification'));
    case 'list':
    case 'show':
      if (rest.length > 0) throw new UsageError('tag list command does not accept arguments');
      return tagList(ctx);
    case 'remove':
    case 'delete':
      return tagRemove(ctx, sole('removal'));
    default:
      throw new UsageError(
        sub ? `unknown subcommand "${sub}"` : 'tag needs a subcommand: set, list or remove',
      );
  }
}
