/**
 * Pure parsing and formatting helpers of the identity and permission commands (auth-commands.ts,
 * identity-commands.ts): durations, `NAME[@VERSION]`, token ids, identity references and the
 * text forms of grants and tokens. No I/O. Errors are {@link CliExit} with code 2 (bad usage).
 */
import { CliExit } from './output.js';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a lifetime such as `30d`, `12h`, `90m`, `3600s`, `2w` or a bare number of seconds
 * (`3600`) into whole seconds (> 0). Units: s, m, h, d, w; one number and one unit, no spaces
 * inside; upper case accepted.
 * @throws CliExit 2 naming `option` when the text is not such a duration or is zero.
 */
export function parseDuration(text: string, option = '--expires'): number {
  const match = /^(\d{1,9})([smhdw]?)$/i.exec(text.trim());
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[(match[2] || 's').toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new CliExit(2, `${option} must be a positive duration like 30d, 12h, 90m or 3600s (s, m, h, d, w); got ${JSON.stringify(text)}`);
  }
  return seconds;
}

/**
 * Splits a job reference `NAME` or `NAME@VERSION` (version taken verbatim, no `latest`
 * resolution: grants and approvals name exact versions). With `requireVersion` the version must
 * be there.
 * @returns `{job, version}` with `version` undefined when absent.
 * @throws CliExit 2 naming `what` on an empty name or an empty version (`adder@`), or a missing
 *   version when required.
 */
export function splitJobSpec(spec: string, options: { requireVersion?: boolean; what?: string } = {}): { job: string; version: string | undefined } {
  const what = options.what ?? '--job';
  const at = spec.indexOf('@');
  const job = at === -1 ? spec : spec.slice(0, at);
  const version = at === -1 ? undefined : spec.slice(at + 1);
  if (job === '') throw new CliExit(2, `${what} needs a job name, as NAME or NAME@VERSION; got ${JSON.stringify(spec)}`);
  if (version === '' || (version !== undefined && version.includes('@'))) throw new CliExit(2, `${what}: the version after "@" must be one exact version; got ${JSON.stringify(spec)}`);
  if (options.requireVersion && version === undefined) throw new CliExit(2, `${what} must be NAME@VERSION (an exact version); got ${JSON.stringify(spec)}`);
  return { job, version };
}

/**
 * The token id to revoke from what the user typed: the id itself (`abcd234xyz`), the readable
 * prefix (`pitlane_abcd234xyz`, as `token list` shows it) or a whole API token
 * (`pitlane_abcd234xyz_<secret>`, of which only the id is used). Anything else is returned as is
 * (the server answers 404 for unknown ids).
 */
export function tokenIdOf(input: string): string {
  const match = /^pitlane_([a-z2-7]{10})(?:_[A-Za-z0-9_-]+)?$/.exec(input.trim());
  return match?.[1] ?? input.trim();
}

const KIND_ALIASES: Record<string, string> = { user: 'user', service_account: 'service_account', 'service-account': 'service_account', sa: 'service_account', job: 'job' };

/**
 * The canonical form of an identity reference, as the audit log records actors and targets:
 * `alice` → `user:alice`, `sa:ci` / `service-account:ci` → `service_account:ci`,
 * `job:adder@1.0.0` unchanged; `system` and references with an unknown kind are returned as typed.
 */
export function canonicalIdentity(ref: string): string {
  if (ref === 'system') return ref;
  const colon = ref.indexOf(':');
  if (colon === -1) return `user:${ref}`;
  const kind = KIND_ALIASES[ref.slice(0, colon)];
  return kind ? `${kind}:${ref.slice(colon + 1)}` : ref;
}

/** A grant's target as fields of the API (null = every). */
export interface GrantTarget {
  job: string | null;
  version: string | null;
  endpoint: string | null;
}

/**
 * A grant's target in words: `everything`, `job adder`, `job adder@1.0.0`,
 * `endpoint /api/v1/perform of job adder@1.0.0`.
 */
export function describeGrantTarget(target: GrantTarget): string {
  if (target.job === null) return 'everything';
  const job = `job ${target.job}${target.version !== null ? `@${target.version}` : ''}`;
  return target.endpoint !== null ? `endpoint ${target.endpoint} of ${job}` : job;
}

/** A token's times as the API lists them (ISO 8601 UTC, or null). */
export interface TokenTimes {
  expires_at: string | null;
  revoked_at: string | null;
}

/** `revoked`, `expired` or `active`, judged at `nowMs` (milliseconds since the epoch). */
export function tokenState(token: TokenTimes, nowMs: number): 'revoked' | 'expired' | 'active' {
  if (token.revoked_at !== null) return 'revoked';
  if (token.expires_at !== null && Date.parse(token.expires_at) <= nowMs) return 'expired';
  return 'active';
}

/** Removes one trailing line break (`\n` or `\r\n`), as `echo VALUE |` adds one. */
export function stripTrailingNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
