// YAML parsing that keeps positions: syntax errors with line:col, and any data path mapped back to its node.

import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  visit,
} from 'yaml';
import type { Problem } from './problem.js';

export interface YamlDocument {
  /** The document as plain data. */
  data: unknown;
  /** Line and column (1-based) of a data path; the nearest existing ancestor when the path is missing. */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): { line: number; column: number };
}

export interface YamlSource {
  file: string;
  documents: YamlDocument[];
  /** Syntax problems; when there are any, `documents` is empty. */
  problems: Problem[];
}

/**
 * What a scenario, manifest or runbook file may hold. Far beyond any real scenario, they stop a file built to
 * exhaust memory or the stack (nested aliases, a "billion laughs") with a clear problem instead of a crash.
 */
export const YAML_LIMITS = { maxBytes: 4 * 1024 * 1024, maxAliasCount: 100, maxDepth: 64 } as const;

/** Parses every document of a YAML file; reports each syntax error and each exceeded limit with its position. */
export function parseYamlSource(text: string, file: string): YamlSource {
  if (text.length > YAML_LIMITS.maxBytes) {
    const message = `file too large: ${text.length} bytes, at most ${YAML_LIMITS.maxBytes} — split it into several files`;
    return { file, documents: [], problems: [{ file, line: 1, column: 1, path: '', message }] };
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: Problem[] = [];
  for (const doc of list) {
    for (const error of doc.errors) {
      const pos = lineCounter.linePos(skipBlanks(text, error.pos[0]));
      problems.push({
        file,
        line: pos.line,
        column: pos.col,
        path: '',
        message: `invalid YAML: ${firstLine(error.message)}`,
      });
    }
  }
  if (problems.length > 0) return { file, documents: [], problems };
  const documents: YamlDocument[] = [];
  for (const doc of list.filter((d) => d.contents !== null)) {
    const converted = toData(doc);
    if ('message' in converted) {
      const pos = lineCounter.linePos(converted.offset);
      problems.push({
        file,
        line: pos.line,
        column: pos.col,
        path: '',
        message: `invalid YAML: ${converted.message}`,
      });
    } else documents.push(toYamlDocument(doc, converted.data, lineCounter));
  }
  return problems.length > 0 ? { file, documents: [], problems } : { file, documents, problems };
}

/**
 * The document as plain data, or the first limit it exceeds and where: too deep a nesting, or aliases expanding
 * too much.
 */
function toData(doc: Document.Parsed): { data: unknown } | { offset: number; message: string } {
  let deepest: { offset: number; depth: number } | undefined;
  let firstAlias: number | undefined;
  visit(doc, (_key, node, path) => {
    if (isAlias(node)) firstAlias ??= rangeStart(node);
    // The path holds the document, then a pair and a collection for each level.
    const depth = path.filter((n) => isMap(n) || isSeq(n)).length;
    if (depth > YAML_LIMITS.maxDepth && !deepest) deepest = { offset: rangeStart(node) ?? 0, depth };
  });
  if (deepest) {
    return {
      offset: deepest.offset,
      message: `nested deeper than ${YAML_LIMITS.maxDepth} levels — flatten the structure`,
    };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount }) };
  } catch (error) {
    if (!/alias/i.test((error as Error).message)) throw error;
    return {
      offset: firstAlias ?? 0,
      message: `aliases expand too much (more than ${YAML_LIMITS.maxAliasCount} uses of the anchors, as in a document built to exhaust memory) — write the values out or use fewer aliases`,
    };
  }
}

// The parser sometimes points at the blank just before the culprit (a duplicate key): move onto it.
function skipBlanks(text: string, offset: number): number {
  let i = offset;
  while (i < text.length - 1 && /\s/.test(text[i] ?? '')) i++;
  return i;
}

function firstLine(message: string): string {
  // The parser's own recursion gives out on a nesting thousands of levels deep: say what the user can fix.
  if (message.includes('call stack'))
    return `nested deeper than ${YAML_LIMITS.maxDepth} levels — flatten the structure`;
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function toYamlDocument(doc: Document.Parsed, data: unknown, lineCounter: LineCounter): YamlDocument {
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    data,
    locate(path, options = {}) {
      let node: unknown = doc.contents;
      let offset = rangeStart(node) ?? 0;
      for (let i = 0; i < path.length; i++) {
        const part = path[i];
        const last = i === path.length - 1;
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part),
          );
          if (!pair) break;
          const keyStart = rangeStart(pair.key);
          const valueStart = rangeStart(pair.value);
          if (last && options.key && keyStart !== undefined) return at(keyStart);
          offset = valueStart ?? keyStart ?? offset;
          node = pair.value;
        } else if (isSeq(node) && typeof part === 'number') {
          const item = node.items[part];
          const start = rangeStart(item);
          if (start === undefined) break;
          offset = start;
          node = item;
        } else {
          break;
        }
      }
      return at(offset);
    },
  };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
