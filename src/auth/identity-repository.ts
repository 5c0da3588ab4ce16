/**
 * SQL storage of identities, API tokens, permission grants and public-endpoint approvals
 * (migration 0004). Every change bumps the `auth_epoch` setting in the same transaction, which
 * other Pitlane processes sharing the database poll to reload their permission caches.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { PitlaneDatabase } from '../store/database.js';
import type { DatabaseSchema } from '../store/schema.js';
import type { IdentityKind, PermissionGrant, Scope } from './policy.js';

/** Settings key of the auth epoch counter. */
export const AUTH_EPOCH_KEY = 'auth_epoch';

/** One identity as stored. Times are ISO 8601 UTC. */
export interface IdentityRecord {
  id: string;
  kind: IdentityKind;
  name: string;
  hasPassword: boolean;
  disabled: boolean;
  tokenGeneration: number;
  createdAt: string;
  createdBy: string;
}

/** One token's metadata (never the token). */
export interface TokenRecord {
  id: string;
  identityId: string;
  kind: 'api' | 'session' | 'job' | 'bootstrap';
  description: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** One public endpoint request. */
export interface PublicEndpointRecord {
  jobName: string;
  jobVersion: string;
  endpoint: string;
  requestedAt: string;
  approvedAt: string | null;
  approvedBy: string | null;
}

/** Everything the in-memory permission cache needs, read in one go. */
export interface AuthSnapshot {
  epoch: string;
  identities: IdentityRecord[];
  /** Tokens not revoked (expired ones included: expiry is checked at use). */
  tokens: Array<{ id: string; identityId: string; hash: string; expiresAt: string | null }>;
  grants: PermissionGrant[];
  approvedPublicEndpoints: Array<{ jobName: string; jobVersion: string; endpoint: string }>;
}

type Db = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

function toIdentity(row: DatabaseSchema['identities']): IdentityRecord {
  return {
    id: row.id,
    kind: row.kind as IdentityKind,
    name: row.name,
    hasPassword: row.password_hash !== null,
    disabled: row.disabled === 1,
    tokenGeneration: Number(row.token_generation),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toToken(row: DatabaseSchema['api_tokens']): TokenRecord {
  return {
    id: row.id,
    identityId: row.identity_id,
    kind: row.kind as TokenRecord['kind'],
    description: row.description,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

function toGrant(row: DatabaseSchema['permissions']): PermissionGrant {
  return {
    id: row.id,
    identityId: row.identity_id,
    scope: row.scope as Scope,
    jobName: row.job_name,
    jobVersion: row.job_version,
    endpoint: row.endpoint,
  };
}

/** Storage of identities, tokens, grants and public endpoints. */
export class IdentityRepository {
  constructor(
    private readonly db: PitlaneDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Runs `change` in a transaction that also bumps the auth epoch (durable on return). */
  async mutate<T>(change: (db: Transaction<DatabaseSchema>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const result = await change(trx);
      const current = await trx.selectFrom('settings').select('value').where('key', '=', AUTH_EPOCH_KEY).executeTakeFirst();
      const next = String(Number(current?.value ?? '0') + 1);
      await trx
        .insertInto('settings')
        .values({ key: AUTH_EPOCH_KEY, value: next })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: next }))
        .execute();
      return result;
    });
  }

  /** The current auth epoch (a counter, as text; `0` before any change). */
  async epoch(): Promise<string> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', AUTH_EPOCH_KEY).executeTakeFirst();
    return row?.value ?? '0';
  }

  /** Reads everything the permission cache holds. */
  async snapshot(): Promise<AuthSnapshot> {
    return this.db.transaction().execute(async (trx) => {
      const epochRow = await trx.selectFrom('settings').select('value').where('key', '=', AUTH_EPOCH_KEY).executeTakeFirst();
      const identities = (await trx.selectFrom('identities').selectAll().execute()).map(toIdentity);
      const tokens = await trx
        .selectFrom('api_tokens')
        .select(['id', 'identity_id', 'token_hash', 'expires_at'])
        .where('revoked_at', 'is', null)
        .execute();
      const grants = (await trx.selectFrom('permissions').selectAll().execute()).map(toGrant);
      const endpoints = await trx
        .selectFrom('public_endpoints')
        .select(['job_name', 'job_version', 'endpoint'])
        .where('approved_at', 'is not', null)
        .execute();
      return {
        epoch: epochRow?.value ?? '0',
        identities,
        tokens: tokens.map((t) => ({ id: t.id, identityId: t.identity_id, hash: t.token_hash, expiresAt: t.expires_at })),
        grants,
        approvedPublicEndpoints: endpoints.map((e) => ({ jobName: e.job_name, jobVersion: e.job_version, endpoint: e.endpoint })),
      };
    });
  }

  // ---- identities ----

  /** The identity of `kind` named `name`, or undefined. */
  async findIdentity(kind: IdentityKind, name: string, db: Db = this.db): Promise<(IdentityRecord & { passwordHash: string | null }) | undefined> {
    const row = await db.selectFrom('identities').selectAll().where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
    return row ? { ...toIdentity(row), passwordHash: row.password_hash } : undefined;
  }

  /** The identity with `id`, or undefined. */
  async getIdentity(id: string): Promise<IdentityRecord | undefined> {
    const row = await this.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toIdentity(row) : undefined;
  }

  /** Every identity of `kind`, by name. */
  async listIdentities(kind: IdentityKind): Promise<IdentityRecord[]> {
    return (await this.db.selectFrom('identities').selectAll().where('kind', '=', kind).orderBy('name').execute()).map(toIdentity);
  }

  /** Inserts an identity. The caller checks uniqueness first (the unique constraint backs it up). */
  async insertIdentity(db: Db, input: { kind: IdentityKind; name: string; passwordHash: string | null; createdBy: string }): Promise<IdentityRecord> {
    const row = {
      id: randomUUID(),
      kind: input.kind,
      name: input.name,
      password_hash: input.passwordHash,
      disabled: 0,
      token_generation: 1,
      created_at: this.iso(),
      created_by: input.createdBy,
    };
    await db.insertInto('identities').values(row).execute();
    return toIdentity(row);
  }

  /** Sets the disabled flag. */
  async setDisabled(db: Db, id: string, disabled: boolean): Promise<void> {
    await db.updateTable('identities').set({ disabled: disabled ? 1 : 0 }).where('id', '=', id).execute();
  }

  /** Replaces a user's password hash. */
  async setPasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
    await db.updateTable('identities').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  // ---- tokens ----

  /** Stores a token's hash and metadata. */
  async insertToken(
    db: Db,
    input: { id: string; identityId: string; hash: string; kind: TokenRecord['kind']; description: string; expiresAt: string | null },
  ): Promise<TokenRecord> {
    const row = {
      id: input.id,
      identity_id: input.identityId,
      token_hash: input.hash,
      kind: input.kind,
      description: input.description,
      created_at: this.iso(),
      expires_at: input.expiresAt,
      revoked_at: null,
      last_used_at: null,
    };
    await db.insertInto('api_tokens').values(row).execute();
    return toToken(row);
  }

  /** The token with `id` (metadata), or undefined. */
  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  /** The token whose hash is `hash`, or undefined. */
  async findTokenByHash(hash: string, db: Db = this.db): Promise<TokenRecord | undefined> {
    const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  /** Tokens of `identityId` (or of everyone), newest first; sessions and revoked ones included. */
  async listTokens(identityId?: string): Promise<TokenRecord[]> {
    let query = this.db.selectFrom('api_tokens').selectAll();
    if (identityId) query = query.where('identity_id', '=', identityId);
    return (await query.orderBy('created_at', 'desc').execute()).map(toToken);
  }

  /** Marks tokens revoked: one by id, or every live token of an identity (optionally of one kind). */
  async revokeTokens(db: Db, where: { id: string } | { identityId: string; kind?: TokenRecord['kind'] }): Promise<number> {
    let query = db.updateTable('api_tokens').set({ revoked_at: this.iso() }).where('revoked_at', 'is', null);
    query = 'id' in where ? query.where('id', '=', where.id) : query.where('identity_id', '=', where.identityId);
    if ('kind' in where && where.kind) query = query.where('kind', '=', where.kind);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Records last use times (no epoch bump: last use does not change permissions). */
  async touchTokens(lastUsed: Map<string, string>): Promise<void> {
    if (lastUsed.size === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const [id, time] of lastUsed) await trx.updateTable('api_tokens').set({ last_used_at: time }).where('id', '=', id).execute();
    });
  }

  // ---- permissions ----

  /** Grants of `identityId` (or everyone's). */
  async listGrants(identityId?: string): Promise<Array<PermissionGrant & { createdAt: string; createdBy: string }>> {
    let query = this.db.selectFrom('permissions').selectAll();
    if (identityId) query = query.where('identity_id', '=', identityId);
    const rows = await query.orderBy('created_at').execute();
    return rows.map((row) => ({ ...toGrant(row), createdAt: row.created_at, createdBy: row.created_by }));
  }

  /** Inserts a grant unless an identical one exists; returns the (new or existing) grant. */
  async insertGrant(db: Db, grant: Omit<PermissionGrant, 'id'>, createdBy: string): Promise<{ grant: PermissionGrant; created: boolean }> {
    const existing = await db
      .selectFrom('permissions')
      .selectAll()
      .where('identity_id', '=', grant.identityId)
      .where('scope', '=', grant.scope)
      .where((eb) => (grant.jobName === null ? eb('job_name', 'is', null) : eb('job_name', '=', grant.jobName)))
      .where((eb) => (grant.jobVersion === null ? eb('job_version', 'is', null) : eb('job_version', '=', grant.jobVersion)))
      .where((eb) => (grant.endpoint === null ? eb('endpoint', 'is', null) : eb('endpoint', '=', grant.endpoint)))
      .executeTakeFirst();
    if (existing) return { grant: toGrant(existing), created: false };
    const row = {
      id: randomUUID(),
      identity_id: grant.identityId,
      scope: grant.scope,
      job_name: grant.jobName,
      job_version: grant.jobVersion,
      endpoint: grant.endpoint,
      created_at: this.iso(),
      created_by: createdBy,
    };
    await db.insertInto('permissions').values(row).execute();
    return { grant: toGrant(row), created: true };
  }

  /** Deletes grants by id; returns how many went. */
  async deleteGrants(db: Db, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await db.deleteFrom('permissions').where('id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** True when any grant or deployment mentions job `name` (so a deploy of it is not "new"). */
  async jobIsKnown(name: string): Promise<boolean> {
    const deployment = await this.db.selectFrom('deployments').select('id').where('job_name', '=', name).limit(1).executeTakeFirst();
    if (deployment) return true;
    const job = await this.db.selectFrom('jobs').select('name').where('name', '=', name).limit(1).executeTakeFirst();
    return job !== undefined;
  }

  // ---- public endpoints ----

  /** Records endpoints a manifest declares public (not approved); existing rows keep their approval. */
  async requestPublicEndpoints(db: Db, jobName: string, jobVersion: string, endpoints: string[]): Promise<void> {
    for (const endpoint of endpoints) {
      await db
        .insertInto('public_endpoints')
        .values({ job_name: jobName, job_version: jobVersion, endpoint, requested_at: this.iso(), approved_at: null, approved_by: null })
        .onConflict((oc) => oc.columns(['job_name', 'job_version', 'endpoint']).doNothing())
        .execute();
    }
  }

  /** Sets or clears the approval of one public endpoint; returns false when it was never requested. */
  async setPublicEndpointApproval(db: Db, key: { jobName: string; jobVersion: string; endpoint: string }, approvedBy: string | null): Promise<boolean> {
    const result = await db
      .updateTable('public_endpoints')
      .set({ approved_at: approvedBy ? this.iso() : null, approved_by: approvedBy })
      .where('job_name', '=', key.jobName)
      .where('job_version', '=', key.jobVersion)
      .where('endpoint', '=', key.endpoint)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Public endpoint requests, optionally of one job. */
  async listPublicEndpoints(jobName?: string): Promise<PublicEndpointRecord[]> {
    let query = this.db.selectFrom('public_endpoints').selectAll();
    if (jobName) query = query.where('job_name', '=', jobName);
    const rows = await query.orderBy('job_name').orderBy('job_version').orderBy('endpoint').execute();
    return rows.map((row) => ({
      jobName: row.job_name,
      jobVersion: row.job_version,
      endpoint: row.endpoint,
      requestedAt: row.requested_at,
      approvedAt: row.approved_at,
      approvedBy: row.approved_by,
    }));
  }

  /** Removes public endpoint rows of a deleted job version. */
  async deletePublicEndpoints(db: Db, jobName: string, jobVersion: string): Promise<void> {
    await db.deleteFrom('public_endpoints').where('job_name', '=', jobName).where('job_version', '=', jobVersion).execute();
  }
}
