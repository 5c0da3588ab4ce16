/**
 * The admin token that guards the API and the gateway until real identities arrive.
 * Tokens are random (`pitlane_` + 32 bytes base64url), shown once and stored only as SHA-256.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Settings key under which the token hash is stored. */
export const ADMIN_TOKEN_HASH_KEY = 'admin_token_sha256';

/** Hex SHA-256 of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random admin token. */
export function generateToken(): string {
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

/**
 * Reads the caller's token from `Authorization: Bearer <token>` or `X-Racetrack-Auth: <token>`
 * (Racetrack's header). Returns undefined when neither is present.
 */
export function tokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const racetrack = headers['x-racetrack-auth'];
  if (typeof racetrack === 'string' && racetrack.trim() !== '') return racetrack.trim();
  return undefined;
}

/** Checks tokens against the admin token hash held in memory (no database round trip). */
export class AdminTokenVerifier {
  private readonly expected: Buffer;
  /** Tokens already verified (at most 64), so the hot path hashes each token once. */
  private readonly accepted = new Set<string>();

  /** @param hashHex the stored hex SHA-256 of the admin token. */
  constructor(hashHex: string) {
    this.expected = Buffer.from(hashHex, 'hex');
  }

  /** True when `token` is the admin token (constant-time comparison of hashes). */
  verify(token: string | undefined): boolean {
    if (!token) return false;
    if (this.accepted.has(token)) return true;
    const actual = createHash('sha256').update(token, 'utf8').digest();
    const ok = actual.length === this.expected.length && timingSafeEqual(actual, this.expected);
    if (ok) {
      if (this.accepted.size >= 64) this.accepted.clear();
      this.accepted.add(token);
    }
    return ok;
  }

  /** Verifies the token carried by request headers. */
  verifyHeaders(headers: IncomingHttpHeaders): boolean {
    return this.verify(tokenFromHeaders(headers));
  }
}
