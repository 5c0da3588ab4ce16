import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, SecretDecryptionError, secretAad, type EncryptedSecret, type SecretAddress } from '../../../src/secrets/index.js';

const KEY = randomBytes(32);
const ADDRESS: SecretAddress = { jobName: 'adder', key: 'DB_PASSWORD', kind: 'runtime' };

function flip(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

function decryptError(key: Buffer, address: SecretAddress, encrypted: EncryptedSecret): unknown {
  try {
    decryptSecret(key, address, encrypted);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('AES-256-GCM secrets', () => {
  it.each([
    ['ascii', 's3cr3t-passw0rd'],
    ['unicode', 'pässwörd 🔑 秘密'],
    ['multi-line', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n'],
    ['64 KiB', 'x'.repeat(64 * 1024)],
  ])('round-trips a %s value', (_name, value) => {
    const encrypted = encryptSecret(KEY, ADDRESS, value);
    expect(encrypted.iv.length).toBe(12);
    expect(encrypted.authTag.length).toBe(16);
    expect(encrypted.ciphertext.length).toBe(Buffer.byteLength(value));
    expect(encrypted.ciphertext.includes(Buffer.from(value))).toBe(false);
    expect(decryptSecret(KEY, ADDRESS, encrypted)).toBe(value);
  });

  it('draws a fresh IV for every value: the same value encrypts differently each time', () => {
    const runs = Array.from({ length: 50 }, () => encryptSecret(KEY, ADDRESS, 'same'));
    expect(new Set(runs.map((r) => r.iv.toString('hex'))).size).toBe(50);
    expect(new Set(runs.map((r) => r.ciphertext.toString('hex'))).size).toBeGreaterThan(1);
  });

  it('detects tampering with any byte of the ciphertext, IV or tag', () => {
    const encrypted = encryptSecret(KEY, ADDRESS, 'tamper me');
    for (let i = 0; i < encrypted.ciphertext.length; i += 1) {
      expect(decryptError(KEY, ADDRESS, { ...encrypted, ciphertext: flip(encrypted.ciphertext, i) })).toBeInstanceOf(SecretDecryptionError);
    }
    for (let i = 0; i < 12; i += 1) expect(decryptError(KEY, ADDRESS, { ...encrypted, iv: flip(encrypted.iv, i) })).toBeInstanceOf(SecretDecryptionError);
    for (let i = 0; i < 16; i += 1) expect(decryptError(KEY, ADDRESS, { ...encrypted, authTag: flip(encrypted.authTag, i) })).toBeInstanceOf(SecretDecryptionError);
    expect(decryptError(KEY, ADDRESS, { ...encrypted, authTag: encrypted.authTag.subarray(0, 8) })).toBeInstanceOf(SecretDecryptionError);
    expect(decryptError(KEY, ADDRESS, { ...encrypted, ciphertext: encrypted.ciphertext.subarray(1) })).toBeInstanceOf(SecretDecryptionError);
  });

  it('binds the value to its job name, key and kind (a row moved elsewhere does not decrypt)', () => {
    const encrypted = encryptSecret(KEY, ADDRESS, 'bound');
    for (const moved of [
      { ...ADDRESS, jobName: 'other' },
      { ...ADDRESS, key: 'DB_PASSWORD2' },
      { ...ADDRESS, kind: 'build' as const },
      // NUL separators: "a" + "b\0c" must not equal "a\0b" + "c".
      { ...ADDRESS, jobName: 'adder\u0000DB', key: 'PASSWORD' },
    ]) {
      expect(decryptError(KEY, moved, encrypted)).toBeInstanceOf(SecretDecryptionError);
    }
    expect(secretAad(ADDRESS).toString()).toBe('pitlane-secret-v1\u0000adder\u0000DB_PASSWORD\u0000runtime');
  });

  it('fails with another key, and the error names the secret but never the value', () => {
    const encrypted = encryptSecret(KEY, ADDRESS, 'value-that-must-not-leak');
    const error = decryptError(randomBytes(32), ADDRESS, encrypted) as Error;
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(error.message).toContain('adder/DB_PASSWORD');
    expect(error.message).not.toContain('value-that-must-not-leak');
  });

  it('refuses keys and IVs of the wrong length', () => {
    expect(() => encryptSecret(randomBytes(16), ADDRESS, 'x')).toThrow(RangeError);
    expect(() => encryptSecret(KEY, ADDRESS, 'x', randomBytes(16))).toThrow(RangeError);
    expect(() => decryptSecret(randomBytes(31), ADDRESS, encryptSecret(KEY, ADDRESS, 'x'))).toThrow(RangeError);
  });

  it('is standard AES-256-GCM: any implementation decrypts it with the documented AAD', () => {
    const encrypted = encryptSecret(KEY, ADDRESS, 'interoperable');
    const decipher = createDecipheriv('aes-256-gcm', KEY, encrypted.iv);
    decipher.setAAD(Buffer.from('pitlane-secret-v1\u0000adder\u0000DB_PASSWORD\u0000runtime'));
    decipher.setAuthTag(encrypted.authTag);
    expect(Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]).toString()).toBe('interoperable');
  });
});
