import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyCheckValue, loadSecretKey, parseSecretKey, SecretKeyError, SECRET_KEY_FILE } from '../../../src/secrets/index.js';

const KEY = randomBytes(32);

describe('parseSecretKey', () => {
  it('accepts 64 hex digits, standard base64, unpadded base64 and URL-safe base64', () => {
    expect(parseSecretKey(KEY.toString('hex'), 'K').equals(KEY)).toBe(true);
    expect(parseSecretKey(KEY.toString('hex').toUpperCase(), 'K').equals(KEY)).toBe(true);
    expect(parseSecretKey(KEY.toString('base64'), 'K').equals(KEY)).toBe(true);
    expect(parseSecretKey(KEY.toString('base64').replace(/=+$/, ''), 'K').equals(KEY)).toBe(true);
    expect(parseSecretKey(KEY.toString('base64url'), 'K').equals(KEY)).toBe(true);
    expect(parseSecretKey(`  ${KEY.toString('base64')}\n`, 'K').equals(KEY)).toBe(true);
  });

  it.each([
    ['empty', '', 'it is empty'],
    ['16 bytes of hex', randomBytes(16).toString('hex'), 'decodes to 24 bytes (as hex it would be 16 bytes)'],
    ['31 bytes of base64', randomBytes(31).toString('base64'), 'decodes to 31 bytes'],
    ['33 bytes of base64', randomBytes(33).toString('base64'), 'decodes to 33 bytes'],
    ['a passphrase', 'correct horse battery staple', 'neither hex nor base64'],
  ])('refuses %s with a message naming the source and the rule, not the key', (_name, text, fragment) => {
    let error: unknown;
    try {
      parseSecretKey(text, 'PITLANE_SECRET_KEY');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecretKeyError);
    const message = (error as Error).message;
    expect(message).toContain('PITLANE_SECRET_KEY must be 32 bytes');
    expect(message).toContain(fragment);
    if (text.length > 8) expect(message).not.toContain(text);
  });
});

describe('loadSecretKey', () => {
  it('uses PITLANE_SECRET_KEY when given and writes no key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-key-'));
    const loaded = await loadSecretKey({ configured: KEY.toString('base64'), dataDir: dir });
    expect(loaded).toMatchObject({ source: 'env', created: false });
    expect(loaded.key.equals(KEY)).toBe(true);
    expect(() => statSync(join(dir, SECRET_KEY_FILE))).toThrow();
  });

  it('creates <dataDir>/secret.key with mode 0600 at first start and reads the same key afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-key-'));
    const first = await loadSecretKey({ dataDir: dir });
    expect(first).toMatchObject({ source: 'file', created: true, path: join(dir, SECRET_KEY_FILE) });
    expect(statSync(join(dir, SECRET_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(first.key.length).toBe(32);
    expect(Buffer.from(readFileSync(join(dir, SECRET_KEY_FILE), 'utf8').trim(), 'base64').equals(first.key)).toBe(true);
    const second = await loadSecretKey({ dataDir: dir, configured: '' });
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('two concurrent first starts end with one key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-key-'));
    const [a, b] = await Promise.all([loadSecretKey({ dataDir: dir }), loadSecretKey({ dataDir: dir })]);
    expect(a.key.equals(b.key)).toBe(true);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
  });

  it('refuses a key file readable by group or others, and a malformed key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-key-'));
    const path = join(dir, SECRET_KEY_FILE);
    writeFileSync(path, `${KEY.toString('base64')}\n`, { mode: 0o644 });
    chmodSync(path, 0o644);
    await expect(loadSecretKey({ dataDir: dir })).rejects.toThrow(/has mode 0644; it must not be readable by group or others/);
    chmodSync(path, 0o600);
    expect((await loadSecretKey({ dataDir: dir })).key.equals(KEY)).toBe(true);
    writeFileSync(path, 'short\n');
    await expect(loadSecretKey({ dataDir: dir })).rejects.toThrow(/secret key file .* must be 32 bytes/);
  });
});

describe('keyCheckValue', () => {
  it('is stable for one key, differs between keys and does not contain the key', () => {
    const other = randomBytes(32);
    expect(keyCheckValue(KEY)).toBe(keyCheckValue(Buffer.from(KEY)));
    expect(keyCheckValue(KEY)).not.toBe(keyCheckValue(other));
    expect(keyCheckValue(KEY)).not.toContain(KEY.toString('hex'));
    expect(keyCheckValue(KEY)).toMatch(/^[0-9a-f]{64}$/);
  });
});
