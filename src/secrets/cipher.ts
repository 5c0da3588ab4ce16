/**
 * AES-256-GCM encryption of secret values (pure apart from drawing random IVs).
 *
 * Every value gets its own random 12-byte IV. The additional authenticated data binds the
 * ciphertext to where it belongs (job name, key and kind), so a row copied to another job or key,
 * or altered in any byte, fails to decrypt instead of yielding a value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SECRET_KEY_BYTES } from './key.js';
import type { SecretKind } from './validation.js';

/** IV length for AES-GCM, in bytes (NIST SP 800-38D's recommended 96 bits). */
export const IV_BYTES = 12;
/** Authentication tag length, in bytes. */
export const AUTH_TAG_BYTES = 16;

/** Where a secret belongs; authenticated together with its value. */
export interface SecretAddress {
  jobName: string;
  key: string;
  kind: SecretKind;
}

/** An encrypted value: the three parts AES-GCM produces. */
export interface EncryptedSecret {
  ciphertext: Buffer;
  /** 12 bytes. */
  iv: Buffer;
  /** 16 bytes. */
  authTag: Buffer;
}

/** A value that failed to decrypt: wrong key, or the stored data was altered or moved. */
export class SecretDecryptionError extends Error {
  constructor(readonly address: SecretAddress) {
    super(`the ${address.kind} secret ${address.jobName}/${address.key} cannot be decrypted: the server's secret key differs from the one it was stored with, or the stored data was altered`);
    this.name = 'SecretDecryptionError';
  }
}

/** The additional authenticated data for `address` (NUL-separated, versioned). Pure. */
export function secretAad(address: SecretAddress): Buffer {
  return Buffer.from(`pitlane-secret-v1\u0000${address.jobName}\u0000${address.key}\u0000${address.kind}`, 'utf8');
}

function checkKey(key: Buffer): void {
  if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`AES-256 needs a ${SECRET_KEY_BYTES}-byte key; got ${key.length} bytes`);
}

/**
 * Encrypts `plaintext` (UTF-8) for `address` under `key`.
 * @param key 32 bytes.
 * @param iv 12 bytes; random by default. Give one only in tests: never reuse an IV with a key.
 * @throws RangeError for a key or IV of the wrong length.
 */
export function encryptSecret(key: Buffer, address: SecretAddress, plaintext: string, iv: Buffer = randomBytes(IV_BYTES)): EncryptedSecret {
  checkKey(key);
  if (iv.length !== IV_BYTES) throw new RangeError(`the IV must be ${IV_BYTES} bytes; got ${iv.length}`);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: AUTH_TAG_BYTES });
  cipher.setAAD(secretAad(address));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/**
 * Decrypts a value stored for `address`.
 * @returns the plaintext (UTF-8).
 * @throws SecretDecryptionError when the key is not the one used, or any of ciphertext, IV, tag
 *   or address differs from what was encrypted. RangeError for a key of the wrong length.
 */
export function decryptSecret(key: Buffer, address: SecretAddress, encrypted: EncryptedSecret): string {
  checkKey(key);
  if (encrypted.iv.length !== IV_BYTES || encrypted.authTag.length !== AUTH_TAG_BYTES) throw new SecretDecryptionError(address);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, encrypted.iv, { authTagLength: AUTH_TAG_BYTES });
    decipher.setAAD(secretAad(address));
    decipher.setAuthTag(encrypted.authTag);
    return Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionError(address);
  }
}
