/** The secret service against a real SQLite database (migrations included). */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { SecretDecryptionError, SecretKeyError, SecretRepository, SecretService, verifySecretKey, SECRET_KEY_CHECK_SETTING } from '../../../src/secrets/index.js';
import { openDatabase, SettingsRepository, type PitlaneDatabase } from '../../../src/store/index.js';

const VALUE = `pl-test-secret-${randomBytes(8).toString('hex')}`;
let dir: string;
let db: PitlaneDatabase;
let repository: SecretRepository;
let service: SecretService;
let clock = 0;

async function pitlaneError(promise: Promise<unknown>): Promise<PitlaneError> {
  try {
    await promise;
  } catch (error) {
    expect(isPitlaneError(error), String(error)).toBe(true);
    return error as PitlaneError;
  }
  throw new Error('expected a PitlaneError');
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pitlane-secrets-'));
  db = await openDatabase(join(dir, 'pitlane.db'));
  repository = new SecretRepository(db);
  clock = Date.parse('2025-01-01T00:00:00Z');
  service = new SecretService({ repository, key: randomBytes(32), now: () => new Date((clock += 1000)) });
});

afterEach(async () => {
  await db.destroy();
});

describe('SecretService', () => {
  it('sets, lists (without values), replaces and deletes secrets', async () => {
    const created = await service.set({ jobName: 'adder', key: 'DB_PASSWORD', value: VALUE, kind: 'runtime', by: 'user:alice' });
    expect(created.created).toBe(true);
    expect(created.secret).toEqual({ jobName: 'adder', key: 'DB_PASSWORD', kind: 'runtime', createdAt: '2025-01-01T00:00:01.000Z', updatedAt: '2025-01-01T00:00:01.000Z', updatedBy: 'user:alice' });
    const updated = await service.set({ jobName: 'adder', key: 'DB_PASSWORD', value: `${VALUE}-2`, kind: 'runtime', by: 'user:bob' });
    expect(updated.created).toBe(false);
    expect(updated.secret).toMatchObject({ createdAt: '2025-01-01T00:00:01.000Z', updatedAt: '2025-01-01T00:00:02.000Z', updatedBy: 'user:bob' });
    await service.set({ jobName: 'adder', key: 'DB_PASSWORD', value: 'build-flavoured', kind: 'build', by: 'user:alice' });
    await service.set({ jobName: 'other', key: 'TOKEN', value: 'x', kind: 'runtime', by: 'user:alice' });

    const listed = await service.list('adder');
    expect(listed.map((s) => `${s.kind}:${s.key}`)).toEqual(['runtime:DB_PASSWORD', 'build:DB_PASSWORD']);
    expect(JSON.stringify(listed)).not.toContain(VALUE);
    expect(await service.runtimeEnvironment('adder')).toEqual({ DB_PASSWORD: `${VALUE}-2` });
    expect(await service.list('nothing-here')).toEqual([]);

    expect(await service.delete('adder', 'DB_PASSWORD', 'build')).toEqual(['build']);
    expect((await service.list('adder')).map((s) => s.kind)).toEqual(['runtime']);
    expect(await service.delete('adder', 'DB_PASSWORD')).toEqual(['runtime']);
    const missing = await pitlaneError(service.delete('adder', 'DB_PASSWORD'));
    expect(missing.status).toBe(404);
    expect(missing.code).toBe('SECRET_NOT_FOUND');
  });

  it('stores only ciphertext: the value is nowhere in the database files', async () => {
    await service.set({ jobName: 'adder', key: 'DB_PASSWORD', value: VALUE, kind: 'runtime', by: 'user:alice' });
    await service.set({ jobName: 'adder', key: 'NPM_TOKEN', value: VALUE, kind: 'build', by: 'user:alice' });
    const rows = await db.selectFrom('secrets').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.iv)).size).toBe(2);
    for (const row of rows) {
      expect(Buffer.from(row.iv, 'base64')).toHaveLength(12);
      expect(Buffer.from(row.auth_tag, 'base64')).toHaveLength(16);
    }
    const files = readdirSync(dir).filter((f) => f.startsWith('pitlane.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(join(dir, file));
      expect(bytes.includes(Buffer.from(VALUE)), file).toBe(false);
    }
    expect(JSON.stringify(rows)).not.toContain(VALUE);
  });

  it('rejects invalid input with 400 naming each field, without quoting the value', async () => {
    const error = await pitlaneError(service.set({ jobName: 'Bad_Name', key: '1KEY', value: '', kind: 'runtime', by: 'user:alice' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('SECRET_INVALID');
    expect(error.details.map((d) => d.path)).toEqual(['name', 'key', 'value']);
    const reserved = await pitlaneError(service.set({ jobName: 'adder', key: 'AUTH_TOKEN', value: VALUE, kind: 'runtime', by: 'user:alice' }));
    expect(reserved.details[0]?.message).toContain('reserved');
    expect(JSON.stringify(reserved.toJSON())).not.toContain(VALUE);
    const tooBig = await pitlaneError(service.set({ jobName: 'adder', key: 'BIG', value: 'x'.repeat(64 * 1024 + 1), kind: 'runtime', by: 'user:alice' }));
    expect(tooBig.details[0]?.path).toBe('value');
    expect((await pitlaneError(service.list('UPPER'))).status).toBe(400);
    expect((await pitlaneError(service.delete('adder', 'bad-key'))).status).toBe(400);
  });

  it('hands build secrets over by the manifest order and names each missing one as build_secrets.N', async () => {
    await service.set({ jobName: 'adder', key: 'A', value: 'a-value', kind: 'build', by: 'user:alice' });
    await service.set({ jobName: 'adder', key: 'B', value: 'runtime-only', kind: 'runtime', by: 'user:alice' });
    expect(await service.buildSecrets('adder', ['A'])).toEqual({ A: 'a-value' });
    const error = await pitlaneError(service.buildSecrets('adder', ['A', 'B', 'C']));
    expect(error.status).toBe(422);
    expect(error.code).toBe('BUILD_SECRET_MISSING');
    expect(error.details.map((d) => d.path)).toEqual(['build_secrets.1', 'build_secrets.2']);
    expect(error.message).toContain('pitlane secret set adder KEY --build');
    expect(await service.runtimeEnvironment('adder')).toEqual({ B: 'runtime-only' });
  });

  it('refuses to hand out values altered in the database, naming the secret', async () => {
    await service.set({ jobName: 'adder', key: 'DB_PASSWORD', value: VALUE, kind: 'runtime', by: 'user:alice' });
    const row = await db.selectFrom('secrets').selectAll().executeTakeFirstOrThrow();
    const tampered = Buffer.from(row.ciphertext, 'base64');
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    await db.updateTable('secrets').set({ ciphertext: tampered.toString('base64') }).execute();
    await expect(service.runtimeEnvironment('adder')).rejects.toBeInstanceOf(SecretDecryptionError);
    // A row copied to another job does not decrypt there either.
    await db.updateTable('secrets').set({ ciphertext: row.ciphertext, job_name: 'thief' }).execute();
    await expect(service.runtimeEnvironment('thief')).rejects.toThrow(/thief\/DB_PASSWORD cannot be decrypted/);
  });
});

describe('verifySecretKey', () => {
  it('records the key, accepts it again, and refuses another key once secrets exist', async () => {
    const settings = new SettingsRepository(db);
    const key = randomBytes(32);
    await verifySecretKey(settings, repository, key, 'PITLANE_SECRET_KEY');
    expect(await settings.get(SECRET_KEY_CHECK_SETTING)).toMatch(/^[0-9a-f]{64}$/);
    await verifySecretKey(settings, repository, key, 'PITLANE_SECRET_KEY');

    // No secrets yet: a new key simply replaces the recorded one.
    const second = randomBytes(32);
    await verifySecretKey(settings, repository, second, 'PITLANE_SECRET_KEY');
    await new SecretService({ repository, key: second }).set({ jobName: 'adder', key: 'X', value: 'v', kind: 'runtime', by: 'user:alice' });
    await expect(verifySecretKey(settings, repository, key, '/data/secret.key')).rejects.toThrow(SecretKeyError);
    await expect(verifySecretKey(settings, repository, key, '/data/secret.key')).rejects.toThrow(
      /the secret key \(\/data\/secret.key\) is not the key the 1 stored secret\(s\) were encrypted with/,
    );
    await verifySecretKey(settings, repository, second, 'PITLANE_SECRET_KEY');
  });
});
