import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_HASH_KEY, ensureAdminToken, type TokenHashStore } from '../../../src/auth/admin-token.js';
import { credentialFromHeaders, deriveJobToken, generateApiToken, hashToken } from '../../../src/auth/tokens.js';

const tokenFromHeaders = (headers: Record<string, unknown>): string | undefined => credentialFromHeaders(headers as never)?.token;
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

describe('hashToken / generateApiToken / deriveJobToken', () => {
  it('hashes with SHA-256 as lowercase hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('pitlane_ä')).toBe(sha256('pitlane_ä'));
  });

  it('generates distinct tokens pitlane_<id>_<32 random bytes> whose hash is their SHA-256', () => {
    const tokens = Array.from({ length: 50 }, () => generateApiToken());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(50);
    expect(new Set(tokens.map((t) => t.id)).size).toBe(50);
    for (const { id, token, hash } of tokens) {
      expect(id).toMatch(/^[a-z2-7]{10}$/);
      expect(token.startsWith(`pitlane_${id}_`)).toBe(true);
      expect(Buffer.from(token.slice(`pitlane_${id}_`.length), 'base64url')).toHaveLength(32);
      expect(hash).toBe(sha256(token));
    }
  });

  it('derives the same job token from the same key, name, version and generation, and another otherwise', () => {
    const key = Buffer.alloc(32, 7);
    const first = deriveJobToken(key, 'adder', '1.0.0', 1);
    expect(deriveJobToken(key, 'adder', '1.0.0', 1)).toEqual(first);
    expect(first.hash).toBe(sha256(first.token));
    const others = [
      deriveJobToken(key, 'adder', '1.0.0', 2),
      deriveJobToken(key, 'adder', '1.0.1', 1),
      deriveJobToken(key, 'adde', 'r@1.0.0', 1),
      deriveJobToken(Buffer.alloc(32, 8), 'adder', '1.0.0', 1),
    ];
    for (const other of others) expect(other.token).not.toBe(first.token);
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
      expect(again.hash).toBe(hashToken(first.generated as string));
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
  ] as Array<[Record<string, unknown>, string]>)('%j → %j', (headers, expected) => {
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
  ] as Array<[Record<string, unknown>]>)('no token in %j', (headers) => {
    expect(tokenFromHeaders(headers)).toBeUndefined();
  });
});

describe('credentialFromHeaders and the session cookie', () => {
  it('reads the pitlane_session cookie when no header carries a token', () => {
    expect(credentialFromHeaders({ cookie: 'a=1; pitlane_session=pitlane_abc_def; b=2' })).toEqual({ token: 'pitlane_abc_def', viaCookie: true });
    expect(credentialFromHeaders({ cookie: 'pitlane_session=x', authorization: 'Bearer y' })).toEqual({ token: 'y', viaCookie: false });
    expect(credentialFromHeaders({ cookie: 'other=1' })).toBeUndefined();
    expect(credentialFromHeaders({ cookie: 'pitlane_session=' })).toBeUndefined();
  });
});
