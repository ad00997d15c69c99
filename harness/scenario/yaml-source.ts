// YAML parsing that keeps positions: syntax errors with line:col, and any data path mapped back to its node.

import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
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

/** Parses every document of a YAML file; reports each syntax error with its position. */
export function parseYamlSource(text: string, file: string): YamlSource {
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
  const documents = list
    .filter((doc) => doc.contents !== null)
    .map((doc) => toYamlDocument(doc, lineCounter));
  return { file, documents, problems };
}

// The parser sometimes points at the blank just before the culprit (a duplicate key): move onto it.
function skipBlanks(text: string, offset: number): number {
  let i = offset;
  while (i < text.length - 1 && /\s/.test(text[i] ?? '')) i++;
  return i;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function toYamlDocument(doc: Document.Parsed, lineCounter: LineCounter): YamlDocument {
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    data: doc.toJS({ maxAliasCount: 100 }),
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
