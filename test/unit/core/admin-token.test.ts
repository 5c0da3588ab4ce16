import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_HASH_KEY,
  AdminTokenVerifier,
  ensureAdminToken,
  generateToken,
  hashToken,
  tokenFromHeaders,
  type TokenHashStore,
} from '../../../src/auth/admin-token.js';
import { SettingsRepository, openDatabase, type PitlaneDatabase } from '../../../src/store/index.js';
import { tempDir } from './helpers.js';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** An in-memory store that records writes. */
class MemoryStore implements TokenHashStore {
  values = new Map<string, string>();
  writes: Array<[string, string]> = [];
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.writes.push([key, value]);
    this.values.set(key, value);
  }
}

describe('hashToken / generateToken', () => {
  it('hashes with SHA-256 as lowercase hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('pitlane_ä')).toBe(sha256('pitlane_ä'));
  });

  it('generates distinct prefixed base64url tokens of 32 random bytes', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => generateToken()));
    expect(tokens.size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^pitlane_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice('pitlane_'.length), 'base64url')).toHaveLength(32);
    }
  });
});

describe('ensureAdminToken', () => {
  it('generates a token once and returns it only the first time', async () => {
    const store = new MemoryStore();
    const first = await ensureAdminToken(store, undefined);
    expect(first.generated).toMatch(/^pitlane_/);
    expect(first.hash).toBe(sha256(first.generated as string));
    expect(store.values.get(ADMIN_TOKEN_HASH_KEY)).toBe(first.hash);

    const second = await ensureAdminToken(store, undefined);
    expect(second).toEqual({ hash: first.hash, generated: undefined });
    expect(store.writes).toHaveLength(1);
  });

  it('stores the SHA-256, never the token itself', async () => {
    const store = new MemoryStore();
    const { generated } = await ensureAdminToken(store, undefined);
    const configured = 'a-configured-token-of-some-length';
    await ensureAdminToken(store, configured);
    for (const [, value] of store.writes) {
      expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(value).not.toContain(generated as string);
      expect(value).not.toContain(configured);
    }
  });

  it('a configured token replaces the stored hash, every start', async () => {
    const store = new MemoryStore();
    await ensureAdminToken(store, undefined);
    const configured = 'my-admin-token-0123456789';
    const result = await ensureAdminToken(store, configured);
    expect(result).toEqual({ hash: sha256(configured), generated: undefined });
    expect(store.values.get(ADMIN_TOKEN_HASH_KEY)).toBe(sha256(configured));

    const replaced = await ensureAdminToken(store, 'another-admin-token-xyz');
    expect(replaced.hash).toBe(sha256('another-admin-token-xyz'));
    expect(store.values.get(ADMIN_TOKEN_HASH_KEY)).toBe(sha256('another-admin-token-xyz'));
  });

  it('after a configured token is unset, the stored hash stays (no new token is generated)', async () => {
    const store = new MemoryStore();
    await ensureAdminToken(store, 'configured-token-0123456789');
    const later = await ensureAdminToken(store, undefined);
    expect(later).toEqual({ hash: sha256('configured-token-0123456789'), generated: undefined });
  });

  it('treats an empty configured token as unset', async () => {
    const store = new MemoryStore();
    const result = await ensureAdminToken(store, '');
    expect(result.generated).toMatch(/^pitlane_/);
    expect(result.hash).not.toBe(sha256(''));
  });

  describe('with the SQLite settings store', () => {
    let dir: { path: string; remove: () => void };
    let db: PitlaneDatabase;
    beforeEach(async () => {
      dir = tempDir('auth');
      db = await openDatabase(join(dir.path, 'pitlane.db'));
    });
    afterEach(async () => {
      await db.destroy();
      dir.remove();
    });

    it('persists the hash so a restart does not generate another token', async () => {
      const settings = new SettingsRepository(db);
      const first = await ensureAdminToken(settings, undefined);
      expect(first.generated).toBeDefined();
      expect(await settings.get(ADMIN_TOKEN_HASH_KEY)).toBe(sha256(first.generated as string));
      const again = await ensureAdminToken(new SettingsRepository(db), undefined);
      expect(again.generated).toBeUndefined();
      expect(new AdminTokenVerifier(again.hash).verify(first.generated)).toBe(true);
    });
  });
});

describe('tokenFromHeaders', () => {
  it.each([
    [{ authorization: 'Bearer abc123' }, 'abc123'],
    [{ authorization: 'bearer abc123' }, 'abc123'],
    [{ authorization: 'BEARER   abc123  ' }, 'abc123'],
    [{ 'x-racetrack-auth': 'rt-token' }, 'rt-token'],
    [{ 'x-racetrack-auth': '  rt-token \t' }, 'rt-token'],
    [{ authorization: 'Bearer from-bearer', 'x-racetrack-auth': 'from-racetrack' }, 'from-bearer'],
    [{ authorization: 'Basic dXNlcjpwYXNz', 'x-racetrack-auth': 'fallback' }, 'fallback'],
  ])('%j → %j', (headers, expected) => {
    expect(tokenFromHeaders(headers)).toBe(expected);
  });

  it.each([
    [{}],
    [{ authorization: '' }],
    [{ authorization: 'Bearer' }],
    [{ authorization: 'Bearer ' }],
    [{ authorization: 'Bearer two tokens' }],
    [{ authorization: 'Basic dXNlcjpwYXNz' }],
    [{ authorization: 'Token abc' }],
    [{ authorization: 'abc123' }],
    [{ authorization: 'xBearer abc' }],
    [{ 'x-racetrack-auth': '' }],
    [{ 'x-racetrack-auth': '   ' }],
    [{ 'x-racetrack-auth': ['a', 'b'] }],
  ])('no token in %j', (headers) => {
    expect(tokenFromHeaders(headers)).toBeUndefined();
  });
});

describe('AdminTokenVerifier', () => {
  const token = 'pitlane_correct-horse-battery-staple';
  const verifier = new AdminTokenVerifier(hashToken(token));

  it('accepts the admin token', () => {
    expect(verifier.verify(token)).toBe(true);
  });

  it.each([undefined, '', 'pitlane_wrong', `${token} `, token.toUpperCase(), token.slice(0, -1), hashToken(token)])('rejects %j', (candidate) => {
    expect(verifier.verify(candidate)).toBe(false);
  });

  it('verifies tokens from headers', () => {
    expect(verifier.verifyHeaders({ authorization: `Bearer ${token}` })).toBe(true);
    expect(verifier.verifyHeaders({ 'x-racetrack-auth': token })).toBe(true);
    expect(verifier.verifyHeaders({ authorization: 'Bearer nope' })).toBe(false);
    expect(verifier.verifyHeaders({})).toBe(false);
  });

  it('rejects everything when the stored hash is malformed (no throw)', () => {
    for (const hash of ['', 'zz', 'abc', hashToken(token).slice(0, 62)]) {
      const broken = new AdminTokenVerifier(hash);
      expect(broken.verify(token)).toBe(false);
      expect(broken.verify('anything')).toBe(false);
    }
  });

  it('works with the hash ensureAdminToken returns', async () => {
    const store = new MemoryStore();
    const { hash, generated } = await ensureAdminToken(store, undefined);
    const fromStore = new AdminTokenVerifier(hash);
    expect(fromStore.verify(generated)).toBe(true);
    expect(fromStore.verify(generateToken())).toBe(false);
  });
});
