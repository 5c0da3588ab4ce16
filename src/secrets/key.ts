/**
 * The secret-encryption key: 32 bytes for AES-256-GCM.
 *
 * Source, in order: `PITLANE_SECRET_KEY` (32 bytes written as 64 hex digits or as base64), else the
 * key file `<dataDir>/secret.key` (base64, one line), which is created with mode 0600 at first
 * start. A malformed key or a key file readable by group or others stops the server at start-up
 * with a message saying what is wrong (never the key itself).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Length of an AES-256 key, in bytes. */
export const SECRET_KEY_BYTES = 32;

/** Name of the key file inside the data directory. */
export const SECRET_KEY_FILE = 'secret.key';

/** A loaded key and where it came from. */
export interface LoadedSecretKey {
  /** The 32 key bytes. */
  key: Buffer;
  /** `env`: from PITLANE_SECRET_KEY; `file`: from (or newly written to) `path`. */
  source: 'env' | 'file';
  /** Path of the key file when `source` is `file`. */
  path?: string;
  /** True when the key file was created by this call (first start). */
  created: boolean;
}

/** A key that cannot be used; the message names the source and the rule, never the key. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

/**
 * Parses a key written as 64 hexadecimal digits or as base64 (standard or URL-safe alphabet,
 * padding optional) of exactly 32 bytes. Surrounding whitespace is ignored. Pure.
 * @param text the key text.
 * @param source how to name the origin in messages, e.g. `PITLANE_SECRET_KEY`.
 * @returns the 32 key bytes.
 * @throws SecretKeyError for another length or alphabet.
 */
export function parseSecretKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const rule = `${source} must be ${SECRET_KEY_BYTES} bytes written as 64 hex digits or as base64 (e.g. the output of \`openssl rand -base64 32\`)`;
  if (trimmed === '') throw new SecretKeyError(`${rule}; it is empty`);
  if (/^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length === SECRET_KEY_BYTES * 2) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new SecretKeyError(`${rule}; it holds characters that are neither hex nor base64`);
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== SECRET_KEY_BYTES) {
    const hexLike = /^[0-9a-fA-F]+$/.test(trimmed) ? ` (as hex it would be ${trimmed.length / 2} bytes)` : '';
    throw new SecretKeyError(`${rule}; it decodes to ${bytes.length} bytes${hexLike}`);
  }
  return bytes;
}

/**
 * Loads the key: from `configured` (the value of PITLANE_SECRET_KEY) when given, else from
 * `<dataDir>/secret.key`, creating that file (mode 0600, 32 random bytes as base64) when missing.
 * Creation is exclusive (`O_EXCL`), so two processes starting at once end up with the same key.
 * @throws SecretKeyError when the key is malformed or the key file is open to group or others.
 */
export async function loadSecretKey(options: { configured?: string | undefined; dataDir: string }): Promise<LoadedSecretKey> {
  if (options.configured !== undefined && options.configured !== '') {
    return { key: parseSecretKey(options.configured, 'PITLANE_SECRET_KEY'), source: 'env', created: false };
  }
  const path = join(options.dataDir, SECRET_KEY_FILE);
  let created = false;
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(SECRET_KEY_BYTES).toString('base64')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = await stat(path);
  if (!info.isFile()) throw new SecretKeyError(`the secret key file ${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `the secret key file ${path} has mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}; it must not be readable by group or others (chmod 600 it)`,
    );
  }
  return { key: parseSecretKey(await readFile(path, 'utf8'), `the secret key file ${path}`), source: 'file', path, created };
}

/**
 * A check value identifying a key without revealing it: hex HMAC-SHA256 of a fixed label under
 * the key. Stored in the settings so that a server started with another key than the one its
 * secrets were encrypted with refuses to start. Pure.
 */
export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update('pitlane secret key check v1').digest('hex');
}
