// An HTTP/1.1 message body as it arrives: content-length, chunked (RFC 9112 §7.1, extensions and trailers read
// and dropped) or until the connection closes. Incremental: it takes what bytes there are and hands on body data
// as soon as it has it, so a proxy can stream.

import { type BodyFraming, HeadError } from './head.js';

type ChunkState = 'size' | 'data' | 'data-crlf' | 'trailers';

const MAX_CHUNK_LINE = 4096;

export class BodyReader {
  done: boolean;
  private remaining: number;
  private state: ChunkState = 'size';

  constructor(
    private readonly framing: BodyFraming,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.done = framing.kind === 'none';
    this.remaining = framing.kind === 'length' ? framing.length : 0;
  }

  /** Consumes body bytes of `buffer` from `offset`; returns how many it took (the rest belongs to what follows). */
  feed(buffer: Buffer, offset: number): number {
    if (this.done) return 0;
    switch (this.framing.kind) {
      case 'length': {
        const n = Math.min(this.remaining, buffer.length - offset);
        if (n > 0) this.onData(buffer.subarray(offset, offset + n));
        this.remaining -= n;
        if (this.remaining === 0) this.done = true;
        return n;
      }
      case 'until-close': {
        if (buffer.length > offset) this.onData(buffer.subarray(offset));
        return buffer.length - offset;
      }
      case 'chunked':
        return this.feedChunked(buffer, offset);
      default:
        return 0;
    }
  }

  /** The connection closed: true when that ends the body, false when the body was cut short. */
  endsAtClose(): boolean {
    if (this.done) return true;
    if (this.framing.kind === 'until-close') {
      this.done = true;
      return true;
    }
    return false;
  }

  private feedChunked(buffer: Buffer, offset: number): number {
    let at = offset;
    while (!this.done && at < buffer.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buffer.length - at);
        this.onData(buffer.subarray(at, at + n));
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      const eol = buffer.indexOf('\r\n', at, 'latin1');
      if (eol < 0) {
        if (buffer.length - at > MAX_CHUNK_LINE) throw new HeadError(400, 'chunk line too long');
        break;
      }
      const line = buffer.toString('latin1', at, eol);
      at = eol + 2;
      if (this.state === 'data-crlf') {
        if (line !== '') throw new HeadError(400, 'chunk data not followed by CRLF');
        this.state = 'size';
      } else if (this.state === 'size') {
        const hex = line.split(';', 1)[0]?.trim() ?? '';
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex))
          throw new HeadError(400, `invalid chunk size: ${JSON.stringify(hex)}`);
        const size = Number.parseInt(hex, 16);
        if (size === 0) this.state = 'trailers';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (line === '') {
        this.done = true; // the blank line after the (dropped) trailer fields
      }
    }
    return at - offset;
  }
}
