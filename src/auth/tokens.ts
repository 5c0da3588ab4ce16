/**
 * Token formats and where a request carries its token.
 *
 * API tokens are `pitlane_<id>_<secret>`: `id` is 10 lowercase base-32 characters (the readable
 * prefix shown in listings as `pitlane_<id>`), `secret` 32 random bytes in base64url. Only the
 * hex SHA-256 of the whole token is stored. A job identity's token is derived, not stored:
 * `pitlane_<id>_<HMAC-SHA256(key, "job:NAME@VERSION:GENERATION")>`, so a replica recreated later
 * gets the same token without Pitlane keeping it anywhere; bumping the generation rotates it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseCookie } from 'cookie';

/** Name of the browser session cookie (HttpOnly, SameSite=Lax). */
export const SESSION_COOKIE = 'pitlane_session';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Hex SHA-256 of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function idFromBytes(bytes: Buffer): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += ID_ALPHABET[(bytes[i] ?? 0) & 31];
  return id;
}

/** A new token: `{id, token, hash}`; `token` must be shown once and then forgotten. */
export function generateApiToken(): { id: string; token: string; hash: string } {
  const id = idFromBytes(randomBytes(10));
  const token = `pitlane_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

/**
 * The token of job identity `NAME@VERSION` at `generation`, derived with HMAC-SHA256 from `key`
 * (the secret key, at least 32 bytes). The same inputs always give the same token.
 */
export function deriveJobToken(key: Buffer, jobName: string, jobVersion: string, generation: number): { id: string; token: string; hash: string } {
  const mac = createHmac('sha256', key).update(`job:${jobName}@${jobVersion}:${generation}`, 'utf8').digest();
  const id = idFromBytes(createHash('sha256').update(mac).digest());
  const token = `pitlane_${id}_${mac.toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

/** The readable prefix of token `id`, e.g. `pitlane_abcd234xyz`. */
export function tokenPrefix(id: string): string {
  return `pitlane_${id}`;
}

/** A token found on a request, and whether it came from the session cookie. */
export interface RequestCredential {
  token: string;
  viaCookie: boolean;
}

/**
 * Reads the caller's token from `Authorization: Bearer <token>`, `X-Racetrack-Auth: <token>`
 * (Racetrack's header) or the `pitlane_session` cookie, in that order. Undefined when none.
 */
export function credentialFromHeaders(headers: IncomingHttpHeaders): RequestCredential | undefined {
  const authorization = headers.authorization;
  // Fast path for the usual exact form `Bearer <token>` (no regex on the gateway's hot path).
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ') && authorization.length > 7) {
    const token = authorization.slice(7);
    if (token.indexOf(' ') === -1 && token.indexOf('\t') === -1) return { token, viaCookie: false };
  }
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) return { token: match[1], viaCookie: false };
  }
  const racetrack = headers['x-racetrack-auth'];
  if (typeof racetrack === 'string' && racetrack.trim() !== '') return { token: racetrack.trim(), viaCookie: false };
  const cookieHeader = headers.cookie;
  if (typeof cookieHeader === 'string' && cookieHeader.includes(SESSION_COOKIE)) {
    try {
      const value = parseCookie(cookieHeader)[SESSION_COOKIE];
      if (value) return { token: value, viaCookie: true };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
