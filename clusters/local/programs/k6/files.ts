// Files of the k6 stand-in: reading the script (from a bridged ConfigMap mount, or the disk), `k6 archive`'s tar
// (metadata.json + data, the layout of k6's own archives, reduced to what the stand-in reads back), and where an
// output path lands. The container has no filesystem of its own here, so absolute output paths are placed under
// the container's working directory instead of the host's root.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readBridgedFile } from './volume-bridge.js';

export class MissingFile extends Error {
  override name = 'MissingFile';
  constructor(readonly path: string) {
    // k6's own words for a script it cannot find.
    super(
      `The moduleSpecifier "${path}" couldn't be found on local disk. Make sure that you've specified the right path to the file.`,
    );
  }
}

/** Where an output file goes: relative to the working directory, absolute paths re-rooted there. */
export function outputPath(path: string, cwd = process.cwd()): string {
  return isAbsolute(path) ? join(cwd, path) : resolve(cwd, path);
}

function readRaw(path: string): Buffer {
  const bridged = readBridgedFile(path, process.env);
  if (bridged !== undefined) {
    if (!bridged.found) throw new MissingFile(path);
    return Buffer.from(bridged.text, 'utf8');
  }
  try {
    return readFileSync(resolve(process.cwd(), path));
  } catch {
    throw new MissingFile(path);
  }
}

const BLOCK = 512;

function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK, 0);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'ascii',
  );
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** A tar of named entries (ustar, regular files only). */
export function writeTar(entries: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry.name, entry.data.length), entry.data);
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** The regular files of a tar, by name. Bounded by the buffer's length. */
export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = Number.parseInt(header.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = header.toString('ascii', 156, 157);
    if (Number.isNaN(size) || size < 0) throw new Error('not a tar archive');
    if (type === '0' || type === '\0') files.set(name, tar.subarray(at + BLOCK, at + BLOCK + size));
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

export interface LoadedScript {
  /** The path as given on the command line (error messages, archive metadata). */
  path: string;
  source: string;
}

/** A script file, or the script inside a `k6 archive` tar. */
export function loadScript(path: string): LoadedScript {
  const raw = readRaw(path);
  if (path.endsWith('.tar')) {
    const data = readTar(raw).get('data');
    if (!data) throw new Error(`${path}: not a k6 archive (no "data" entry)`);
    return { path, source: data.toString('utf8') };
  }
  return { path, source: raw.toString('utf8') };
}

/** Writes `k6 archive`'s output. */
export function writeArchive(target: string, script: LoadedScript, options: Record<string, unknown>): string {
  const file = outputPath(target);
  mkdirSync(dirname(file), { recursive: true });
  const metadata = {
    type: 'js',
    filename: script.path,
    pwd: process.cwd(),
    options,
    env: {},
    k6version: K6_VERSION,
    goos: 'linux',
  };
  writeFileSync(
    file,
    writeTar([
      { name: 'metadata.json', data: Buffer.from(JSON.stringify(metadata, null, 2)) },
      { name: 'data', data: Buffer.from(script.source, 'utf8') },
    ]),
  );
  return file;
}

/** The k6 release this stand-in answers as (meshdrill's default image tag). */
export const K6_VERSION = 'v0.54.0';
