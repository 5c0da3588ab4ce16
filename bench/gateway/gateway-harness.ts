/**
 * bench/gateway/gateway-harness.ts: Pitlane's real gateway code (src/gateway, src/auth, run by tsx) alone
 * on a node:http server, with a fixed routing table pointing at one replica. It is a lab for
 * src/gateway/proxy.ts: the same code can run unchanged or with prototype fixes applied at run
 * time (nothing in src/ is modified), so their effect is measured in the same bench run.
 *
 *   UPSTREAM=172.18.0.2:7004 PORT=7401 TOKEN=... PATCHES=buffer,authcache,resolvecache \
 *     node --import tsx bench/gateway/gateway-harness.ts
 *
 * PATCHES (comma-separated, empty = the gateway exactly as built):
 *   buffer        request bodies with a content-length up to 64 KiB are read into one Buffer and
 *                 passed to undici as a Buffer, instead of the IncomingMessage stream (undici's
 *                 streaming-body path costs several listeners, an AsyncWriter and extra socket
 *                 writes per request; the Buffer path is one corked write)
 *   authcache     the last accepted Authorization header value is remembered, so the token is not
 *                 SHA-256-hashed on every call (a wrong value still goes through the full check)
 *   resolvecache  routes.resolve(name, spec) is memoised until the next reload (no semver work
 *                 per call)
 *   lean          fewer allocations per call: no Object.entries() copies of the headers, the
 *                 response headers taken as they come, no 'close' listener on the response
 *   all           all of the above
 *   workersN      N processes (e.g. workers2) share the port through node:cluster, each running
 *                 the gateway (the multi-process experiment; not part of `all`)
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { errors as undiciErrors, type Pool } from 'undici';
import { credentialFromHeaders, hashToken } from '../../src/auth/index.js';
import { Gateway, RoutingTable, type GatewayDecision } from '../../src/gateway/index.js';

const upstream = process.env.UPSTREAM ?? '';
const port = Number(process.env.PORT);
const token = process.env.TOKEN ?? '';
const patches = new Set((process.env.PATCHES ?? '').split(',').filter(Boolean));
if (patches.has('all')) for (const p of ['buffer', 'authcache', 'resolvecache', 'lean']) patches.add(p);
const [host, portText] = [upstream.slice(0, upstream.lastIndexOf(':')), upstream.slice(upstream.lastIndexOf(':') + 1)];
if (!host || !portText || !port || !token) {
  process.stderr.write('UPSTREAM (host:port), PORT and TOKEN are required\n');
  process.exit(2);
}

const workerPatch = [...patches].find((p) => /^workers\d+$/.test(p));
const workerCount = workerPatch ? Number(workerPatch.slice(7)) : 1;
if (workerCount > 1 && cluster.isPrimary) {
  for (let i = 0; i < workerCount; i++) cluster.fork();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
      setTimeout(() => process.exit(0), 500).unref();
    });
  }
  await new Promise(() => {});
}

const now = new Date().toISOString();
const routes = new RoutingTable({
  list: async () => [
    {
      name: 'echo',
      version: '1.0.0',
      status: 'running',
      statusReason: null,
      jobtype: 'docker-proxy',
      manifest: { timeout_s: 60 },
      imageId: 'bench',
      imageTag: 'bench',
      deploymentId: 'bench',
      containerSpec: {},
      deployedAt: now,
      updatedAt: now,
    },
  ],
  allReplicas: async () => [
    { containerId: 'bench', jobName: 'echo', jobVersion: '1.0.0', replicaIndex: 0, host, port: Number(portText), createdAt: now },
  ],
} as never);
await routes.reload();

// One token, checked by hash (the server itself uses src/auth's permission cache).
const expectedHash = hashToken(token);
const verify = (headers: IncomingMessage['headers']): boolean => {
  const credential = credentialFromHeaders(headers);
  return credential !== undefined && hashToken(credential.token) === expectedHash;
};
const ALLOWED: GatewayDecision = { ok: true };
const DENIED: GatewayDecision = { ok: false, status: 401, message: 'a valid token is required' };
let acceptedAuthorization: string | undefined;
const authorize = patches.has('authcache')
  ? (headers: IncomingMessage['headers']): GatewayDecision => {
      const value = headers.authorization;
      if (value !== undefined && value === acceptedAuthorization) return ALLOWED;
      const ok = verify(headers);
      if (ok && typeof value === 'string') acceptedAuthorization = value;
      return ok ? ALLOWED : DENIED;
    }
  : (headers: IncomingMessage['headers']): GatewayDecision => (verify(headers) ? ALLOWED : DENIED);

const gateway = new Gateway({ routes, authorize, onReplicaUnreachable: () => {} });

if (patches.has('resolvecache')) {
  const resolve = routes.resolve.bind(routes);
  const cache = new Map<string, ReturnType<RoutingTable['resolve']>>();
  routes.resolve = (name: string, spec: string) => {
    const key = `${name}\0${spec}`;
    let hit = cache.get(key);
    if (hit === undefined && !cache.has(key)) {
      hit = resolve(name, spec);
      cache.set(key, hit);
    }
    return hit;
  };
}

// The prototype of a fixed Gateway.forward (same behaviour and error mapping as src/gateway/proxy.ts).
type Route = { name: string; version: string; timeoutMs: number };
type Replica = { containerId: string; host: string; port: number };
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const MAX_BUFFERED = 64 * 1024;
const internals = gateway as unknown as {
  forward: (req: IncomingMessage, res: ServerResponse, route: Route, replica: Replica, path: string, requestId: string) => void;
  pool: (host: string, port: number) => Pool;
};
const originalForward = internals.forward.bind(gateway);

function send(res: ServerResponse, status: number, code: string, message: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, details: [], request_id: requestId } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId });
  res.end(body);
}

function forwardWith(req: IncomingMessage, res: ServerResponse, route: Route, replica: Replica, path: string, requestId: string, body: Buffer | IncomingMessage | null): void {
  const lean = patches.has('lean');
  const headers: Record<string, string | string[]> = {};
  const incoming = req.headers;
  for (const key in incoming) {
    const value = incoming[key];
    if (value === undefined || HOP_BY_HOP.has(key)) continue;
    headers[key] = value;
  }
  headers['x-request-id'] = requestId;
  headers['x-forwarded-host'] = incoming.host ?? '';
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-caller-name'] = 'admin';
  if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
  let aborted = false;
  if (!lean) {
    res.on('close', () => {
      if (!res.writableFinished) aborted = true;
    });
  }
  internals
    .pool(replica.host, replica.port)
    .stream(
      { path, method: (req.method ?? 'GET') as 'GET', headers, body, headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs, opaque: res },
      ({ statusCode, headers: upstreamHeaders, opaque }) => {
        const response = opaque as ServerResponse;
        if (lean) {
          // undici's parsed headers are a fresh object: drop hop-by-hop keys in place.
          for (const key of HOP_BY_HOP) if (key in upstreamHeaders) delete upstreamHeaders[key];
          upstreamHeaders['x-request-id'] = requestId;
          response.writeHead(statusCode, upstreamHeaders as Record<string, string | string[]>);
        } else {
          const out: Record<string, string | string[]> = {};
          for (const [key, value] of Object.entries(upstreamHeaders)) {
            if (value === undefined || HOP_BY_HOP.has(key)) continue;
            out[key] = value as string | string[];
          }
          out['x-request-id'] = requestId;
          response.writeHead(statusCode, out);
        }
        return response as unknown as Writable;
      },
    )
    .catch((error: Error & { code?: string }) => {
      if (aborted || res.destroyed) return;
      if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
        send(res, 504, 'JOB_TIMEOUT', `job "${route.name}" ${route.version} did not answer within ${route.timeoutMs / 1000} s`, requestId);
        return;
      }
      send(res, 502, 'JOB_UNREACHABLE', `job "${route.name}" ${route.version} could not be reached: ${error.code ?? error.message}`, requestId);
    });
}

if (patches.has('buffer') || patches.has('lean')) {
  internals.forward = (req, res, route, replica, path, requestId) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      req.resume();
      forwardWith(req, res, route, replica, path, requestId, null);
      return;
    }
    const length = req.headers['content-length'];
    const size = length === undefined ? Number.NaN : Number(length);
    if (!patches.has('buffer') || !(size <= MAX_BUFFERED)) {
      // Unknown or large body: stream it, as the gateway does today.
      if (!patches.has('lean')) return originalForward(req, res, route, replica, path, requestId);
      forwardWith(req, res, route, replica, path, requestId, size === 0 ? null : req);
      return;
    }
    if (size === 0) {
      req.resume();
      forwardWith(req, res, route, replica, path, requestId, null);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forwardWith(req, res, route, replica, path, requestId, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  };
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => gateway.handle(req, res));
server.listen(port, '127.0.0.1', () =>
  process.stderr.write(`gateway harness [${[...patches].join(',') || 'as built'}] on 127.0.0.1:${port} -> ${upstream}\n`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    server.closeIdleConnections();
    void gateway.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
