/**
 * The gateway's request handler: `ANY /pub/job/{name}/{version}/...` (and legacy `/pub/fatman/...`).
 * It authenticates, resolves the version, picks a ready replica and streams the request and the
 * response through undici connection pools (keep-alive, one pool per replica address).
 *
 * Errors are JSON `{error:{code,message,details}}`: 401 no or wrong token, 403 no `call_job`
 * permission on the job, version or endpoint, 404 unknown job or version, 502 replica unreachable, 503 no replica ready, 504 the job's timeout passed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { mapUpstreamPath, parseGatewayUrl } from './paths.js';
import type { RouteReplica, RouteVersion, RoutingTable } from './routing-table.js';

/** The gateway's authorisation decision for one call. */
export type GatewayDecision =
  /** Allowed; `caller` (e.g. `user:alice`) is passed to the job as `X-Caller-Name`, absent for public endpoints. */
  | { ok: true; caller?: string }
  | { ok: false; status: 401 | 403; message: string };

/** Dependencies of the gateway handler. */
export interface GatewayOptions {
  routes: RoutingTable;
  /**
   * Decides whether the request may call `endpoint` (the path after the version, e.g.
   * `/api/v1/perform`) of job `name` at exact `version`: `ok`, `unauthenticated` (401: no, unknown,
   * revoked or expired token; `message` says which) or `forbidden` (403: no `call_job` there).
   * Must answer from memory (no database round trip).
   */
  authorize: (headers: IncomingHttpHeaders, name: string, version: string, endpoint: string) => GatewayDecision;
  /** Called when a replica could not be reached, so reconciliation looks at it soon. */
  onReplicaUnreachable: (containerId: string) => void;
  /** Keep-alive connections per replica. */
  connectionsPerReplica?: number;
}

/** Request bodies up to this size (bytes) are buffered before forwarding; larger ones are streamed. */
const SMALL_BODY_BYTES = 64 * 1024;

/** Pitlane's own credentials: never forwarded to a job. */
const CREDENTIALS = new Set(['authorization', 'x-racetrack-auth', 'cookie']);

/**
 * Writes one upstream response straight to the client (undici's dispatch handler API: no
 * intermediate stream), with backpressure, and maps failures to the gateway's JSON errors.
 */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private held: Buffer | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly route: RouteVersion,
    private readonly replica: RouteReplica,
    private readonly onUnreachable: (containerId: string) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.res.destroyed) controller.abort(new Error('client gone'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // A fresh object (deleting keys would turn undici's into a slow dictionary-mode object).
    const out: Record<string, string | string[]> = {};
    for (const key in headers) {
      const value = headers[key];
      if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
    }
    out['x-request-id'] = this.requestId;
    this.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.destroyed) {
      controller.abort(new Error('client gone'));
      return;
    }
    // Hold one chunk back so that a one-chunk response goes out with end() in a single write.
    const previous = this.held;
    this.held = chunk;
    if (previous && !this.res.write(previous)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const last = this.held;
    this.held = undefined;
    if (last) this.res.end(last);
    else this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error & { code?: string }): void {
    const { res, route, requestId } = this;
    if (res.destroyed) return;
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
    if (connectFailure) this.onUnreachable(this.replica.containerId);
    sendError(res, 502, 'JOB_UNREACHABLE', `job "${route.name}" ${route.version} could not be reached: ${error.code ?? error.message}`, requestId);
  }
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

/** A replica's connection pool and its origin (`http://host:port`). */
interface Upstream {
  pool: Pool;
  origin: string;
}

/** The gateway. `handle` is mounted on the HTTP server for every `/pub/` URL. */
export class Gateway {
  private readonly pools = new Map<string, Pool>();
  private upstreamByReplica = new WeakMap<RouteReplica, Upstream>();

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
    const resolved = this.options.routes.resolve(target.name, target.versionSpec);
    const route = resolved?.resolution.ok ? resolved.route : undefined;
    if (!resolved || !route) {
      // Callers without a valid token learn nothing about which jobs exist: 401, not 404.
      const decision = this.options.authorize(req.headers, target.name, '', '');
      if (!decision.ok && decision.status === 401) {
        sendError(res, 401, 'UNAUTHENTICATED', decision.message, requestId);
      } else if (!resolved) {
        sendError(res, 404, 'JOB_NOT_FOUND', `job "${target.name}" is not deployed`, requestId);
      } else {
        const message = resolved.resolution.ok ? 'version not found' : resolved.resolution.message;
        sendError(res, 404, 'VERSION_NOT_FOUND', `job "${target.name}": ${message}`, requestId);
      }
      return;
    }
    const upstream = mapUpstreamPath(route.jobtype, route.name, route.version, target.rest, target.query);
    if ('notFound' in upstream) {
      sendError(res, 404, 'NOT_FOUND', upstream.notFound, requestId);
      return;
    }
    if ('local' in upstream) {
      // /live, /ready and /health of a job are always public (Racetrack's rule).
      this.answerLocally(res, route, upstream.local, requestId);
      return;
    }
    const decision = this.options.authorize(req.headers, route.name, route.version, target.rest || '/');
    if (!decision.ok) {
      sendError(res, decision.status, decision.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', decision.message, requestId);
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
    this.forward(req, res, route, replica, upstream.forward, requestId, decision.caller);
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

  /** The connection pool of a replica's address; remembered per replica object (routing-table reloads make new ones). */
  private upstream(replica: RouteReplica): Upstream {
    let upstream = this.upstreamByReplica.get(replica);
    if (upstream) return upstream;
    const host = replica.host as string;
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${replica.port as number}`;
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: this.options.connectionsPerReplica ?? 128, keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(origin, pool);
    }
    upstream = { pool, origin };
    this.upstreamByReplica.set(replica, upstream);
    return upstream;
  }

  private forward(req: IncomingMessage, res: ServerResponse, route: RouteVersion, replica: RouteReplica, path: string, requestId: string, caller: string | undefined): void {
    const incoming = req.headers;
    const headers: Record<string, string | string[]> = {};
    for (const key in incoming) {
      if (HOP_BY_HOP.has(key) || CREDENTIALS.has(key)) continue;
      const value = incoming[key];
      if (value !== undefined) headers[key] = value;
    }
    headers['x-request-id'] = requestId;
    headers['x-forwarded-host'] = incoming.host ?? '';
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    // Who called, as Pitlane authenticated it; a client's own X-Caller-Name is never passed on.
    if (caller === undefined) delete headers['x-caller-name'];
    else headers['x-caller-name'] = caller;
    const method = req.method ?? 'GET';
    const length = incoming['content-length'];
    const chunked = incoming['transfer-encoding'] !== undefined;
    const { pool, origin } = this.upstream(replica);
    const send = (body: Buffer | IncomingMessage | null): void => {
      pool.dispatch(
        { origin, path, method: method as 'GET', headers, body, headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs },
        new ForwardHandler(res, requestId, route, replica, this.options.onReplicaUnreachable),
      );
    };
    if (length === undefined && !chunked) {
      send(null);
    } else if (!chunked && Number(length) <= SMALL_BODY_BYTES) {
      // Small bodies are read first and sent in one write: far cheaper than streaming them.
      const expected = Number(length);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      req.on('end', () => send(size === 0 && expected === 0 ? null : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
      req.on('error', () => res.destroy());
    } else {
      send(req);
    }
  }

  /** Closes every upstream connection pool. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
    this.upstreamByReplica = new WeakMap();
  }
}
