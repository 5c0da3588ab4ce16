/**
 * Secrets of jobs: runtime secrets (container environment, resolved at container creation) and
 * build secrets (BuildKit secret mounts), stored encrypted with AES-256-GCM.
 */
export { loadSecretKey, parseSecretKey, keyCheckValue, SecretKeyError, SECRET_KEY_BYTES, SECRET_KEY_FILE, type LoadedSecretKey } from './key.js';
export { encryptSecret, decryptSecret, secretAad, SecretDecryptionError, IV_BYTES, AUTH_TAG_BYTES, type EncryptedSecret, type SecretAddress } from './cipher.js';
export {
  SECRET_KINDS,
  SECRET_KEY_RE,
  MAX_SECRET_KEY_LENGTH,
  MAX_SECRET_VALUE_BYTES,
  isSecretKind,
  jobNameProblems,
  secretKeyProblems,
  secretValueProblems,
  type SecretKind,
} from './validation.js';
export { SecretRepository, type SecretMetadata, type StoredSecret } from './repository.js';
export { SecretService, verifySecretKey, SECRET_KEY_CHECK_SETTING, type SecretServiceOptions } from './service.js';
export { redactSecrets, redactingLines, secretNeedles, REDACTED } from './redact.js';
