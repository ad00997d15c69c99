// The sidecar's outbound listener: where the app's requests arrive (iptables would redirect them; here the
// app uses HTTP_PROXY). Works out the target host, port and path, then routes (routing.ts).

import type { ServerRequest, ServerResponse } from '../../programs/lib/http1/index.js';
import { handleRouted } from './routing.js';
import type { ProxyState } from './state.js';

/** Authorities and paths the WHATWG URL parser returns unchanged (apart from the host's case). */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::[1-9]\d{0,3})?$/;
const PLAIN_PATH = /^(?:[/?][A-Za-z0-9\-._~!$&()*+,;=:@/?%]*)?$/;

/**
 * The authority and path of an absolute-form request target (`http://host:port/path?query`), as an app with
 * HTTP_PROXY sends it, with what `new URL` would give. Plain targets (the usual case) skip the URL parser;
 * anything it would rewrite (dot segments, characters it escapes, userinfo, IPv6) still goes through it.
 */
export function splitAbsoluteUrl(target: string): { host: string; path: string } {
  const start = target.indexOf('//') + 2;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end += 1;
  const host = target.slice(start, end);
  const rest = target.slice(end);
  if (start < 2 || !PLAIN_HOST.test(host) || !PLAIN_PATH.test(rest) || rest.includes('/.')) {
    const url = new URL(target);
    return { host: url.host, path: `${url.pathname}${url.search}` };
  }
  const defaultPort = target.startsWith('https:') ? ':443' : ':80';
  const lower = host.toLowerCase();
  return {
    host: lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower,
    path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest,
  };
}

export function handleOutbound(state: ProxyState, req: ServerRequest, res: ServerResponse): void {
  let host = req.headers.host ?? '';
  let path = req.url ?? '/';
  if (path.startsWith('http://') || path.startsWith('https://')) {
    const url = splitAbsoluteUrl(path);
    host = url.host;
    path = url.path;
  }
  const colon = host.lastIndexOf(':');
  const port = colon > 0 ? Number(host.slice(colon + 1)) : 80;
  const hostname = (colon > 0 ? host.slice(0, colon) : host).toLowerCase();
  void handleRouted(state, req, res, state.outboundIndex, { host: hostname, port, path, anyPort: false });
}
