// The fortio emulation against fortio's documented echo behaviour: parameter grammar (pure), and the
// server's flags -echo-server-default-params and -max-echo-delay on a real process.

import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalTree } from '../../../clusters/local/kubelet/index.js';
import {
  generateClose,
  generateDelay,
  generateSize,
  generateStatus,
  parseGoDuration,
  parseHeaderParams,
} from '../../../clusters/local/programs/fortio/echo-params.js';
import { createBundler, programEntry } from '../../../clusters/local/programs/index.js';
import { until } from './support.js';

describe('fortio echo parameters (pure)', () => {
  it('status: a single code, a percentage table, malformed → 400', () => {
    expect(generateStatus('503')).to.equal(503);
    expect(generateStatus('503:10', () => 0.05)).to.equal(503);
    expect(generateStatus('503:10', () => 0.5)).to.equal(200);
    expect(generateStatus('503:10,429:20', () => 0.25)).to.equal(429);
    expect(generateStatus('abc')).to.equal(400);
    expect(generateStatus('503:60,429:50')).to.equal(400);
  });
  it('delay: Go durations, percentages, capped at -max-echo-delay', () => {
    expect(parseGoDuration('1.5s')).to.equal(1500);
    expect(parseGoDuration('1m30s')).to.equal(90_000);
    expect(generateDelay('100ms', 1500)).to.equal(100);
    expect(generateDelay('10s', 1500)).to.equal(1500);
    expect(generateDelay('100ms:50', 1500, () => 0.4)).to.equal(100);
    expect(generateDelay('100ms:50', 1500, () => 0.9)).to.equal(0);
    expect(generateDelay('', 1500)).to.equal(-1);
  });
  it('size, close and header', () => {
    expect(generateSize('1024', 256 * 1024)).to.equal(1024);
    expect(generateSize('999999999', 256 * 1024)).to.equal(256 * 1024);
    expect(generateSize('1024:50', 1e6, () => 0.9)).to.equal(-1);
    expect(generateClose('true')).to.equal(true);
    expect(generateClose('')).to.equal(false);
    expect(generateClose('5', () => 0.01)).to.equal(true);
    expect(generateClose('5', () => 0.5)).to.equal(false);
    expect(parseHeaderParams(['X-A:1', 'bad', 'X-B:two:parts'])).to.deep.equal([
      ['X-A', '1'],
      ['X-B', 'two:parts'],
    ]);
  });
});

describe('fortio server process', function () {
  this.timeout(20_000);
  let dir: string;
  let child: ChildProcess | undefined;
  const ip = '127.1.250.7';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-fortio-'));
    const bundle = await createBundler(dir).ensure(programEntry('./fortio/main.ts'));
    child = spawn(
      process.execPath,
      [
        bundle,
        'server',
        '-redirect-port',
        'disabled',
        '-echo-server-default-params',
        'status=202&header=X-Default:yes',
        '-max-echo-delay',
        '200ms',
      ],
      {
        env: { ...process.env, MESHDRILL_POD_IP: ip },
        detached: true,
        stdio: 'ignore',
      },
    );
    await until(
      'fortio listening',
      async () => (await fetch(`http://${ip}:8080/`).catch(() => undefined)) !== undefined,
    );
  });
  after(() => {
    if (child?.pid) signalTree(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies -echo-server-default-params only when the request has no query string', async () => {
    const plain = await fetch(`http://${ip}:8080/anything`);
    expect(plain.status).to.equal(202);
    expect(plain.headers.get('x-default')).to.equal('yes');
    const explicit = await fetch(`http://${ip}:8080/anything?status=201`);
    expect(explicit.status).to.equal(201);
    expect(explicit.headers.get('x-default')).to.equal(null);
  });

  it('caps delay at -max-echo-delay, echoes the body, sends size bytes, and closes on close=true', async () => {
    const t0 = performance.now();
    const slow = await fetch(`http://${ip}:8080/?delay=5s`);
    const ms = performance.now() - t0;
    expect(slow.status).to.equal(200);
    expect(ms).to.be.within(180, 1500);
    const echoed = await fetch(`http://${ip}:8080/?x=1`, {
      method: 'POST',
      body: 'ping',
      headers: { 'content-type': 'text/plain' },
    });
    expect(await echoed.text()).to.equal('ping');
    expect(echoed.headers.get('content-type')).to.equal('text/plain');
    const sized = await fetch(`http://${ip}:8080/?size=1234`);
    expect((await sized.arrayBuffer()).byteLength).to.equal(1234);
    const closed = await fetch(`http://${ip}:8080/?close=true`);
    expect(closed.headers.get('connection')).to.equal('close');
  });

  it('serves the debug page on /debug', async () => {
    const text = await (await fetch(`http://${ip}:8080/debug?env=dump`)).text();
    expect(text).to.match(/^Φορτίο version \S+ echo debug server up for/);
    expect(text).to.include(`MESHDRILL_POD_IP=${ip}`);
  });
});
