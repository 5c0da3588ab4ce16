/**
 * The job manifest (`job.yaml`, legacy `fatman.yaml`): parsing, validation, defaults, and its JSON Schema.
 *
 * Produces the normalised {@link JobManifest} of `types.ts`; every problem is reported at once as
 * a `PitlaneError(400, 'MANIFEST_INVALID')` whose details name the field path (and the line for YAML).
 */
import { z } from 'zod';
import { PitlaneError, type ErrorDetail } from '../errors.js';
import { crossFieldProblems } from './cross-checks.js';
import { issuesToDetails } from './issues.js';
import { normaliseManifest } from './normalise.js';
import { manifestSchema, type ManifestInput } from './schema.js';
import { loadYaml, type SourcePosition } from './yaml-source.js';
import type { ParsedManifest } from './types.js';

export type { JobManifest, JobType, ParsedManifest } from './types.js';
export type { SourcePosition } from './yaml-source.js';
export { parseCpuCores, parseQuantityBytes } from './quantity.js';
export {
  ENV_NAME_RE,
  JOB_TYPES,
  RESERVED_RUNTIME_ENV,
  gitBranchProblem,
  gitRemoteProblem,
  imageRefProblem,
  imageRegistry,
  labelKeyProblem,
  parseTrustedRegistries,
  registryTrusted,
} from './references.js';
export { MIN_CPU_MAX_CORES, MIN_MEMORY_MAX_BYTES } from './schema.js';

/** Deepest nesting of lists and objects accepted, to keep recursive validation off the stack limit. */
const MAX_DEPTH = 64;

/** True when `value` nests lists/objects deeper than `limit` levels (iterative, so also safe on cycles). */
function nestedTooDeeply(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

function describeNonObject(input: unknown): string | undefined {
  if (input === undefined || input === null) return 'the manifest is empty; it must be a mapping of fields such as name, owner_email and jobtype';
  if (Array.isArray(input)) return 'the manifest must be a mapping of fields, not a list';
  if (typeof input !== 'object') return `the manifest must be a mapping of fields, not a ${typeof input} value`;
  const prototype = Object.getPrototypeOf(input) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return 'the manifest must be a mapping of fields, not a special object';
  return undefined;
}

/**
 * Validates a manifest given as plain data (a parsed YAML document or an API JSON body),
 * applies defaults and folds deprecated fields.
 *
 * @param input the manifest object, e.g. `{ name: 'supersmart', owner_email: 'a@b.c', lang: 'docker-proxy', git: { remote: 'https://...' } }`.
 * @param lineOf optional lookup from a dotted field path (`git.remote`) to its 1-based line and column
 *   in the source text; used to add `line`/`column` to error details.
 * @returns the normalised manifest (units: `resources.memory_max_bytes` in bytes, `cpu_max_cores` in
 *   cores, `timeout_s` in seconds) and warnings, e.g. "`lang` is deprecated; use `jobtype`".
 * @throws PitlaneError 400 `MANIFEST_INVALID` with message `manifest is invalid: N problem(s)` and one
 *   detail per problem, each with a dotted `path` (`resources.memory_max`, `labels.team`) and the rule
 *   broken; a non-object input (list, scalar, empty) or one nested more than 64 levels deep gives a
 *   single detail without path.
 */
export function validateManifest(input: unknown, lineOf?: (path: string) => SourcePosition | undefined): ParsedManifest {
  const nonObject = describeNonObject(input);
  if (nonObject !== undefined) throw new PitlaneError(400, 'MANIFEST_INVALID', 'manifest is invalid: 1 problem(s)', [{ message: nonObject }]);

  if (nestedTooDeeply(input, MAX_DEPTH)) {
    throw new PitlaneError(400, 'MANIFEST_INVALID', 'manifest is invalid: 1 problem(s)', [
      { message: `the manifest nests lists and objects more than ${MAX_DEPTH} levels deep` },
    ]);
  }
  const result = manifestSchema.safeParse(input);
  const details: ErrorDetail[] = [
    ...(result.success ? [] : issuesToDetails(result.error.issues)),
    ...crossFieldProblems(input as Record<string, unknown>),
  ];
  if (details.length > 0) {
    const located = details.map((detail) => {
      const at = detail.path !== undefined && lineOf ? lineOf(detail.path) : undefined;
      return at ? { ...detail, line: at.line, column: at.column } : detail;
    });
    throw new PitlaneError(400, 'MANIFEST_INVALID', `manifest is invalid: ${located.length} problem(s)`, located);
  }
  return normaliseManifest(input as ManifestInput);
}

/**
 * Parses and validates manifest YAML text (`job.yaml` or legacy `fatman.yaml`).
 *
 * @param text the file content: one YAML 1.2 document whose top level is a mapping.
 * @param fileName the name used in messages; default `job.yaml`.
 * @returns as {@link validateManifest}; YAML warnings (e.g. unresolved tags) are appended to `warnings`.
 * @throws PitlaneError 400 `MANIFEST_INVALID`: on YAML syntax errors (details carry 1-based `line` and
 *   `column`), and on every validation problem of {@link validateManifest}, whose details then also
 *   carry the `line`/`column` of the offending key when it was written in the file.
 */
export function parseManifestText(text: string, fileName = 'job.yaml'): ParsedManifest {
  const loaded = loadYaml(text, fileName);
  const parsed = validateManifest(loaded.value, loaded.lineOf);
  return { manifest: parsed.manifest, warnings: [...parsed.warnings, ...loaded.warnings] };
}

/**
 * The JSON Schema (draft 2020-12) of the accepted manifest input, for the API docs.
 *
 * It describes field types, patterns, ranges and defaults; rules that JSON Schema cannot express
 * (git remote forms, branch names, quantities, reserved env names) are stated in descriptions.
 *
 * @returns a fresh JSON-serialisable object; exactly one of `jobtype` and `lang` is required (`oneOf`).
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, oneOf: [{ required: ['jobtype'] }, { required: ['lang'] }] };
}
