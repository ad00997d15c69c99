// PromQL checked at validate with the real grammar (the one Prometheus' own UI parses with), so a query that
// Prometheus would refuse fails before a cluster is provisioned, not minutes into a drill. Beyond the grammar,
// the commonest type error is caught as Prometheus' parser catches it: a range-vector function given an instant
// vector (`rate(x)`), an aggregation or a comparison given a range vector (`sum(x[5m])`, `x[5m] > 0`).

import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

/** Functions whose argument (at the index given) must be a range vector: Prometheus' functions.go. */
const RANGE_ARGUMENT: Record<string, number> = {
  rate: 0,
  irate: 0,
  increase: 0,
  delta: 0,
  idelta: 0,
  deriv: 0,
  changes: 0,
  resets: 0,
  predict_linear: 0,
  holt_winters: 0,
  double_exponential_smoothing: 0,
  avg_over_time: 0,
  min_over_time: 0,
  max_over_time: 0,
  sum_over_time: 0,
  count_over_time: 0,
  last_over_time: 0,
  present_over_time: 0,
  absent_over_time: 0,
  stddev_over_time: 0,
  stdvar_over_time: 0,
  mad_over_time: 0,
  quantile_over_time: 1,
};

const RANGE_NODES = new Set(['MatrixSelector', 'SubqueryExpr']);

/**
 * Why Prometheus would refuse this query, with the offending excerpt; undefined when it parses. `shown` is the
 * query as the user wrote it, when `query` is its expansion (`${scaled:30s}` → `30s`).
 */
export function promqlProblem(query: string, shown = query): string | undefined {
  const tree = parser.parse(query);
  let problem: string | undefined;
  // Syntax first: the parser's error recovery can wrap a broken call in nodes whose types mean nothing.
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) problem ??= syntaxError(query, ref.from, shown);
      return problem === undefined;
    },
  });
  if (problem) return problem;
  tree.iterate({
    enter: (ref) => {
      problem ??= typeError(query, ref.node);
      return problem === undefined;
    },
  });
  return problem;
}

function syntaxError(query: string, at: number, shown: string): string {
  if (at >= query.trimEnd().length) return `PromQL syntax error: the query ends too early ("${shown}")`;
  // The grammar knows every function by name: a call of any other reads as a name followed by a stray "(".
  const unknownCall = /([a-zA-Z_:][\w:]*)\s*$/.exec(query.slice(0, at));
  if (unknownCall && query[at] === '(') {
    return `PromQL: unknown function "${unknownCall[1]}" in "${shown}" — see the function list at prometheus.io/docs/prometheus/latest/querying/functions/`;
  }
  return `PromQL syntax error: unexpected "${excerpt(query, at)}" in "${shown}"`;
}

function typeError(query: string, node: SyntaxNode): string | undefined {
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  if (node.name === 'FunctionCall') {
    const name = text(node.getChild('FunctionIdentifier') ?? node);
    const index = RANGE_ARGUMENT[name];
    const arg = index === undefined ? undefined : argumentsOf(node)[index];
    if (arg && !RANGE_NODES.has(arg.name) && arg.name !== 'ParenExpr') {
      return `PromQL type error: ${name}() expects a range vector such as ${text(arg)}[5m], got "${text(arg)}"`;
    }
  }
  if (node.name === 'AggregateExpr') {
    const arg = argumentsOf(node).at(-1);
    if (arg && RANGE_NODES.has(arg.name)) {
      const op = text(node.getChild('AggregateOp') ?? node);
      return `PromQL type error: ${op}() expects an instant vector, got the range vector "${text(arg)}" (wrap it in rate() or *_over_time())`;
    }
  }
  if (node.name === 'BinaryExpr') {
    const range = node.getChildren('MatrixSelector')[0];
    if (range) {
      return `PromQL type error: a comparison or arithmetic needs instant vectors, got the range vector "${text(range)}"`;
    }
  }
  return undefined;
}

function argumentsOf(call: SyntaxNode): SyntaxNode[] {
  const body = call.getChild('FunctionCallBody');
  const out: SyntaxNode[] = [];
  for (let child = body?.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function excerpt(query: string, at: number): string {
  const rest = query.slice(at);
  return rest.length > 20 ? `${rest.slice(0, 20)}…` : rest;
}
