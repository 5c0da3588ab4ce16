/**
 * Rules for secret names and values (pure). Every problem is an {@link ErrorDetail} naming its
 * field, so the API can answer 400 with all of them at once.
 */
import type { ErrorDetail } from '../errors.js';
import { RESERVED_RUNTIME_ENV } from '../manifest/index.js';

/** `runtime`: container environment of the job's replicas. `build`: a BuildKit secret mount during the image build. */
export const SECRET_KINDS = ['runtime', 'build'] as const;
/** What a secret is for. */
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Secret keys are environment variable names (also the id of a build secret mount). */
export const SECRET_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longest secret key, in characters. */
export const MAX_SECRET_KEY_LENGTH = 255;
/** Largest secret value: 64 KiB of UTF-8. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;
/** Job names are DNS-1123 labels (as in the manifest). */
const JOB_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True when `value` is a secret kind. */
export function isSecretKind(value: unknown): value is SecretKind {
  return typeof value === 'string' && (SECRET_KINDS as readonly string[]).includes(value);
}

/**
 * Problems of a job name (a DNS-1123 label of at most 63 characters).
 * @param path field path to report, e.g. `name`.
 */
export function jobNameProblems(name: string, path = 'name'): ErrorDetail[] {
  if (name.length > 63 || !JOB_NAME_RE.test(name)) {
    return [{ path, message: "must be a job name: a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)" }];
  }
  return [];
}

/**
 * Problems of a secret key: an environment variable name (`^[A-Za-z_][A-Za-z0-9_]*$`, at most
 * 255 characters); a runtime secret must not use a name Pitlane injects itself (`JOB_NAME`, ...).
 * @param kind the secret's kind, or undefined to check only the name rule.
 * @param path field path to report, e.g. `key`.
 */
export function secretKeyProblems(key: string, kind: SecretKind | undefined, path = 'key'): ErrorDetail[] {
  if (key.length === 0 || key.length > MAX_SECRET_KEY_LENGTH || !SECRET_KEY_RE.test(key)) {
    return [{ path, message: `must be an environment variable name matching ${SECRET_KEY_RE.source}, at most ${MAX_SECRET_KEY_LENGTH} characters` }];
  }
  if (kind === 'runtime' && (RESERVED_RUNTIME_ENV as readonly string[]).includes(key)) {
    return [{ path, message: `${key} is reserved: Pitlane sets it in every job container (reserved: ${RESERVED_RUNTIME_ENV.join(', ')})` }];
  }
  return [];
}

/**
 * Problems of a secret value: not empty, at most {@link MAX_SECRET_VALUE_BYTES} bytes of UTF-8,
 * and, for runtime secrets, no NUL character (an environment variable cannot hold one).
 * Messages never quote the value.
 * @param path field path to report, e.g. `value`.
 */
export function secretValueProblems(value: string, kind: SecretKind, path = 'value'): ErrorDetail[] {
  if (value.length === 0) return [{ path, message: 'must not be empty (delete the secret instead)' }];
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SECRET_VALUE_BYTES) return [{ path, message: `must be at most ${MAX_SECRET_VALUE_BYTES} bytes of UTF-8; got ${bytes} bytes` }];
  if (kind === 'runtime' && value.includes('\u0000')) return [{ path, message: 'a runtime secret must not contain a NUL character (environment variables cannot hold one)' }];
  return [];
}
