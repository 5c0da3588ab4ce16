/**
 * Validation of the node job type's `jobtype_extra` (pure: no file access).
 *
 * Keys: `entrypoint_path` (required; a `.js`, `.mjs` or `.ts` module exporting `perform(input)`),
 * `node_version` (default `24`; must have a base image), `typecheck` (default false: TypeScript is
 * compiled without type checking, only syntax errors fail the build).
 */
import { posix } from 'node:path';
import type { ErrorDetail } from '../../errors.js';
import { PitlaneError } from '../../errors.js';

/** The node job type's settings after validation and defaulting. */
export interface NodeOptions {
  /** Context-relative POSIX path of the entrypoint module, normalised (`src/adder.ts`). */
  entrypointPath: string;
  /** What the entrypoint is: plain JavaScript, or TypeScript compiled in the build stage. */
  entrypointKind: 'js' | 'mjs' | 'ts';
  /** Node major version (or `major.minor[.patch]`) naming the base image, e.g. `24`. */
  nodeVersion: string;
  /** Type-check TypeScript in the build stage (type errors fail the build). */
  typecheck: boolean;
}

/** The node version used when `node_version` is not given. */
export const DEFAULT_NODE_VERSION = '24';
/** The base image of {@link DEFAULT_NODE_VERSION} when the configuration names none. */
export const DEFAULT_NODE_BASE_IMAGE = 'node:24-slim';
/**
 * The runtime stage's base when the configuration names none (`baseImages['node-runtime']`): the
 * Debian release of the official node images, slim, which gets only the `node` binary.
 */
export const DEFAULT_NODE_RUNTIME_IMAGE = 'debian:bookworm-slim';

/** Keys this job type reads (`user_module_port` is the manifest's default, not used by node jobs). */
const KNOWN = new Set(['entrypoint_path', 'node_version', 'typecheck', 'user_module_port']);
const EXTENSIONS = new Map<string, NodeOptions['entrypointKind']>([
  ['.js', 'js'],
  ['.mjs', 'mjs'],
  ['.ts', 'ts'],
]);

/**
 * Normalises a context-relative path: POSIX separators, no `.` segments, no leading `./`.
 * Returns an error message instead when the path is absolute, leaves the context, lies in
 * Pitlane's `.pitlane/` or has characters that do not belong in a generated Dockerfile.
 */
export function contextRelativePath(value: string): { path: string } | { error: string } {
  if (value.includes('\0')) return { error: 'must not contain NUL characters' };
  const slashed = value.replace(/\\/g, '/').trim();
  if (slashed === '') return { error: 'must not be empty' };
  if (slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed)) return { error: 'must be a path relative to the job directory, not an absolute path' };
  const normal = posix.normalize(slashed);
  if (normal === '..' || normal.startsWith('../')) return { error: 'must stay inside the job directory (no `..` escaping it)' };
  if (normal === '.' || normal.endsWith('/')) return { error: 'must name a file, not a directory' };
  if (normal === '.pitlane' || normal.startsWith('.pitlane/')) return { error: 'must not be under `.pitlane/` (Pitlane writes its generated files there)' };
  if (normal.split('/').includes('node_modules')) return { error: 'must not be inside node_modules (dependencies are installed from the lockfile)' };
  const odd = /[^A-Za-z0-9._/+@,=-]/.exec(normal);
  if (odd) return { error: `contains ${JSON.stringify(odd[0])}: use letters, digits and . _ - + @ , = / in file paths (the path goes into the generated Dockerfile)` };
  return { path: normal };
}

/**
 * Validates `jobtype_extra` for the node job type.
 * @param baseImages the configured node base images by version (`settings.baseImages.node`), possibly empty.
 * @returns the options plus warnings (ignored keys).
 * @throws PitlaneError 422 `JOBTYPE_EXTRA_INVALID` listing every problem, each naming its field
 *   (`jobtype_extra.entrypoint_path`, ...).
 */
export function parseNodeOptions(extra: Record<string, unknown>, baseImages: Record<string, string> = {}): { options: NodeOptions; warnings: string[] } {
  const problems: ErrorDetail[] = [];
  const warnings: string[] = [];
  const bad = (key: string, message: string): void => {
    problems.push({ path: `jobtype_extra.${key}`, message });
  };

  let entrypointPath = '';
  let entrypointKind: NodeOptions['entrypointKind'] = 'js';
  const rawEntry = extra.entrypoint_path;
  if (rawEntry === undefined || rawEntry === null) {
    bad('entrypoint_path', 'is required: the .js, .mjs or .ts module that exports perform(input), relative to the job directory');
  } else if (typeof rawEntry !== 'string') {
    bad('entrypoint_path', `must be a string (got ${Array.isArray(rawEntry) ? 'an array' : typeof rawEntry})`);
  } else {
    const checked = contextRelativePath(rawEntry);
    if ('error' in checked) {
      bad('entrypoint_path', checked.error);
    } else {
      const ext = posix.extname(checked.path);
      const kind = EXTENSIONS.get(ext);
      if (checked.path.endsWith('.d.ts')) {
        bad('entrypoint_path', 'is a declaration file (.d.ts), which has no code; name the .ts module itself');
      } else if (kind === undefined) {
        bad('entrypoint_path', `must end in .js, .mjs or .ts (got ${ext === '' ? 'no extension' : ext})`);
      } else {
        entrypointPath = checked.path;
        entrypointKind = kind;
      }
    }
  }

  let nodeVersion = DEFAULT_NODE_VERSION;
  const rawVersion = extra.node_version;
  if (rawVersion !== undefined && rawVersion !== null) {
    const text = typeof rawVersion === 'number' && Number.isInteger(rawVersion) ? String(rawVersion) : rawVersion;
    if (typeof text !== 'string' || !/^\d+(\.\d+){0,2}$/.test(text.trim())) {
      bad('node_version', `must be a Node.js version such as "24" (got ${JSON.stringify(rawVersion)})`);
    } else {
      nodeVersion = text.trim();
      if (baseImages[nodeVersion] === undefined && nodeVersion !== DEFAULT_NODE_VERSION) {
        const available = [...new Set([DEFAULT_NODE_VERSION, ...Object.keys(baseImages)])].sort();
        bad('node_version', `has no base image on this server (available: ${available.join(', ')}); configure baseImages.node["${nodeVersion}"] or pick one of those`);
      }
    }
  }

  let typecheck = false;
  const rawTypecheck = extra.typecheck;
  if (rawTypecheck !== undefined && rawTypecheck !== null) {
    if (typeof rawTypecheck !== 'boolean') bad('typecheck', `must be true or false (got ${JSON.stringify(rawTypecheck)})`);
    else typecheck = rawTypecheck;
  }
  if (typecheck && problems.length === 0 && entrypointKind !== 'ts') {
    warnings.push('jobtype_extra.typecheck only applies to a TypeScript entrypoint; ignored');
    typecheck = false;
  }

  for (const key of Object.keys(extra)) {
    if (!KNOWN.has(key)) warnings.push(`jobtype_extra.${key} is not a node job type option; ignored`);
  }

  if (problems.length > 0) {
    throw new PitlaneError(
      422,
      'JOBTYPE_EXTRA_INVALID',
      `jobtype_extra is not valid for the node job type: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      problems,
    );
  }
  return { options: { entrypointPath, entrypointKind, nodeVersion, typecheck }, warnings };
}

/** The base image for a node version: the configured one, else `node:24-slim` for the default version. */
export function nodeBaseImage(nodeVersion: string, baseImages: Record<string, string> = {}): string {
  return baseImages[nodeVersion] ?? (nodeVersion === DEFAULT_NODE_VERSION ? DEFAULT_NODE_BASE_IMAGE : `node:${nodeVersion}-slim`);
}

/**
 * The runtime stage's base for a node version: the configured one (`baseImages['node-runtime']`),
 * else {@link DEFAULT_NODE_RUNTIME_IMAGE}. Configuring the node image itself there runs jobs on the
 * full node image (npm included), as before.
 */
export function nodeRuntimeImage(nodeVersion: string, runtimeImages: Record<string, string> = {}): string {
  return runtimeImages[nodeVersion] ?? DEFAULT_NODE_RUNTIME_IMAGE;
}
