// A lean HTTP/1.1 codec for the emulation's data plane (sidecars, gateways, apps): server and client connections
// over sockets the caller opens (plain or TLS). See server.ts for why node:http is not used there.

export { BodyReader } from './body.js';
export {
  type BodySink,
  type ClientConnection,
  type ClientRequest,
  type ClientResponse,
  type ConnectionLimits,
  ConnectionPool,
  type ExchangeCallbacks,
} from './client.js';
export { type Headers, HeadError, httpDate, type OutgoingHeaders, reasonPhrase } from './head.js';
export {
  createHttp1Server,
  type Http1Server,
  type RequestHandler,
  type ServeOptions,
  ServerRequest,
  ServerResponse,
  serveHttp1,
} from './server.js';
