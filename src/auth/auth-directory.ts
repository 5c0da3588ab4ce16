/**
 * The in-memory permission cache every request is checked against: no database round trip on the
 * hot path. It holds a snapshot of identities, live token hashes, grants and approved public
 * endpoints. A change made by this process reloads it before the change is acknowledged
 * ({@link AuthDirectory.reload}); changes by other processes sharing the database are noticed by
 * polling the `auth_epoch` counter (every `pollMs`, default 250 ms), so they apply within 1 s.
 * Token last-use times are collected in memory and written every `flushMs` (default 30 s), so the
 * gateway never waits for a database write.
 */
import type { AuthSnapshot, IdentityRecord, IdentityRepository } from './identity-repository.js';
import { hashToken, type RequestCredential } from './tokens.js';
import { hasScopeOnJob, isAllowed, normaliseEndpoint, type JobResource, type PermissionGrant, type Scope } from './policy.js';
import type { Principal, PrincipalPermissions } from './request-auth.js';

interface CachedToken {
  id: string;
  identity: IdentityRecord;
  expiresAtMs: number | null;
  /** Results built once per snapshot, so the hot path allocates nothing. */
  viaHeader: AuthenticationResult;
  viaCookie: AuthenticationResult;
}

/** The outcome of authenticating a credential. */
export type AuthenticationResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'unknown' | 'expired' | 'disabled' };

const HASH_MEMO_LIMIT = 4096;

/** Permission cache with change propagation. */
export class AuthDirectory {
  private tokens = new Map<string, CachedToken>();
  private grantsByIdentity = new Map<string, PermissionGrant[]>();
  /** Approved public endpoints by `versionKey(job, version)`. */
  private publicEndpoints = new Map<string, Set<string>>();
  private permissionViews = new Map<string, PrincipalPermissions>();
  private epoch = '';
  /** token → SHA-256 hex, so a busy caller's token is hashed once. */
  private readonly hashes = new Map<string, string>();
  /** token id → last use (ms since the epoch), written by {@link flushLastUse}. */
  private readonly lastUsed = new Map<string, number>();
  private pollTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly repository: IdentityRepository,
    private readonly options: { pollMs?: number; flushMs?: number; now?: () => number; log?: (error: unknown) => void } = {},
  ) {}

  /** Loads the first snapshot and starts polling and last-use flushing. */
  async start(): Promise<void> {
    await this.reload();
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 250);
    this.flushTimer = setInterval(() => void this.flushLastUse(), this.options.flushMs ?? 30_000);
    this.pollTimer.unref();
    this.flushTimer.unref();
  }

  /** Stops timers and writes pending last-use times. */
  async stop(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flushLastUse();
  }

  /** Re-reads the snapshot now (call after every change this process makes). */
  async reload(): Promise<void> {
    const next = this.repository.snapshot().then((snapshot) => this.apply(snapshot));
    this.reloading = next;
    try {
      await next;
    } finally {
      if (this.reloading === next) this.reloading = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.reloading) return;
    try {
      const epoch = await this.repository.epoch();
      if (epoch !== this.epoch) await this.reload();
    } catch (error) {
      this.options.log?.(error);
    }
  }

  private apply(snapshot: AuthSnapshot): void {
    const identities = new Map(snapshot.identities.map((identity) => [identity.id, identity]));
    const tokens = new Map<string, CachedToken>();
    for (const token of snapshot.tokens) {
      const identity = identities.get(token.identityId);
      if (!identity) continue;
      const principal = (viaCookie: boolean): AuthenticationResult => ({
        ok: true,
        principal: { identityId: identity.id, kind: identity.kind, name: identity.name, tokenId: token.id, viaCookie },
      });
      tokens.set(token.hash, {
        id: token.id,
        identity,
        expiresAtMs: token.expiresAt ? Date.parse(token.expiresAt) : null,
        viaHeader: principal(false),
        viaCookie: principal(true),
      });
    }
    const grants = new Map<string, PermissionGrant[]>();
    for (const grant of snapshot.grants) {
      const list = grants.get(grant.identityId) ?? [];
      list.push(grant);
      grants.set(grant.identityId, list);
    }
    this.tokens = tokens;
    this.grantsByIdentity = grants;
    const publicEndpoints = new Map<string, Set<string>>();
    for (const e of snapshot.approvedPublicEndpoints) {
      const key = versionKey(e.jobName, e.jobVersion);
      const endpoints = publicEndpoints.get(key) ?? new Set<string>();
      endpoints.add(e.endpoint);
      publicEndpoints.set(key, endpoints);
    }
    this.publicEndpoints = publicEndpoints;
    this.permissionViews = new Map();
    this.epoch = snapshot.epoch;
  }

  private hash(token: string): string {
    let hash = this.hashes.get(token);
    if (hash === undefined) {
      hash = hashToken(token);
      if (this.hashes.size >= HASH_MEMO_LIMIT) this.hashes.clear();
      this.hashes.set(token, hash);
    }
    return hash;
  }

  /** Finds the identity behind a credential and notes the token's use. Never throws. */
  authenticate(credential: RequestCredential | undefined): AuthenticationResult {
    if (!credential) return { ok: false, reason: 'missing' };
    const entry = this.tokens.get(this.hash(credential.token));
    if (!entry) return { ok: false, reason: 'unknown' };
    const now = (this.options.now ?? Date.now)();
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= now) return { ok: false, reason: 'expired' };
    if (entry.identity.disabled) return { ok: false, reason: 'disabled' };
    this.lastUsed.set(entry.id, now);
    return credential.viaCookie ? entry.viaCookie : entry.viaHeader;
  }

  /** Permission checks for `identityId`, memoised per snapshot. */
  permissionsOf(identityId: string): PrincipalPermissions {
    let view = this.permissionViews.get(identityId);
    if (!view) {
      const grants = this.grantsByIdentity.get(identityId) ?? [];
      // Scopes granted on everything need no per-resource work; other answers are memoised in
      // nested maps scope → job → version → endpoint (no string building per call).
      const everywhere = new Set<Scope>(grants.filter((g) => g.jobName === null).map((g) => g.scope));
      const all = everywhere.has('admin');
      const decisions = new Map<Scope, Map<string, Map<string, Map<string, boolean>>>>();
      let memoised = 0;
      view = {
        can(scope: Scope, resource: JobResource = {}): boolean {
          if (all || everywhere.has(scope)) return true;
          const job = resource.job ?? '';
          const version = resource.version ?? '';
          const endpoint = resource.endpoint ?? '';
          let byJob = decisions.get(scope);
          if (!byJob) decisions.set(scope, (byJob = new Map()));
          let byVersion = byJob.get(job);
          if (!byVersion) byJob.set(job, (byVersion = new Map()));
          let byEndpoint = byVersion.get(version);
          if (!byEndpoint) byVersion.set(version, (byEndpoint = new Map()));
          let decision = byEndpoint.get(endpoint);
          if (decision === undefined) {
            decision = isAllowed(grants, scope, resource);
            if (memoised++ < 10_000) byEndpoint.set(endpoint, decision);
          }
          return decision;
        },
        canOnJob(scope: Scope, name: string): boolean {
          return hasScopeOnJob(grants, scope, name);
        },
      };
      this.permissionViews.set(identityId, view);
    }
    return view;
  }

  /** The grants of `identityId` in the cache. */
  grantsOf(identityId: string): readonly PermissionGrant[] {
    return this.grantsByIdentity.get(identityId) ?? [];
  }

  /** True when an admin approved `endpoint` of `jobName` `jobVersion` as public. */
  isPublicEndpoint(jobName: string, jobVersion: string, endpoint: string): boolean {
    if (this.publicEndpoints.size === 0) return false;
    const endpoints = this.publicEndpoints.get(versionKey(jobName, jobVersion));
    return endpoints !== undefined && endpoints.has(normaliseEndpoint(endpoint));
  }

  /** Writes collected last-use times. */
  async flushLastUse(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = new Map<string, string>();
    for (const [id, ms] of this.lastUsed) batch.set(id, new Date(ms).toISOString());
    this.lastUsed.clear();
    try {
      await this.repository.touchTokens(batch);
    } catch (error) {
      this.options.log?.(error);
    }
  }
}

function versionKey(jobName: string, jobVersion: string): string {
  return `${jobName}\u0000${jobVersion}`;
}
