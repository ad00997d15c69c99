// Envoy's response flags as one string: Envoy prints them comma-separated in the order of its flag enum
// (UH before UF, UO before DI, FI before URX …), whatever order the router set them in.

const ENVOY_ORDER = [
  'LH',
  'UH',
  'UT',
  'LR',
  'UR',
  'UF',
  'UC',
  'UO',
  'NR',
  'DI',
  'FI',
  'RL',
  'UAEX',
  'RLSE',
  'DC',
  'URX',
  'SI',
  'IH',
  'DPE',
  'UMSDR',
  'RFCF',
  'NFCF',
  'DT',
  'UPE',
  'NC',
  'OM',
  'DF',
  'DO',
  'DR',
] as const;

/** Unique flags in Envoy's order, joined by commas; `-` when there are none (the access log's empty value). */
export function formatFlags(flags: readonly string[]): string {
  const unique = [...new Set(flags)];
  if (unique.length === 0) return '-';
  const rank = (f: string): number => {
    const i = (ENVOY_ORDER as readonly string[]).indexOf(f);
    return i < 0 ? ENVOY_ORDER.length : i;
  };
  return unique.sort((a, b) => rank(a) - rank(b)).join(',');
}
