// The k6 stand-in reads meshdrill's generated scripts (both executors, the recorded fixtures) and refuses, with
// every reason, scripts it does not understand; its command line refuses k6 flags it does not implement.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { generateK6Script } from '../../../harness/load/k6/script.js';
import { parseK6Args } from '../../../clusters/local/programs/k6/args.js';
import { readTar, writeTar } from '../../../clusters/local/programs/k6/files.js';
import {
  formatGoDuration,
  readMeshdrillScript,
  ScriptRefused,
  totalDurationMs,
} from '../../../clusters/local/programs/k6/script-reader.js';
import { readBridgedFile } from '../../../clusters/local/programs/k6/volume-bridge.js';
import { makeProfile } from '../../load/support.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/k6');

function refusal(text: string): string[] {
  try {
    readMeshdrillScript(text, 'x.js');
  } catch (error) {
    expect(error).to.be.instanceOf(ScriptRefused);
    expect((error as Error).message).to.match(/not k6 but meshdrill's local stand-in/);
    return (error as ScriptRefused).reasons;
  }
  throw new Error('the script was not refused');
}

describe('k6 stand-in: script reader', () => {
  const generated = generateK6Script(
    makeProfile({
      rate: 20,
      maxDurationMs: 8000,
      maxInFlight: 10,
      maxRequests: 500,
      requestTimeoutMs: 1500,
      host: 'front.drill.local',
      requests: [
        { method: 'get', path: '/echo', headers: {}, weight: 3 },
        { method: 'post', path: '/api', headers: { 'x-a': 'b' }, body: '{"k":1}', weight: 1 },
      ],
    }),
    [{ metric: 'success_rate', op: '>=', value: 0.99, source: 'success_rate >= 99%' } as never],
  );

  it('reads a generated constant-arrival-rate script', () => {
    const script = readMeshdrillScript(generated, 'script.js');
    expect(script.scenario).to.deep.include({
      executor: 'constant-arrival-rate',
      name: 'load',
      rate: 20,
      durationMs: 8000,
      timeUnitMs: 1000,
      maxVUs: 10,
      gracefulStopMs: 1500,
    });
    expect(script.maxRequests).to.equal(500);
    expect(script.requestTimeoutMs).to.equal(1500);
    expect(script.baseUrl).to.deep.equal({ env: 'MESHDRILL_BASE_URL', fallback: 'http://127.0.0.1:8080' });
    expect(script.flagMetric).to.equal('meshdrill_envoy_flags');
    expect(script.requests).to.deep.equal([
      { method: 'GET', path: '/echo', headers: { Host: 'front.drill.local' }, body: null, weight: 3 },
      {
        method: 'POST',
        path: '/api',
        headers: { Host: 'front.drill.local', 'x-a': 'b' },
        body: '{"k":1}',
        weight: 1,
      },
    ]);
    expect(script.thresholds).to.deep.equal({ http_req_failed: ['rate<=0.01'] });
    expect(formatGoDuration(totalDurationMs(script.scenario))).to.equal('9.5s');
  });

  it('reads the recorded fixtures, ramping stages included', () => {
    const constant = readMeshdrillScript(readFileSync(join(FIXTURES, 'constant-basic.js'), 'utf8'), 'c.js');
    expect(constant.scenario.executor).to.equal('constant-arrival-rate');
    const ramping = readMeshdrillScript(readFileSync(join(FIXTURES, 'ramping-mix.js'), 'utf8'), 'r.js');
    expect(ramping.scenario).to.deep.include({
      executor: 'ramping-arrival-rate',
      startRate: 10,
      maxVUs: 500,
    });
    expect(ramping.scenario.executor === 'ramping-arrival-rate' && ramping.scenario.stages).to.deep.equal([
      { target: 200, durationMs: 30_000 },
      { target: 200, durationMs: 60_000 },
      { target: 0, durationMs: 10_000 },
    ]);
    expect(formatGoDuration(totalDurationMs(ramping.scenario))).to.equal('1m42.5s');
  });

  const cases: [string, (s: string) => string, RegExp][] = [
    [
      'a hand-written k6 script',
      () =>
        `import http from 'k6/http';\nexport const options = { vus: 10, duration: '30s' };\nexport default function () { http.get('http://x/'); }\n`,
      /no `const REQUESTS` declaration/,
    ],
    [
      'a closed-model executor',
      (s) => s.replace('"constant-arrival-rate"', '"constant-vus"'),
      /only constant-arrival-rate and ramping-arrival-rate/,
    ],
    [
      'an option it does not implement',
      (s) => s.replace('"discardResponseBodies": true', '"discardResponseBodies": true, "userAgent": "x"'),
      /options the stand-in does not implement: userAgent/,
    ],
    [
      'a scenario field it does not implement',
      (s) =>
        s.replace(
          '"executor": "constant-arrival-rate",',
          '"executor": "constant-arrival-rate", "startTime": "10s",',
        ),
      /fields the stand-in does not implement: startTime/,
    ],
    [
      'a changed default function',
      (s) =>
        s.replace(
          'http.request(request.method, BASE_URL + request.path',
          'http.request("GET", BASE_URL + "/other"',
        ),
      /missing the request call/,
    ],
    [
      'options that are not a JSON literal',
      (s) => s.replace('export const options = {', 'export const options = {\n  ...base,'),
      /not a JSON literal/,
    ],
    ['a request without a path', (s) => s.replace('"path": "/echo"', '"path": "echo"'), /REQUESTS\[0\]/],
  ];
  for (const [name, edit, reason] of cases) {
    it(`refuses ${name}`, () => {
      expect(refusal(edit(generated)).join('\n')).to.match(reason);
    });
  }

  it('parses the operator runner command line and refuses k6 flags it does not implement', () => {
    const parsed = parseK6Args([
      'run',
      '--quiet',
      '--execution-segment=0:1/2',
      '--execution-segment-sequence=0,1/2,1',
      '--out',
      'json=/dev/stdout',
      '/test/script.js',
      '--address=0.0.0.0:6565',
      '--paused',
      '--tag',
      'instance_id=1',
      '--tag',
      'testrun_name=t',
    ]);
    expect(parsed).to.not.have.property('error');
    if ('error' in parsed) return;
    expect(parsed.positional).to.deep.equal(['/test/script.js']);
    expect(parsed.values.get('execution-segment')).to.equal('0:1/2');
    expect(parsed.lists.get('tag')).to.deep.equal(['instance_id=1', 'testrun_name=t']);
    expect([...parsed.bools].sort()).to.deep.equal(['paused', 'quiet']);
    expect(parseK6Args(['run', '--vus', '10', 's.js']))
      .to.have.property('error')
      .that.matches(/does not implement/);
    expect(parseK6Args(['run', '--bogus', 's.js'])).to.deep.equal({ error: 'unknown flag: --bogus' });
    expect(parseK6Args(['cloud', 's.js']))
      .to.have.property('error')
      .that.matches(/unknown command "cloud"/);
  });

  it('round-trips an archive and reads files under a bridged ConfigMap mount', () => {
    const tar = writeTar([
      { name: 'metadata.json', data: Buffer.from('{}') },
      { name: 'data', data: Buffer.from(generated) },
    ]);
    expect(readTar(tar).get('data')?.toString()).to.equal(generated);
    const env = {
      MESHDRILL_CONFIGMAP_MOUNTS: JSON.stringify([{ mountPath: '/test', prefix: 'MESHDRILL_CM0_' }]),
      'MESHDRILL_CM0_script.js': 'text',
    };
    expect(readBridgedFile('/test/script.js', env)).to.deep.equal({ found: true, text: 'text' });
    expect(readBridgedFile('/test/other.js', env)).to.deep.equal({ found: false });
    expect(readBridgedFile('/elsewhere/script.js', env)).to.equal(undefined);
  });
});
