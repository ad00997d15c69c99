// The `fortio/fortio` image's program: `fortio server` (echo, debug, fetch proxy, -M multi-server, -P proxy),
// `fortio curl URL`, `fortio load …` and `fortio version`, with fortio's own flag names and defaults.

import { parseFlags } from './flags.js';
import { parseGoDuration } from './echo-params.js';
import { runCurl, runLoad } from './client.js';
import { FORTIO_VERSION, startServer } from './server.js';

const SERVER_FLAGS = {
  'http-port': { kind: 'string', default: '8080' },
  'grpc-port': { kind: 'string', default: '8079' },
  'redirect-port': { kind: 'string', default: '8081' },
  'echo-debug-path': { kind: 'string', default: '/debug' },
  'ui-path': { kind: 'string', default: '/fortio/' },
  'echo-server-default-params': { kind: 'string', default: '' },
  'max-echo-delay': { kind: 'string', default: '1.5s' },
  maxpayloadsizekb: { kind: 'string', default: '256' },
  M: { kind: 'list' },
  P: { kind: 'list' },
  'multi-serial-mode': { kind: 'bool', default: 'false' },
  'multi-mirror-origin': { kind: 'bool', default: 'true' },
  'config-dir': { kind: 'string', default: '' },
  'base-url': { kind: 'string', default: '' },
  'data-dir': { kind: 'string', default: '.' },
  loglevel: { kind: 'string', default: 'info' },
  quiet: { kind: 'bool', default: 'false' },
  'logger-force-color': { kind: 'bool', default: 'false' },
} as const;

const CLIENT_FLAGS = {
  qps: { kind: 'string', default: '8' },
  c: { kind: 'string', default: '4' },
  t: { kind: 'string', default: '5s' },
  n: { kind: 'string', default: '0' },
  H: { kind: 'list' },
  payload: { kind: 'string', default: '' },
  timeout: { kind: 'string', default: '3s' },
  loglevel: { kind: 'string', default: 'info' },
  quiet: { kind: 'bool', default: 'false' },
  json: { kind: 'string', default: '' },
  a: { kind: 'bool', default: 'false' },
  'allow-initial-errors': { kind: 'bool', default: 'false' },
  X: { kind: 'string', default: '' },
} as const;

function usage(): string {
  return `Φορτίο ${FORTIO_VERSION} usage:\n\tfortio command [flags] target\nwhere command is one of: load (load testing), server (starts ui, rest api,\n http-echo, redirect, proxies, tcp-echo, udp-echo and grpc ping servers), curl (single URL debug), version\n`;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage()}`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      serve(rest);
      return;
    case 'curl':
    case 'load':
      process.exitCode = await runClient(command, rest);
      return;
    case 'version':
      process.stdout.write(`${FORTIO_VERSION} (meshdrill emulation)\n`);
      return;
    case 'help':
    case undefined:
      process.stdout.write(usage());
      return;
    default:
      fail(`Error: unknown command "${command}"`);
  }
}

function serve(args: string[]): void {
  const parsed = parseFlags(SERVER_FLAGS, args);
  if ('error' in parsed) fail(parsed.error);
  const v = (k: string): string => parsed.values.get(k) ?? '';
  const maxDelay = parseGoDuration(v('max-echo-delay'));
  if (maxDelay === undefined)
    fail(`invalid value "${v('max-echo-delay')}" for flag -max-echo-delay: parse error`);
  startServer({
    httpPort: v('http-port'),
    redirectPort: v('redirect-port'),
    debugPath: v('echo-debug-path'),
    uiPath: v('ui-path'),
    echoDefaultParams: v('echo-server-default-params'),
    maxEchoDelayMs: maxDelay,
    maxPayloadBytes: Number(v('maxpayloadsizekb')) * 1024,
    multi: parsed.lists.get('M') ?? [],
    multiSerial: v('multi-serial-mode') === 'true',
    multiMirrorOrigin: v('multi-mirror-origin') !== 'false',
    tcpProxies: parsed.lists.get('P') ?? [],
  });
}

/** `fortio curl` or `fortio load`; resolves with the exit code. */
async function runClient(command: 'curl' | 'load', args: string[]): Promise<number> {
  const parsed = parseFlags(CLIENT_FLAGS, args);
  if ('error' in parsed) fail(parsed.error);
  const url = parsed.positional[0];
  if (!url) fail(`Error: fortio ${command} needs a url or destination`);
  const headers = parsed.lists.get('H') ?? [];
  const timeoutMs = parseGoDuration(parsed.values.get('timeout') ?? '3s') ?? 3000;
  if (command === 'curl') {
    return runCurl({ url, headers, timeoutMs, payload: parsed.values.get('payload') ?? '' });
  }
  return runLoad({
    url,
    headers,
    timeoutMs,
    qps: Number(parsed.values.get('qps')),
    connections: Number(parsed.values.get('c')),
    durationMs: parseGoDuration(parsed.values.get('t') ?? '5s') ?? 5000,
    count: Number(parsed.values.get('n')),
  });
}

// ps, top and the OOM message name the program, as they would for the real binary.
process.title = 'fortio';
await main(process.argv.slice(2));
