// The HTTP fault filter as Istio configures it from a VirtualService `fault` (pure): a delay (flag DI) and/or
// an abort (flag FI) each applied to its percentage of requests, the delay first. Percentages are Envoy's
// FractionalPercent: `percentage.value` (a double) or the deprecated integer `percent`; unset means 100 %.

import type { FaultPolicy } from '../../model/proxy-config.js';

export interface FaultDecision {
  delayMs?: number;
  abort?: { httpStatus: number };
}

/** Draws the two independent dice the fault filter draws per request; `random` in [0, 1). */
export function decideFault(fault: FaultPolicy | undefined, random: () => number): FaultDecision {
  if (!fault) return {};
  const out: FaultDecision = {};
  if (fault.delay && random() * 100 < fault.delay.percent) out.delayMs = fault.delay.fixedDelayMs;
  if (fault.abort && random() * 100 < fault.abort.percent) out.abort = { httpStatus: fault.abort.httpStatus };
  return out;
}
