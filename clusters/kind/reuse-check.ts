// Before a kind cluster that already exists is reused (`reuse=true`), meshdrill checks that it is the cluster the
// settings describe and that no earlier run left a mark on it: a cluster made with another node image or without
// the ingress port mapping would give drills another mesh, or no ingress at all; a PodChaos or a scaled-down
// istiod left by a killed run would fail every drill for reasons that are not the drill's.

import {
  findChangedObjects,
  findRunObjects,
  type KubeClient,
  describeObject,
  keyOf,
} from '../../harness/kube/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import type { ToolRunner } from '../shared/index.js';

/** What was found on the cluster. */
export interface ReuseFacts {
  /** The image the control-plane node runs (undefined when it could not be read). */
  nodeImage: string | undefined;
  /** Host bindings of the ingress node port, `HOST_IP:PORT` each. */
  ingressBindings: string[];
  /** Objects an earlier run created or changed and never cleaned up. */
  leftovers: string[];
}

export interface ReuseExpectations {
  name: string;
  nodeImage: string;
  ingressNodePort: number;
  ingressHostPort: number;
}

/** The image's repository and tag: a digest pins the same tag's content, and may be absent on either side. */
const tagOf = (image: string): string => image.split('@')[0] ?? image;

/** Each way the cluster differs from the settings, with what to do about it (pure). */
export function judgeReuse(
  facts: ReuseFacts,
  expected: ReuseExpectations,
): { problem: string; fix: string }[] {
  const recreate = `kind delete cluster --name ${expected.name}`;
  const out: { problem: string; fix: string }[] = [];
  if (facts.nodeImage === undefined || tagOf(facts.nodeImage) !== tagOf(expected.nodeImage)) {
    out.push({
      problem: `its node image is ${facts.nodeImage ?? '(unreadable)'}, the settings ask for ${tagOf(expected.nodeImage)}`,
      fix: `\`${recreate}\` to let meshdrill create it afresh, or --target-opt node-image=${facts.nodeImage ?? '…'}`,
    });
  }
  if (!facts.ingressBindings.some((b) => b.endsWith(`:${expected.ingressHostPort}`))) {
    const found = facts.ingressBindings.length > 0 ? facts.ingressBindings.join(', ') : 'not published';
    out.push({
      problem: `its ingress node port ${expected.ingressNodePort} is ${found}, not on host port ${expected.ingressHostPort}`,
      fix: `\`${recreate}\`, or --target-opt ingress-host-port= with the port it publishes`,
    });
  }
  if (facts.leftovers.length > 0) {
    const shown = facts.leftovers.slice(0, 10).join(', ');
    const more = facts.leftovers.length > 10 ? ` and ${facts.leftovers.length - 10} more` : '';
    out.push({
      problem: `an earlier run left objects behind: ${shown}${more}`,
      fix: `\`meshdrill cleanup --all --context kind-${expected.name}\` (deletes what runs created, restores what they changed)`,
    });
  }
  return out;
}

/** Reads the facts from the container runtime and the cluster's API. */
export async function readReuseFacts(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  kube: KubeClient,
  expected: ReuseExpectations,
): Promise<ReuseFacts> {
  const node = `${expected.name}-control-plane`;
  const image = await runner.run(runtime, ['inspect', '--format', '{{.Config.Image}}', node]);
  const port = await runner.run(runtime, ['port', node, `${expected.ingressNodePort}/tcp`]);
  const leftovers = [...(await findRunObjects(kube)), ...(await findChangedObjects(kube))].map((o) =>
    describeObject(keyOf(o)),
  );
  return {
    nodeImage: image.exitCode === 0 ? image.stdout.trim() || undefined : undefined,
    ingressBindings:
      port.exitCode === 0
        ? port.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
        : [],
    leftovers,
  };
}

/** Refuses a cluster that is not what the settings describe, naming every difference at once. */
export async function checkReusableCluster(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  kube: KubeClient,
  expected: ReuseExpectations,
): Promise<void> {
  const problems = judgeReuse(await readReuseFacts(runner, runtime, kube, expected), expected);
  if (problems.length === 0) return;
  throw new MeshdrillError(
    'environment',
    `the kind cluster "${expected.name}" cannot be reused:\n${problems.map((p) => `  - ${p.problem}`).join('\n')}`,
    { hint: problems.map((p) => p.fix).join('; ') },
  );
}
