#!/usr/bin/env node
/**
 * Pitlane's Node wrapper: serves a user module's `perform(input)` over HTTP with the wrapper
 * contract of Pitlane's DESIGN.md ("Wrapper job types", Racetrack's contract). `node:http` only,
 * no dependencies, so it runs on any Node >= 20 and adds nothing to the job's node_modules.
 *
 *   node server.mjs ENTRYPOINT          (or PITLANE_ENTRYPOINT=ENTRYPOINT node server.mjs)
 *
 * Routes, under /pub/job/{JOB_NAME}/{any version}, /pub/fatman/{JOB_NAME}/{any version} and at the root:
 *   POST /api/v1/perform      body: a JSON object (empty body = {}), passed to perform(input, context);
 *                             200 with the result as JSON; 400 {error, type} when the body is not a
 *                             JSON object or perform throws a TypeError/RangeError; 500 {error, type}
 *                             for any other error; an error with a numeric `status`/`statusCode`
 *                             between 400 and 599 sets the status itself; 503 until /ready.
 *   POST /api/v1/{aux}        one per `auxiliaryEndpoints` entry, same rules as perform
 *   GET  /api/v1/parameters   the `parameters` export, or []
 *   GET  /live                {live, deployment_timestamp}; 500 {live: false, error, ...} when the
 *                             module failed to load or its init() threw
 *   GET  /ready               200 {ready: true} once loaded and init() resolved, else 500 {ready: false}
 *   GET  /health              summary; 200 only when live and ready
 *   GET  /metrics             Prometheus text (metrics.mjs)
 *   GET  /docs                OpenAPI 3.0 JSON (openapi.mjs); GET / redirects there
 * `context` is `{ method, path, headers, requestId, callerName, signal }` (`signal` aborts when the
 * client goes away).
 *
 * Environment: PORT (default 7000; listens on 0.0.0.0), JOB_NAME, JOB_VERSION,
 * JOB_DEPLOYMENT_TIMESTAMP, REQUEST_TRACING_HEADER (default X-Request-Tracing-Id),
 * CALLER_NAME_HEADER (default X-Caller-Name), LOG_STRUCTURED=true (JSON log lines),
 * LOG_CALLER_NAME=true, PITLANE_MAX_BODY_BYTES (default 16 MiB), PITLANE_SHUTDOWN_TIMEOUT_MS
 * (default 8000). One log line per request on stdout; errors with stacks on stderr.
 * SIGTERM/SIGINT: /ready turns 500, the listener closes, in-flight requests finish (up to the
 * shutdown timeout), the module's shutdown() runs, exit 0.
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { loadJob } from './job.mjs';
import { Metrics } from './metrics.mjs';
import { openApiDocument } from './openapi.mjs';

/** Version of this wrapper (package.json). */
const WRAPPER_VERSION = '1.0.0';
const env = process.env;
const entry = process.argv[2] ?? env.PITLANE_ENTRYPOINT;
if (!entry) {
  process.stderr.write('usage: node server.mjs ENTRYPOINT (or set PITLANE_ENTRYPOINT)\n');
  process.exit(2);
}

const JOB_NAME = env.JOB_NAME || 'job';
const JOB_VERSION = env.JOB_VERSION || '0.0.0';
const DEPLOYMENT_TIMESTAMP = /^-?\d+$/.test(env.JOB_DEPLOYMENT_TIMESTAMP ?? '') ? Number(env.JOB_DEPLOYMENT_TIMESTAMP) : null;
const PORT = Number.parseInt(env.PORT ?? '', 10) || 7000;
const HOST = '0.0.0.0';
const TRACING_HEADER = (env.REQUEST_TRACING_HEADER || 'X-Request-Tracing-Id').toLowerCase();
const CALLER_HEADER = (env.CALLER_NAME_HEADER || 'X-Caller-Name').toLowerCase();
const LOG_JSON = env.LOG_STRUCTURED === 'true' || env.LOG_STRUCTURED === '1';
const LOG_CALLER = env.LOG_CALLER_NAME === 'true' || env.LOG_CALLER_NAME === '1';
const MAX_BODY = Number.parseInt(env.PITLANE_MAX_BODY_BYTES ?? '', 10) || 16 * 1024 * 1024;
const SHUTDOWN_TIMEOUT_MS = Number.parseInt(env.PITLANE_SHUTDOWN_TIMEOUT_MS ?? '', 10) || 8000;

// ---------------------------------------------------------------------------------------------
// Logging

function log(level, msg, fields = {}) {
  const time = new Date().toISOString();
  if (LOG_JSON) {
    const line = JSON.stringify({ time, level, msg, job: JOB_NAME, version: JOB_VERSION, ...fields });
    (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
    return;
  }
  const extra = Object.entries(fields)
    .filter(([k, v]) => v !== undefined && v !== null && k !== 'stack')
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const text = `${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}${fields.stack ? `\n${fields.stack}` : ''}`;
  (level === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  /** The resolved module (job.mjs), once loaded. */
  job: null,
  /** Why the module could not be loaded or initialised. */
  loadError: null,
  ready: false,
  shuttingDown: false,
};
const metrics = new Metrics();

function describeError(error) {
  if (error instanceof Error || (error !== null && typeof error === 'object' && 'message' in error)) {
    return { message: String(error.message), type: String(error.name || error.constructor?.name || 'Error'), stack: error.stack };
  }
  return { message: String(error), type: typeof error, stack: undefined };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

class HttpError extends Error {
  constructor(status, type, message, headers = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.headers = headers;
  }
}

/** JSON.stringify that also writes BigInt (as a string), Map, Set and typed arrays (as arrays). */
function toJson(value) {
  return JSON.stringify(value === undefined ? null : value, (_key, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !Buffer.isBuffer(v)) return Array.from(v, (x) => (typeof x === 'bigint' ? x.toString() : x));
    return v;
  });
}

function send(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const isText = typeof body === 'string';
  const payload = isText ? body : toJson(body);
  res.writeHead(status, {
    'content-type': isText ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...(state.shuttingDown ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(payload);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY) {
      reject(new HttpError(413, 'PayloadTooLarge', `the request body is larger than ${MAX_BODY} bytes`, { connection: 'close' }));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'PayloadTooLarge', `the request body is larger than ${MAX_BODY} bytes`, { connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readInput(req) {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  let input;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'SyntaxError', `the request body is not valid JSON: ${error.message}`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : `a ${typeof input}`;
    throw new HttpError(400, 'TypeError', `the request body must be a JSON object, got ${got}`);
  }
  return input;
}

/** Status and body for an error thrown by the job's code. */
function userErrorResponse(error) {
  const { message, type } = describeError(error);
  let status = 500;
  if (error instanceof TypeError || error instanceof RangeError || type === 'TypeError' || type === 'RangeError') status = 400;
  const explicit = error !== null && typeof error === 'object' ? (error.status ?? error.statusCode) : undefined;
  if (Number.isInteger(explicit) && explicit >= 400 && explicit <= 599) status = explicit;
  return { status, body: { error: message, type } };
}

function notAvailable() {
  if (state.loadError) {
    return new HttpError(500, 'JobLoadError', `the job failed to load: ${state.loadError.message}`);
  }
  return new HttpError(503, 'NotReady', 'the job is still initialising; retry when GET /ready answers 200', { 'retry-after': '1' });
}

// ---------------------------------------------------------------------------------------------
// Handlers: (req, res, ctx) => { status, body, headers? }

async function callJob(pick, req, ctx) {
  if (!state.ready || !state.job) throw notAvailable();
  const fn = pick(state.job);
  const input = await readInput(req);
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  metrics.callStarted(ctx.endpoint);
  let result;
  try {
    result = await fn.call(state.job.target, input, ctx.context);
  } catch (error) {
    const { status, body } = userErrorResponse(error);
    metrics.callDone(ctx.endpoint, seconds(), status >= 500);
    if (status >= 500) {
      const { stack } = describeError(error);
      log('error', `${ctx.endpoint} threw ${body.type}: ${body.error}`, { request_id: ctx.requestId, stack });
    }
    return { status, body };
  }
  let payload;
  try {
    payload = toJson(result);
  } catch (error) {
    metrics.callDone(ctx.endpoint, seconds(), true);
    return { status: 500, body: { error: `the result cannot be serialised as JSON: ${describeError(error).message}`, type: 'TypeError' } };
  }
  metrics.callDone(ctx.endpoint, seconds(), false);
  return { status: 200, raw: payload };
}

function live() {
  if (state.loadError) {
    return { status: 500, body: { live: false, error: state.loadError.message, type: state.loadError.type, deployment_timestamp: DEPLOYMENT_TIMESTAMP } };
  }
  return { status: 200, body: { live: true, deployment_timestamp: DEPLOYMENT_TIMESTAMP } };
}

function ready() {
  const ok = state.ready && !state.shuttingDown;
  return { status: ok ? 200 : 500, body: { ready: ok } };
}

function health() {
  const isLive = !state.loadError;
  const isReady = state.ready && !state.shuttingDown;
  return {
    status: isLive && isReady ? 200 : 500,
    body: {
      service: 'job',
      job_name: JOB_NAME,
      job_version: JOB_VERSION,
      job_type: 'node',
      wrapper_version: WRAPPER_VERSION,
      node_version: process.versions.node,
      git_version: env.GIT_VERSION ?? null,
      live: isLive,
      ready: isReady,
      status: isLive && isReady ? 'pass' : 'fail',
      error: state.loadError?.message ?? null,
      deployment_timestamp: DEPLOYMENT_TIMESTAMP,
    },
  };
}

async function metricsText() {
  let gauges = [];
  if (state.ready && state.job?.metrics) {
    try {
      const got = await state.job.metrics.call(state.job.target);
      gauges = Array.isArray(got) ? got : [];
    } catch (error) {
      log('error', `metrics() threw: ${describeError(error).message}`);
    }
  }
  return { status: 200, text: metrics.render(gauges) };
}

/** The route table for a path (without the /pub/job prefix): `{ endpoint, methods }` or null. */
function findRoute(path) {
  switch (path) {
    case '/api/v1/perform':
      return { endpoint: path, methods: { POST: (req, _res, ctx) => callJob((job) => job.perform, req, ctx) } };
    case '/api/v1/parameters':
      return {
        endpoint: path,
        methods: {
          GET: () => {
            if (!state.job) throw notAvailable();
            return { status: 200, body: state.job.parameters };
          },
        },
      };
    case '/live':
      return { endpoint: path, methods: { GET: live } };
    case '/ready':
      return { endpoint: path, methods: { GET: ready } };
    case '/health':
      return { endpoint: path, methods: { GET: health } };
    case '/metrics':
      return { endpoint: path, methods: { GET: metricsText } };
    case '/docs':
    case '/docs/openapi.json':
    case '/openapi.json':
      return {
        endpoint: '/docs',
        methods: { GET: (_req, _res, ctx) => ({ status: 200, body: openApiDocument({ jobName: JOB_NAME, jobVersion: JOB_VERSION, base: ctx.base, job: state.job }) }) },
      };
    case '/':
      return { endpoint: '/', methods: { GET: (_req, _res, ctx) => ({ status: 302, body: { docs: `${ctx.base}/docs` }, headers: { location: `${ctx.base}/docs` } }) } };
    default:
      break;
  }
  if (path.startsWith('/api/v1/') && state.job) {
    const aux = path.slice('/api/v1'.length);
    const fn = state.job.auxiliaryEndpoints.get(aux);
    if (fn) return { endpoint: path, methods: { POST: (req, _res, ctx) => callJob(() => fn, req, ctx) } };
  }
  return null;
}

const PREFIX = /^\/pub\/(job|fatman)\/([^/]+)\/([^/]+)(\/.*)?$/;

/** Splits `/pub/job/{name}/{version}/rest` into the base and `/rest`; null when the name is another job's. */
function splitPath(pathname) {
  const m = PREFIX.exec(pathname);
  let base = '';
  let path = pathname;
  if (m) {
    let name = m[2];
    try {
      name = decodeURIComponent(name);
    } catch {
      return null;
    }
    if (env.JOB_NAME && name !== JOB_NAME) return null;
    base = `/pub/${m[1]}/${m[2]}/${m[3]}`;
    path = m[4] ?? '/';
  }
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { base, path };
}

async function handle(req, res) {
  const started = process.hrtime.bigint();
  const requestId = String(req.headers[TRACING_HEADER] ?? '') || randomUUID();
  const callerName = req.headers[CALLER_HEADER] ? String(req.headers[CALLER_HEADER]) : undefined;
  let url;
  try {
    url = new URL(req.url ?? '/', 'http://job.invalid');
  } catch {
    url = new URL('http://job.invalid/');
  }
  const split = splitPath(url.pathname);
  const route = split ? findRoute(split.path) : null;
  const endpoint = route?.endpoint ?? 'unmatched';
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  metrics.requestStarted();

  const abort = new AbortController();
  res.on('close', () => {
    // 499 (nginx's "client closed request") when the client went away before the answer was sent.
    const status = res.writableFinished ? res.statusCode : 499;
    if (!res.writableFinished) abort.abort(new Error('the client closed the connection'));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.requestDone(endpoint, req.method ?? 'GET', status, seconds);
    const fields = { status, ms: Math.round(seconds * 1e4) / 10, request_id: requestId };
    if (LOG_CALLER && callerName) fields.caller = callerName;
    log(status >= 500 ? 'warn' : 'info', `${req.method} ${req.url}`, fields);
  });
  res.setHeader(TRACING_HEADER, requestId);

  try {
    if (!route) throw new HttpError(404, 'NotFound', `no route for ${req.method} ${url.pathname}`);
    const handler = route.methods[method];
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ');
      throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${split.path} (allowed: ${allow})`, { allow });
    }
    const context = { method: req.method, path: split.path, headers: req.headers, requestId, callerName, signal: abort.signal };
    const out = await handler(req, res, { base: split.base, endpoint, requestId, context });
    if (out.raw !== undefined) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(out.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out.raw), ...(state.shuttingDown ? { connection: 'close' } : {}) });
        res.end(out.raw);
      }
    } else if (out.text !== undefined) {
      send(res, out.status, out.text, out.headers);
    } else {
      send(res, out.status, out.body, out.headers);
    }
  } catch (error) {
    if (error instanceof HttpError) {
      send(res, error.status, { error: error.message, type: error.type }, error.headers);
    } else {
      const { message, type, stack } = describeError(error);
      log('error', `internal error on ${req.method} ${url.pathname}: ${message}`, { request_id: requestId, stack });
      send(res, 500, { error: message, type });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up and shutdown

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    log('error', `unhandled: ${describeError(error).message}`, { stack: describeError(error).stack });
    if (!res.headersSent) send(res, 500, { error: 'internal error', type: 'Error' });
  });
});
server.on('clientError', (error, socket) => {
  if (socket.writable && !socket.writableEnded) {
    const body = JSON.stringify({ error: `bad request: ${error.code ?? error.message}`, type: 'BadRequest' });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  } else {
    socket.destroy();
  }
});

process.on('unhandledRejection', (reason) => {
  const { message, stack } = describeError(reason);
  log('error', `unhandled promise rejection in the job: ${message}`, { stack });
});

async function start() {
  const t0 = Date.now();
  try {
    const job = await loadJob(entry);
    state.job = job;
    log('info', `loaded ${entry} in ${Date.now() - t0} ms`, {
      auxiliary_endpoints: [...job.auxiliaryEndpoints.keys()].join(',') || undefined,
      init: job.init ? 'yes' : undefined,
    });
    if (job.init) {
      const t1 = Date.now();
      await job.init.call(job.target);
      log('info', `init() finished in ${Date.now() - t1} ms`);
    }
    metrics.initSeconds = (Date.now() - t0) / 1000;
    if (!state.shuttingDown) state.ready = metrics.ready = true;
    log('info', `ready: ${JOB_NAME} ${JOB_VERSION} (node ${process.versions.node})`);
  } catch (error) {
    const described = describeError(error);
    state.loadError = { message: `${described.type}: ${described.message}`, type: described.type };
    log('error', `the job failed to load (${entry}): ${described.type}: ${described.message}; GET /live answers 500 with this error`, { stack: described.stack });
  }
}

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  state.shuttingDown = true;
  metrics.ready = false;
  log('info', `${signal}: closing the listener; waiting up to ${SHUTDOWN_TIMEOUT_MS} ms for requests in flight`);
  const force = setTimeout(() => {
    log('warn', 'shutdown timeout: closing the remaining connections');
    server.closeAllConnections();
  }, SHUTDOWN_TIMEOUT_MS);
  force.unref();
  server.close(async () => {
    clearTimeout(force);
    if (state.job?.shutdown) {
      try {
        await Promise.race([state.job.shutdown.call(state.job.target), new Promise((r) => setTimeout(r, 2000).unref())]);
      } catch (error) {
        log('error', `shutdown() threw: ${describeError(error).message}`);
      }
    }
    log('info', 'stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(PORT, HOST, () => {
  log('info', `listening on http://${HOST}:${PORT} (also under /pub/job/${env.JOB_NAME ? JOB_NAME : '{name}'}/{version}); loading ${entry}`);
  void start();
});
server.on('error', (error) => {
  log('error', `cannot listen on ${HOST}:${PORT}: ${error.message}`);
  process.exit(1);
});
