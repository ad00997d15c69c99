// Go's text/tabwriter as istioctl configures it (minwidth 0, tabwidth 8, padding 5 or 9 … , pad with spaces):
// tab-terminated cells are padded to the widest cell of their column block plus the padding; the text after a
// line's last tab is not aligned. Scripts that parse istioctl output split on runs of spaces, so widths matter.

export interface TabWriterOptions {
  /** Extra spaces after the widest cell of a column (istioctl: 5). */
  padding?: number;
  minWidth?: number;
}

/**
 * Formats lines whose cells are separated by tabs. A column block is a run of consecutive lines that all have a
 * tab-terminated cell at that column, as in Go: widths are computed per block, not over the whole table.
 */
export function formatTable(lines: readonly string[], options: TabWriterOptions = {}): string {
  const padding = options.padding ?? 5;
  const minWidth = options.minWidth ?? 0;
  const rows = lines.map((line) => line.split('\t'));
  // Cells that are tab-terminated: every cell but the last of a row.
  const terminated = (row: string[]): number => row.length - 1;
  const widths: number[][] = rows.map((row) => new Array<number>(terminated(row)).fill(0));
  const maxColumns = Math.max(0, ...rows.map(terminated));
  for (let col = 0; col < maxColumns; col++) {
    let start = 0;
    while (start < rows.length) {
      if (terminated(rows[start] ?? []) <= col) {
        start++;
        continue;
      }
      let end = start;
      let width = minWidth;
      while (end < rows.length && terminated(rows[end] ?? []) > col) {
        width = Math.max(width, [...(rows[end]?.[col] ?? '')].length + padding);
        end++;
      }
      for (let r = start; r < end; r++) {
        const w = widths[r];
        if (w) w[col] = width;
      }
      start = end;
    }
  }
  return rows
    .map((row, r) =>
      row
        .map((cell, col) => {
          const width = widths[r]?.[col];
          return width === undefined ? cell : cell + ' '.repeat(Math.max(0, width - [...cell].length));
        })
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Parses tabwriter output back into records keyed by the header's labels, slicing each row at the header's
 * column offsets (cells may be empty or contain single spaces, so splitting on whitespace is not enough).
 */
export function parseTable(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined) return [];
  const starts: { label: string; at: number }[] = [];
  for (const m of header.matchAll(/\S+(?: \S+)*/g)) starts.push({ label: m[0], at: m.index ?? 0 });
  return lines.slice(1).map((line) => {
    const record: Record<string, string> = {};
    starts.forEach((col, i) => {
      const next = starts[i + 1];
      record[col.label] = line.slice(col.at, next ? next.at : undefined).trim();
    });
    return record;
  });
}
