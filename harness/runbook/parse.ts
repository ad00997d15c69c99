// parseRunbook: a Markdown runbook → its executable steps. Fenced bash/sh/shell blocks are commands, fenced
// yaml/yml blocks are manifests to apply; the nearest heading above a block is its title; the rest is prose.

import { fromMarkdown } from 'mdast-util-from-markdown';
import { findDefinitions, scanPlaceholders } from './placeholders.js';
import type { RunbookStep, StepKind } from './types.js';

/** Fence languages and the step kind each becomes (anything else is documentation and is skipped). */
export const FENCE_KINDS: Readonly<Record<string, StepKind>> = {
  bash: 'command',
  sh: 'command',
  shell: 'command',
  yaml: 'apply',
  yml: 'apply',
};

/** A fence whose info string carries this word (```bash skip) is shown to readers but never run. */
export const SKIP_WORD = 'skip';

interface MdNode {
  type: string;
  value?: string;
  lang?: string | null;
  meta?: string | null;
  children?: MdNode[];
  position?: { start: { line: number } };
}

export function parseRunbook(markdown: string, file: string): RunbookStep[] {
  const root = fromMarkdown(markdown) as unknown as MdNode;
  const blocks: { title: string | undefined; kind: StepKind; body: string; line: number }[] = [];
  let heading: string | undefined;
  // Depth-first in document order, so a block inside a list item still gets the heading above it.
  const visit = (node: MdNode): void => {
    if (node.type === 'heading') {
      heading = textOf(node).trim() || heading;
      return;
    }
    if (node.type === 'code') {
      const kind = FENCE_KINDS[(node.lang ?? '').toLowerCase()];
      const skipped = (node.meta ?? '').split(/\s+/).includes(SKIP_WORD);
      const body = node.value ?? '';
      if (kind && !skipped && body.trim() !== '') {
        blocks.push({ title: heading, kind, body, line: node.position?.start.line ?? 0 });
      }
      return;
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(root);

  // A variable assigned earlier in the runbook (in an earlier step, or earlier in the same one) is not a
  // placeholder: the runbook computes it itself.
  const definedBefore = new Map<string, { step: number; offset: number }>();
  const steps: RunbookStep[] = [];
  blocks.forEach((block, index) => {
    const own = block.kind === 'command' ? findDefinitions(block.body) : [];
    const isDefined = (name: string, offset: number): boolean =>
      definedBefore.has(name) || own.some((d) => d.name === name && d.offset < offset);
    steps.push({
      index,
      title: block.title ?? `Step ${index + 1}`,
      kind: block.kind,
      body: block.body,
      file,
      line: block.line,
      placeholders: scanPlaceholders(block.body, block.kind, block.line + 1, isDefined),
    });
    for (const d of own)
      if (!definedBefore.has(d.name)) definedBefore.set(d.name, { step: index, offset: d.offset });
  });
  return steps;
}

function textOf(node: MdNode): string {
  if (typeof node.value === 'string') return node.value;
  return (node.children ?? []).map(textOf).join('');
}
