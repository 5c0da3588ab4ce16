/**
 * The first-start admin token (bootstrap): random (`pitlane_` + 32 bytes base64url), shown once,
 * stored only as SHA-256. At start-up it becomes a token of the `admin` user (AuthService.bootstrap).
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from './tokens.js';

/** Settings key under which the token hash is stored. */
export const ADMIN_TOKEN_HASH_KEY = 'admin_token_sha256';

/** A new random admin token. */
function generateToken(): string {
  return `pitlane_${randomBytes(32).toString('base64url')}`;
}

/** Minimal settings store interface this module needs. */
export interface TokenHashStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/**
 * Makes sure an admin token hash is stored. With `configuredToken` (PITLANE_ADMIN_TOKEN) its hash
 * replaces any stored one. Otherwise, at first start, a token is generated and returned so the
 * caller can print it once; later starts return `generated: undefined`.
 */
export async function ensureAdminToken(
  store: TokenHashStore,
  configuredToken: string | undefined,
): Promise<{ hash: string; generated: string | undefined }> {
  if (configuredToken) {
    const hash = hashToken(configuredToken);
    await store.set(ADMIN_TOKEN_HASH_KEY, hash);
    return { hash, generated: undefined };
  }
  const stored = await store.get(ADMIN_TOKEN_HASH_KEY);
  if (stored) return { hash: stored, generated: undefined };
  const token = generateToken();
  const hash = hashToken(token);
  await store.set(ADMIN_TOKEN_HASH_KEY, hash);
  return { hash, generated: token };
}

