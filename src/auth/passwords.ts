/**
 * Password hashing with argon2id (@node-rs/argon2, N-API; its defaults m=19456 KiB, t=2, p=1, the
 * OWASP minimum, about 13 ms per hash here). Hashes are PHC strings (`$argon2id$v=19$...`).
 */
import { hash, verify } from '@node-rs/argon2';
import { PitlaneError } from '../errors.js';

/** Shortest password accepted, in characters. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest password accepted, in characters (bounds hashing work). */
export const MAX_PASSWORD_LENGTH = 1024;

/** Hashing and checking passwords. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `phc`; false (never throws) for a malformed hash. */
  verify(phc: string, password: string): Promise<boolean>;
}

/** argon2id (the library's default algorithm; the PHC string records the parameters). */
export const argon2idHasher: PasswordHasher = {
  hash: (password) => hash(password),
  async verify(phc, password) {
    try {
      return await verify(phc, password);
    } catch {
      return false;
    }
  },
};

/**
 * Checks a new password's length.
 * @throws PitlaneError 400 `PASSWORD_INVALID` naming `path`.
 */
export function validateNewPassword(password: unknown, path = 'password'): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new PitlaneError(400, 'PASSWORD_INVALID', `password must be ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters`, [
      { path, message: `must be a string of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters` },
    ]);
  }
  return password;
}
