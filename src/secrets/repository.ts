/**
 * Data access for the `secrets` table (migration 0005). Rows hold only encrypted values; this
 * module neither encrypts nor decrypts (see cipher.ts and service.ts).
 */
import type { PitlaneDatabase } from '../store/database.js';
import type { EncryptedSecret } from './cipher.js';
import type { SecretKind } from './validation.js';

/** A secret's description: everything but its value. Times are ISO 8601 UTC. */
export interface SecretMetadata {
  jobName: string;
  key: string;
  kind: SecretKind;
  createdAt: string;
  updatedAt: string;
  /** Identity reference of who set it last, e.g. `user:alice`. */
  updatedBy: string;
}

/** A stored secret: its metadata plus the encrypted value. */
export interface StoredSecret extends SecretMetadata {
  encrypted: EncryptedSecret;
}

type Row = {
  job_name: string;
  key: string;
  kind: SecretKind;
  ciphertext: string;
  iv: string;
  auth_tag: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
};

function metadata(row: Omit<Row, 'ciphertext' | 'iv' | 'auth_tag'>): SecretMetadata {
  return { jobName: row.job_name, key: row.key, kind: row.kind, createdAt: row.created_at, updatedAt: row.updated_at, updatedBy: row.updated_by };
}

function stored(row: Row): StoredSecret {
  return {
    ...metadata(row),
    encrypted: { ciphertext: Buffer.from(row.ciphertext, 'base64'), iv: Buffer.from(row.iv, 'base64'), authTag: Buffer.from(row.auth_tag, 'base64') },
  };
}

/** The secrets table. Every method is one statement or one transaction. */
export class SecretRepository {
  constructor(private readonly db: PitlaneDatabase) {}

  /**
   * Inserts or replaces the secret `jobName`/`key`/`kind` (one transaction).
   * @param at ISO 8601 time of the change.
   * @returns its metadata and whether it was created (false: an existing value was replaced).
   */
  async put(input: { jobName: string; key: string; kind: SecretKind; encrypted: EncryptedSecret; by: string; at: string }): Promise<{ created: boolean; secret: SecretMetadata }> {
    const values = {
      ciphertext: input.encrypted.ciphertext.toString('base64'),
      iv: input.encrypted.iv.toString('base64'),
      auth_tag: input.encrypted.authTag.toString('base64'),
      updated_at: input.at,
      updated_by: input.by,
    };
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('secrets')
        .select('created_at')
        .where('job_name', '=', input.jobName)
        .where('key', '=', input.key)
        .where('kind', '=', input.kind)
        .executeTakeFirst();
      if (existing) {
        await trx
          .updateTable('secrets')
          .set(values)
          .where('job_name', '=', input.jobName)
          .where('key', '=', input.key)
          .where('kind', '=', input.kind)
          .execute();
      } else {
        await trx
          .insertInto('secrets')
          .values({ job_name: input.jobName, key: input.key, kind: input.kind, created_at: input.at, ...values })
          .execute();
      }
      return {
        created: !existing,
        secret: metadata({ job_name: input.jobName, key: input.key, kind: input.kind, created_at: existing?.created_at ?? input.at, updated_at: input.at, updated_by: input.by }),
      };
    });
  }

  /** Metadata of the job's secrets (no values), sorted by kind, then key. */
  async list(jobName: string): Promise<SecretMetadata[]> {
    const rows = await this.db
      .selectFrom('secrets')
      .select(['job_name', 'key', 'kind', 'created_at', 'updated_at', 'updated_by'])
      .where('job_name', '=', jobName)
      .orderBy('kind', 'desc')
      .orderBy('key')
      .execute();
    return rows.map(metadata);
  }

  /** The job's stored secrets of `kind`, with their encrypted values; only `keys` when given. */
  async encrypted(jobName: string, kind: SecretKind, keys?: readonly string[]): Promise<StoredSecret[]> {
    if (keys !== undefined && keys.length === 0) return [];
    let query = this.db.selectFrom('secrets').selectAll().where('job_name', '=', jobName).where('kind', '=', kind);
    if (keys !== undefined) query = query.where('key', 'in', [...keys]);
    const rows = await query.orderBy('key').execute();
    return rows.map((row) => stored(row as Row));
  }

  /**
   * Deletes `jobName`/`key`, of `kind` only or of every kind.
   * @returns the kinds that were deleted (empty when there was nothing to delete).
   */
  async delete(jobName: string, key: string, kind?: SecretKind): Promise<SecretKind[]> {
    return this.db.transaction().execute(async (trx) => {
      let select = trx.selectFrom('secrets').select('kind').where('job_name', '=', jobName).where('key', '=', key);
      if (kind) select = select.where('kind', '=', kind);
      const kinds = (await select.execute()).map((row) => row.kind);
      if (kinds.length > 0) {
        await trx.deleteFrom('secrets').where('job_name', '=', jobName).where('key', '=', key).where('kind', 'in', kinds).execute();
      }
      return kinds;
    });
  }

  /** How many secrets are stored (all jobs). */
  async count(): Promise<number> {
    const row = await this.db.selectFrom('secrets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
