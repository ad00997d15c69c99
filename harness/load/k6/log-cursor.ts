// Follows a pod log that can only be read whole (the API's pods/log without follow): each read returns the
// complete lines added since the previous one. Pure. The kubelet rotates container logs (10 MiB by default) and
// then serves only the new file; a read that no longer contains the last line consumed counts as a gap.

export interface LogRead {
  /** Complete lines added since the previous read, in order. */
  lines: string[];
  /** True when the previous last line was not found: the log rotated (or was truncated) and lines were lost. */
  gap: boolean;
}

export class LogCursor {
  /** Characters of the log consumed so far (valid while the log only grows). */
  private offset = 0;
  /** The last complete line consumed, to find our place again when the offset no longer fits. */
  private anchor: string | undefined;
  /** Reads that found the log rotated; each may have lost lines. */
  gaps = 0;

  /**
   * The new complete lines in `log`, the whole current log. `final`: the container has exited, so a last line
   * without its newline is complete too.
   */
  read(log: string, final = false): LogRead {
    const end = final ? log.length : log.lastIndexOf('\n') + 1;
    const start = this.findStart(log, end);
    const gap = start === undefined;
    if (gap) this.gaps += 1;
    const text = log.slice(start ?? 0, end);
    this.offset = end;
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (lines.length > 0) this.anchor = lines.at(-1);
    return { lines, gap };
  }

  /** Where the unread part starts, or undefined when our place is gone from the log. */
  private findStart(log: string, end: number): number | undefined {
    if (this.anchor === undefined) return this.offset <= end ? this.offset : undefined;
    const marked = `${this.anchor}\n`;
    // Fast path: the log only grew, and the anchor still ends right at the offset.
    if (this.offset <= end && log.startsWith(marked, this.offset - marked.length)) return this.offset;
    // Otherwise search for the anchor as a whole line: the last occurrence (k6 lines carry nanosecond times, so a
    // repeat is unlikely, and the last one keeps us from reading anything twice).
    const at = log.lastIndexOf(marked, end - marked.length);
    if (at >= 0 && (at === 0 || log[at - 1] === '\n')) return at + marked.length;
    return undefined;
  }
}
