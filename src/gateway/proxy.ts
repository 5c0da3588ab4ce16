/**
 * The gateway's request handler: `ANY /pub/job/{name}/{version}/...` (and legacy `/pub/fatman/...`).
 * It authenticates, resolves the version, picks a ready replica and streams the request and the
 * response through undici connection pools (keep-alive, one pool per replica address).
 *
 * Errors are JSON `{error:{code,message,details}}`: 401 no or wrong token, 404 unknown job or
 * version, 502 replica unreachable, 503 no replica ready, 504 the job's timeout passed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { mapUpstreamPath, parseGatewayUrl } from './paths.js';
import type { RouteReplica, RouteVersion, RoutingTable } from './routing-table.js';

/** Dependencies of the gateway handler. */
export interface GatewayOptions {
  routes: RoutingTable;
  /** True when the request carries a token allowed to call jobs. */
  authorize: (headers: IncomingHttpHeaders) => boolean;
  /** Called when a replica could not be reached, so reconciliation looks at it soon. */
  onReplicaUnreachable: (containerId: string) => void;
  /** Keep-alive connections per replica. */
  connectionsPerReplica?: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function sendError(res: ServerResponse, status: number, code: string, message: string, requestId: string, extra: object = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, details: [], request_id: requestId, ...extra } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  });
  res.end(body);
}

/** The gateway. `handle` is mounted on the HTTP server for every `/pub/` URL. */
export class Gateway {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: GatewayOptions) {}

  /** Handles one gateway request. Never throws; always answers. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && /^[\w.:-]{1,128}$/.test(incomingId) ? incomingId : randomUUID();
    const url = req.url ?? '/';
    if (url === '/pub/live' || url === '/pub/ready' || url === '/pub/health') {
      const body = JSON.stringify(url === '/pub/health' ? { service: 'pitlane-gateway', status: 'pass' } : { [url.slice(5)]: true });
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end(body);
      return;
    }
    const target = parseGatewayUrl(url);
    if (!target) {
      sendError(res, 404, 'NOT_FOUND', 'not a gateway path: use /pub/job/{name}/{version}/api/v1/...', requestId);
      return;
    }
    if (!this.options.authorize(req.headers)) {
      sendError(res, 401, 'UNAUTHENTICATED', 'a valid token is required (Authorization: Bearer <token> or X-Racetrack-Auth)', requestId);
      return;
    }
    const resolved = this.options.routes.resolve(target.name, target.versionSpec);
    if (!resolved) {
      sendError(res, 404, 'JOB_NOT_FOUND', `job "${target.name}" is not deployed`, requestId);
      return;
    }
    const { resolution, route } = resolved;
    if (!resolution.ok || !route) {
      const message = resolution.ok ? `version not found` : resolution.message;
      sendError(res, 404, 'VERSION_NOT_FOUND', `job "${target.name}": ${message}`, requestId);
      return;
    }
    const upstream = mapUpstreamPath(route.jobtype, route.name, route.version, target.rest, target.query);
    if ('notFound' in upstream) {
      sendError(res, 404, 'NOT_FOUND', upstream.notFound, requestId);
      return;
    }
    if ('local' in upstream) {
      this.answerLocally(res, route, upstream.local, requestId);
      return;
    }
    const replica = this.options.routes.pickReplica(route);
    if (!replica?.host || !replica.port) {
      sendError(
        res,
        503,
        'JOB_NOT_READY',
        `job "${route.name}" ${route.version} has no ready replica${route.statusReason ? `: ${route.statusReason}` : ''}`,
        requestId,
        { job_name: route.name, job_version: route.version },
      );
      return;
    }
    this.forward(req, res, route, replica, upstream.forward, requestId);
  }

  private answerLocally(res: ServerResponse, route: RouteVersion, what: 'live' | 'ready' | 'health', requestId: string): void {
    const ready = route.replicas.some((r) => r.ready);
    const status = what === 'ready' && !ready ? 503 : 200;
    const body = JSON.stringify(
      what === 'health'
        ? { job_name: route.name, job_version: route.version, status: route.status, ready }
        : what === 'live'
          ? { live: true, job_name: route.name, job_version: route.version }
          : { ready },
    );
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
    res.end(body);
  }

  private pool(host: string, port: number): Pool {
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerReplica ?? 128,
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private forward(req: IncomingMessage, res: ServerResponse, route: RouteVersion, replica: RouteReplica, path: string, requestId: string): void {
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      headers[key] = value;
    }
    headers['x-request-id'] = requestId;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-caller-name'] = 'admin';
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD' && (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined);
    const pool = this.pool(replica.host as string, replica.port as number);
    let aborted = false;
    res.on('close', () => {
      if (!res.writableFinished) aborted = true;
    });
    pool
      .stream(
        {
          path,
          method: method as 'GET',
          headers,
          body: hasBody ? req : null,
          headersTimeout: route.timeoutMs,
          bodyTimeout: route.timeoutMs,
          opaque: res,
        },
        ({ statusCode, headers: upstreamHeaders, opaque }) => {
          const response = opaque as ServerResponse;
          const out: Record<string, string | string[]> = {};
          for (const [key, value] of Object.entries(upstreamHeaders)) {
            if (value === undefined || HOP_BY_HOP.has(key)) continue;
            out[key] = value as string | string[];
          }
          out['x-request-id'] = requestId;
          response.writeHead(statusCode, out);
          return response as unknown as Writable;
        },
      )
      .catch((error: Error & { code?: string }) => {
        if (aborted) return;
        if (!hasBody) req.resume();
        if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
          sendError(res, 504, 'JOB_TIMEOUT', `job "${route.name}" ${route.version} did not answer within ${route.timeoutMs / 1000} s`, requestId);
          return;
        }
        const connectFailure =
          error.code === 'ECONNREFUSED' ||
          error.code === 'EHOSTUNREACH' ||
          error.code === 'ECONNRESET' ||
          error.code === 'UND_ERR_CONNECT_TIMEOUT' ||
          error.code === 'UND_ERR_SOCKET';
        if (connectFailure) this.options.onReplicaUnreachable(replica.containerId);
        sendError(res, 502, 'JOB_UNREACHABLE', `job "${route.name}" ${route.version} could not be reached: ${error.code ?? error.message}`, requestId);
      });
  }

  /** Closes every upstream connection pool. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}
