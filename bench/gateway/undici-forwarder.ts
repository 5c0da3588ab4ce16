/**
 * bench/gateway/undici-forwarder.ts: minimal hand-written Node proxies, to tell apart what costs
 * what in Pitlane's gateway (src/gateway/proxy.ts). None of them does the gateway's own work
 * (auth, routing, version resolution, request ids, header filtering); they differ only in how the
 * request is forwarded. run.sh starts one per mode named in BENCH_EXTRA_TARGETS as extra targets
 * `undici-<mode>`:
 *
 *   stream    what the gateway does today: pool.stream() with the IncomingMessage as the request
 *             body (undici's streaming-body path) and the ServerResponse as the sink.
 *   buffered  the same, but the (small) request body is first read into one Buffer, so undici
 *             writes headers + body in one go (its Buffer-body path).
 *   dispatch  pool.dispatch() with a plain handler object (no stream factory, no Writable
 *             plumbing): the Buffer body goes out, response chunks are written to res directly.
 *   http      node:http.request() with a keep-alive Agent, for comparison with undici.
 *
 * Pool settings are the gateway's (connections 128, pipelining 1, keepAliveTimeout 30 s).
 *
 *   UPSTREAM=http://172.18.0.2:7004 PORT=7400 MODE=stream node --import tsx bench/gateway/undici-forwarder.ts
 */
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';

const upstream = process.env.UPSTREAM;
const port = Number(process.env.PORT);
const mode = process.env.MODE ?? 'stream';
if (!upstream || !port || !['stream', 'buffered', 'dispatch', 'http'].includes(mode)) {
  process.stderr.write('UPSTREAM and PORT are required; MODE is stream, buffered, dispatch or http\n');
  process.exit(2);
}

const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 30_000, pipelining: 1 });
const upstreamUrl = new URL(upstream);
const agent = new HttpAgent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 128 });

function fail(res: ServerResponse, error: Error): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end(String(error.message));
}

function requestHeaders(req: IncomingMessage): Record<string, string> {
  return { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': req.headers['content-length'] ?? '0' };
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return { 'content-type': String(headers['content-type'] ?? ''), 'content-length': String(headers['content-length'] ?? '') };
}

/** Reads a small request body into one Buffer. */
function readBody(req: IncomingMessage, done: (body: Buffer | null) => void): void {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    done(null);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
}

function viaStream(req: IncomingMessage, res: ServerResponse, body: Buffer | IncomingMessage | null): void {
  pool
    .stream({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: requestHeaders(req), body, opaque: res }, ({ statusCode, headers, opaque }) => {
      const response = opaque as ServerResponse;
      response.writeHead(statusCode, responseHeaders(headers));
      return response as unknown as Writable;
    })
    .catch((error: Error) => fail(res, error));
}

function viaDispatch(req: IncomingMessage, res: ServerResponse, body: Buffer | null): void {
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(_controller, statusCode, headers) {
      res.writeHead(statusCode, responseHeaders(headers));
    },
    onResponseData(_controller, chunk) {
      res.write(chunk);
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_controller, error) {
      fail(res, error);
    },
  };
  pool.dispatch({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: requestHeaders(req), body }, handler);
}

function viaHttp(req: IncomingMessage, res: ServerResponse): void {
  const out = httpRequest(
    { agent, host: upstreamUrl.hostname, port: upstreamUrl.port, path: req.url, method: req.method, headers: requestHeaders(req) },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, responseHeaders(answer.headers));
      answer.pipe(res);
    },
  );
  out.on('error', (error) => fail(res, error));
  req.pipe(out);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (mode === 'stream') viaStream(req, res, req.method === 'GET' || req.method === 'HEAD' ? null : req);
  else if (mode === 'buffered') readBody(req, (body) => viaStream(req, res, body));
  else if (mode === 'dispatch') readBody(req, (body) => viaDispatch(req, res, body));
  else viaHttp(req, res);
});

server.listen(port, '127.0.0.1', () => process.stderr.write(`forwarder (${mode}) on 127.0.0.1:${port} -> ${upstream}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    server.closeIdleConnections();
    agent.destroy();
    void pool.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
