/**
 * Loading the user's module and finding what it offers.
 *
 * A job module exports `perform(input, context)` (sync or async) in one of these shapes:
 *   - ESM named export:            `export function perform(input) { ... }`
 *   - CommonJS:                    `module.exports = { perform }` or `exports.perform = ...`
 *   - a default-exported object:   `export default { perform(input) { ... } }`
 *   - a default-exported class:    `export default class Job { perform(input) { ... } }` (constructed
 *                                  once with no arguments, like Racetrack's entrypoint class)
 * and optionally, next to it (or on the same object / class instance):
 *   - `parameters`          JSON description of perform's input, served by GET /api/v1/parameters
 *                           (a value, or a function returning one)
 *   - `docsInputExample`    a JSON object, the example of POST /api/v1/perform in /docs
 *   - `docsInputExamples`   `{ '/perform': {...}, '/explain': {...} }` examples by endpoint
 *   - `auxiliaryEndpoints`  `{ '/explain': fn }`: fn(input, context) served at POST /api/v1/explain
 *   - `init()`              awaited once before /ready answers 200 (load a model, open a pool)
 *   - `shutdown()`          awaited once on SIGTERM after the server stopped taking requests
 *   - `metrics()`           `[{ name, value, description?, labels? }]`, extra gauges on /metrics
 * `docsInputExample`, `docsInputExamples`, `parameters` and `auxiliaryEndpoints` may also be
 * functions returning the value (sync or async).
 */
import { execFileSync } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Largest docs example, serialised (Racetrack's limit). */
const MAX_EXAMPLE_BYTES = 1024 * 1024;

/** Paths under /api/v1 the wrapper serves itself; auxiliary endpoints may not take them. */
const RESERVED = new Set(['/perform', '/parameters']);

/** A problem with the shape of the user's module (reported through /live as the load error). */
export class JobDefinitionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'JobDefinitionError';
  }
}

/** Imports the module at `entryPath` (relative to the working directory or absolute) and resolves it. */
export async function loadJob(entryPath) {
  const file = isAbsolute(entryPath) ? entryPath : resolve(process.cwd(), entryPath);
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) locateSyntaxError(error, file);
    throw error;
  }
  return resolveJob(mod, entryPath);
}

/**
 * A SyntaxError from import() does not say where it is. When it is in the entry file,
 * `node --check` does: append `(at file:line)` to the message. (In an imported file the message
 * stays as it is; the stack names the importer.)
 */
function locateSyntaxError(error, file) {
  try {
    execFileSync(process.execPath, ['--check', file], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' });
  } catch (failure) {
    const first = String(failure.stderr ?? '').split('\n', 1)[0];
    if (/:\d+$/.test(first)) error.message = `${error.message} (at ${first})`;
  }
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

async function valueOf(holder, name, target) {
  const value = holder[name];
  return typeof value === 'function' ? await value.call(target) : value;
}

/**
 * Finds `perform` and the optional exports in an imported module namespace.
 * @param label how to name the module in error messages
 * @returns {Promise<{ target: object, perform: Function, parameters: unknown, docsInputExample: object|undefined,
 *   docsInputExamples: Record<string, object>, auxiliaryEndpoints: Map<string, Function>,
 *   init: Function|undefined, shutdown: Function|undefined, metrics: Function|undefined }>}
 */
export async function resolveJob(mod, label = 'the job module') {
  const def = mod.default;
  let target;
  if (typeof mod.perform === 'function') {
    target = mod;
  } else if (def !== null && typeof def === 'object' && typeof def.perform === 'function') {
    target = def;
  } else if (typeof def === 'function' && typeof def.prototype?.perform === 'function') {
    // Construction errors are the user's (a model that failed to load...) and become the load error.
    target = new def();
  } else {
    const exported = Object.keys(mod).filter((k) => k !== 'default');
    throw new JobDefinitionError(
      `${label} does not export a perform function: use \`export function perform(input) {...}\`, ` +
        '`module.exports = { perform }`, or a default-exported object or class with a perform method' +
        ` (it exports: ${exported.length > 0 ? exported.join(', ') : 'nothing'}${def !== undefined ? ', default' : ''})`,
    );
  }
  // Names missed by CommonJS export detection are still found on module.exports (the default export).
  const holder = new Proxy(target, {
    get(t, name) {
      if (t[name] !== undefined) return t[name];
      if (t === mod && def !== null && (typeof def === 'object' || typeof def === 'function')) return def[name];
      return undefined;
    },
  });
  const fn = (name) => {
    const value = holder[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') throw new JobDefinitionError(`${label}: \`${name}\` must be a function`);
    return value;
  };

  const parameters = (await valueOf(holder, 'parameters', target)) ?? [];
  try {
    JSON.stringify(parameters);
  } catch (error) {
    throw new JobDefinitionError(`${label}: \`parameters\` cannot be serialised as JSON: ${error.message}`);
  }

  const checkExample = (value, what) => {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) throw new JobDefinitionError(`${label}: \`${what}\` must be a JSON object (the body of a call)`);
    let text;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new JobDefinitionError(`${label}: \`${what}\` cannot be serialised as JSON: ${error.message}`);
    }
    if (Buffer.byteLength(text) > MAX_EXAMPLE_BYTES) throw new JobDefinitionError(`${label}: \`${what}\` is larger than 1 MB as JSON`);
    return JSON.parse(text);
  };
  const docsInputExample = checkExample(await valueOf(holder, 'docsInputExample', target), 'docsInputExample');
  const examplesRaw = (await valueOf(holder, 'docsInputExamples', target)) ?? {};
  if (!isPlainObject(examplesRaw)) throw new JobDefinitionError(`${label}: \`docsInputExamples\` must map endpoint paths to JSON objects`);
  const docsInputExamples = {};
  for (const [path, example] of Object.entries(examplesRaw)) {
    docsInputExamples[normaliseAuxPath(path)] = checkExample(example, `docsInputExamples['${path}']`);
  }

  const auxRaw = (await valueOf(holder, 'auxiliaryEndpoints', target)) ?? {};
  if (auxRaw === null || typeof auxRaw !== 'object') throw new JobDefinitionError(`${label}: \`auxiliaryEndpoints\` must map paths to functions`);
  const auxiliaryEndpoints = new Map();
  for (const [rawPath, handler] of auxRaw instanceof Map ? auxRaw.entries() : Object.entries(auxRaw)) {
    const path = normaliseAuxPath(String(rawPath));
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
      throw new JobDefinitionError(`${label}: auxiliary endpoint path '${rawPath}' must be like '/explain' (letters, digits, . _ ~ -)`);
    }
    if (RESERVED.has(path)) throw new JobDefinitionError(`${label}: auxiliary endpoint '${rawPath}' clashes with the built-in POST /api/v1${path}`);
    if (typeof handler !== 'function') throw new JobDefinitionError(`${label}: auxiliary endpoint '${rawPath}' must be a function`);
    auxiliaryEndpoints.set(path, handler);
  }

  return {
    target,
    perform: target.perform,
    parameters,
    docsInputExample,
    docsInputExamples,
    auxiliaryEndpoints,
    init: fn('init'),
    shutdown: fn('shutdown'),
    metrics: fn('metrics'),
  };
}

/** `explain`, `/explain/`, `/api/v1/explain` → `/explain`. */
export function normaliseAuxPath(path) {
  let p = path.trim();
  if (p.startsWith('/api/v1/')) p = p.slice('/api/v1'.length);
  if (!p.startsWith('/')) p = `/${p}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}
