/**
 * The secrets of jobs: set, list and delete them (values encrypted at rest), and hand their
 * plaintext only to the places allowed to see it: container creation (runtime secrets) and image
 * builds (build secrets, as BuildKit secret mounts). Secrets belong to a job name, so every
 * version of the job gets them; they survive deleting the job's versions.
 */
import { PitlaneError } from '../errors.js';
import type { RuntimeEnvironmentProvider } from '../infra/runtime-environment.js';
import { decryptSecret, encryptSecret } from './cipher.js';
import { keyCheckValue, SecretKeyError } from './key.js';
import type { SecretMetadata, SecretRepository } from './repository.js';
import { jobNameProblems, secretKeyProblems, secretValueProblems, type SecretKind } from './validation.js';

/** Settings key holding {@link keyCheckValue} of the key the stored secrets are encrypted with. */
export const SECRET_KEY_CHECK_SETTING = 'secret_key_check';

/** Dependencies of the {@link SecretService}. */
export interface SecretServiceOptions {
  repository: SecretRepository;
  /** The 32-byte AES-256 key (see key.ts). */
  key: Buffer;
  /** Clock, for tests. */
  now?: () => Date;
}

function invalid(details: { path?: string; message: string }[]): PitlaneError {
  return new PitlaneError(400, 'SECRET_INVALID', `invalid secret: ${details.map((d) => `${d.path ?? ''}: ${d.message}`).join('; ')}`, details);
}

/** Secrets: validation, encryption and access. */
export class SecretService {
  private readonly now: () => Date;

  constructor(private readonly options: SecretServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Stores (or replaces) a secret.
   * @param input.by identity reference of the caller, e.g. `user:alice`.
   * @returns the metadata (never the value) and whether it was created.
   * @throws PitlaneError 400 `SECRET_INVALID` naming `name`, `key` or `value` (messages never quote the value).
   */
  async set(input: { jobName: string; key: string; value: string; kind: SecretKind; by: string }): Promise<{ created: boolean; secret: SecretMetadata }> {
    const problems = [...jobNameProblems(input.jobName), ...secretKeyProblems(input.key, input.kind), ...secretValueProblems(input.value, input.kind)];
    if (problems.length > 0) throw invalid(problems);
    const encrypted = encryptSecret(this.options.key, { jobName: input.jobName, key: input.key, kind: input.kind }, input.value);
    return this.options.repository.put({ jobName: input.jobName, key: input.key, kind: input.kind, encrypted, by: input.by, at: this.now().toISOString() });
  }

  /**
   * The job's secrets without values (an empty list for a job with none, deployed or not).
   * @throws PitlaneError 400 for an invalid job name.
   */
  async list(jobName: string): Promise<SecretMetadata[]> {
    const problems = jobNameProblems(jobName);
    if (problems.length > 0) throw invalid(problems);
    return this.options.repository.list(jobName);
  }

  /**
   * Deletes a secret of `kind`, or of every kind when `kind` is undefined.
   * @returns the kinds deleted.
   * @throws PitlaneError 400 for an invalid name or key, 404 `SECRET_NOT_FOUND` when nothing matched.
   */
  async delete(jobName: string, key: string, kind?: SecretKind): Promise<SecretKind[]> {
    const problems = [...jobNameProblems(jobName), ...secretKeyProblems(key, undefined)];
    if (problems.length > 0) throw invalid(problems);
    const deleted = await this.options.repository.delete(jobName, key, kind);
    if (deleted.length === 0) {
      throw new PitlaneError(404, 'SECRET_NOT_FOUND', `job "${jobName}" has no ${kind ? `${kind} ` : ''}secret ${key}`, [{ path: 'key', message: 'no such secret' }]);
    }
    return deleted;
  }

  /**
   * Every runtime secret of the job, decrypted: variable name → value. For container creation only.
   * @throws SecretDecryptionError when a value cannot be decrypted with the current key.
   */
  async runtimeEnvironment(jobName: string): Promise<Record<string, string>> {
    const rows = await this.options.repository.encrypted(jobName, 'runtime');
    return Object.fromEntries(rows.map((row) => [row.key, decryptSecret(this.options.key, { jobName, key: row.key, kind: 'runtime' }, row.encrypted)]));
  }

  /** {@link runtimeEnvironment} as the infrastructure target's environment provider. */
  environmentProvider(): RuntimeEnvironmentProvider {
    return ({ jobName }) => this.runtimeEnvironment(jobName);
  }

  /**
   * The build secrets a manifest names (`build_secrets`), decrypted: key → value. For image builds only.
   * @throws PitlaneError 422 `BUILD_SECRET_MISSING` naming each `build_secrets.N` that is not set
   *   (`pitlane secret set JOB KEY --build`); SecretDecryptionError when a value cannot be decrypted.
   */
  async buildSecrets(jobName: string, keys: readonly string[]): Promise<Record<string, string>> {
    const rows = await this.options.repository.encrypted(jobName, 'build', keys);
    const found = new Map(rows.map((row) => [row.key, row]));
    const missing = keys.map((key, index) => ({ key, index })).filter(({ key }) => !found.has(key));
    if (missing.length > 0) {
      throw new PitlaneError(
        422,
        'BUILD_SECRET_MISSING',
        `job "${jobName}" has no build secret ${missing.map((m) => m.key).join(', ')}; set it with \`pitlane secret set ${jobName} KEY --build\``,
        missing.map(({ key, index }) => ({ path: `build_secrets.${index}`, message: `no build secret ${key} is set for job "${jobName}"` })),
      );
    }
    return Object.fromEntries(keys.map((key) => [key, decryptSecret(this.options.key, { jobName, key, kind: 'build' }, found.get(key)!.encrypted)]));
  }
}

/**
 * Makes sure the server's key is the one the stored secrets were encrypted with: compares its
 * {@link keyCheckValue} with the one stored in the settings. With no secrets stored, the current
 * key's check value is (re)recorded. Run once at start-up.
 * @param describeSource how to name the key's origin, e.g. `PITLANE_SECRET_KEY` or the key file path.
 * @throws SecretKeyError when secrets exist and the key differs.
 */
export async function verifySecretKey(
  settings: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void> },
  repository: SecretRepository,
  key: Buffer,
  describeSource: string,
): Promise<void> {
  const check = keyCheckValue(key);
  const stored = await settings.get(SECRET_KEY_CHECK_SETTING);
  if (stored === check) return;
  if (stored !== undefined) {
    const count = await repository.count();
    if (count > 0) {
      throw new SecretKeyError(
        `the secret key (${describeSource}) is not the key the ${count} stored secret(s) were encrypted with; start Pitlane with the original key (PITLANE_SECRET_KEY, or the secret.key file of this data directory)`,
      );
    }
  }
  await settings.set(SECRET_KEY_CHECK_SETTING, check);
}
