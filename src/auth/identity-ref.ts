/**
 * Identity references as users type them: `alice` or `user:alice`, `service_account:ci`
 * (also `sa:ci`), `job:adder@1.0.0`. Pure parsing and validation.
 */
import { PitlaneError } from '../errors.js';
import type { IdentityKind } from './policy.js';

/** A parsed identity reference. */
export interface IdentityRef {
  kind: IdentityKind;
  name: string;
}

/** Usernames and service account names: 1–63 of `a-z 0-9 . _ -`, starting with a letter or digit. */
export const IDENTITY_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const KIND_ALIASES: Record<string, IdentityKind> = {
  user: 'user',
  service_account: 'service_account',
  'service-account': 'service_account',
  sa: 'service_account',
  job: 'job',
};

/**
 * Parses `ref` (field `path` for error messages).
 * @throws PitlaneError 400 `IDENTITY_INVALID` naming `path` when the kind or name is malformed.
 */
export function parseIdentityRef(ref: string, path = 'identity'): IdentityRef {
  const colon = ref.indexOf(':');
  const kindText = colon === -1 ? 'user' : ref.slice(0, colon);
  const name = colon === -1 ? ref : ref.slice(colon + 1);
  const kind = KIND_ALIASES[kindText];
  if (!kind) {
    throw new PitlaneError(400, 'IDENTITY_INVALID', `unknown identity kind "${kindText}"`, [
      { path, message: 'identity must be NAME, user:NAME, service_account:NAME or job:NAME@VERSION' },
    ]);
  }
  if (kind === 'job') {
    const at = name.lastIndexOf('@');
    if (at <= 0 || at === name.length - 1) {
      throw new PitlaneError(400, 'IDENTITY_INVALID', `job identity "${name}" must be NAME@VERSION`, [{ path, message: 'job identities are job:NAME@VERSION' }]);
    }
    return { kind, name };
  }
  if (!IDENTITY_NAME_PATTERN.test(name)) {
    throw new PitlaneError(400, 'IDENTITY_INVALID', `"${name}" is not a valid ${kind === 'user' ? 'username' : 'service account name'}`, [
      { path, message: 'names are 1-63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit' },
    ]);
  }
  return { kind, name };
}

/** `user:alice`, `service_account:ci`, `job:adder@1.0.0`: the form the audit log and listings use. */
export function formatIdentityRef(ref: IdentityRef): string {
  return `${ref.kind}:${ref.name}`;
}
