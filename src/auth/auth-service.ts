/**
 * Identity and permission operations: bootstrap, login, tokens, users, service accounts, job
 * identities, grants and public-endpoint approvals. Each change is committed (with the auth epoch
 * bump) and audited, then the local permission cache reloads before the call returns, so the
 * change applies at once in this process and within 1 s in others.
 */
import { PitlaneError } from '../errors.js';
import type { AuditRecorder } from '../audit/index.js';
import type { AuthDirectory } from './auth-directory.js';
import { formatIdentityRef, parseIdentityRef, type IdentityRef } from './identity-ref.js';
import type { IdentityRecord, IdentityRepository, PublicEndpointRecord, TokenRecord } from './identity-repository.js';
import { validateNewPassword, type PasswordHasher } from './passwords.js';
import { isScope, normaliseEndpoint, type IdentityKind, type PermissionGrant, type Scope } from './policy.js';
import type { Principal } from './request-auth.js';
import { deriveJobToken, generateApiToken, tokenPrefix } from './tokens.js';

/** Who performs an action, for the audit log: a principal or `system`. */
export type Actor = Principal | 'system';

/** Context of an API call, recorded in the audit log. */
export interface CallContext {
  requestId?: string;
  ip?: string;
}

/** A token as listings show it (never the token itself). */
export interface TokenView {
  id: string;
  prefix: string;
  identity: string;
  kind: TokenRecord['kind'];
  description: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A freshly created token: the only time `token` is ever shown. */
export interface CreatedToken extends TokenView {
  token: string;
}

/** A grant as the API shows it. */
export interface GrantView {
  id: string;
  identity: string;
  scope: Scope;
  job: string | null;
  version: string | null;
  endpoint: string | null;
}

/** Dependencies of {@link AuthService}. */
export interface AuthServiceDependencies {
  repository: IdentityRepository;
  directory: AuthDirectory;
  audit: AuditRecorder;
  passwords: PasswordHasher;
  /** Key (>= 32 bytes) from which job identity tokens are derived (the secret key). */
  jobTokenKey: Buffer;
  /** Lifetime of a login session, in seconds. */
  sessionTtlS: number;
  /** Longest lifetime a created token may ask for, in seconds (0 = no limit). */
  maxTokenTtlS?: number;
  now?: () => number;
}

/** Scopes the deployer of a new job gets on it. */
const OWNER_SCOPES: Scope[] = ['read_job', 'deploy_job', 'delete_job', 'call_job'];


/** Formats the audit actor of `actor`. */
export function actorName(actor: Actor): string {
  return actor === 'system' ? 'system' : `${actor.kind}:${actor.name}`;
}

/** The identity and permission service. */
export class AuthService {
  private readonly now: () => number;
  /** A real hash of a random password, verified against when a user does not exist (equal timing). */
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthServiceDependencies) {
    this.now = deps.now ?? Date.now;
  }

  private async audit(actor: Actor, action: string, target: string, details: Record<string, unknown>, context: CallContext = {}): Promise<void> {
    await this.deps.audit.record({ actor: actorName(actor), action, target, details, requestId: context.requestId, ip: context.ip });
  }

  private expiry(expiresInS: number | undefined, path: string): string | null {
    if (expiresInS === undefined || expiresInS === null) {
      return this.deps.maxTokenTtlS ? new Date(this.now() + this.deps.maxTokenTtlS * 1000).toISOString() : null;
    }
    if (!Number.isInteger(expiresInS) || expiresInS < 60 || (this.deps.maxTokenTtlS && expiresInS > this.deps.maxTokenTtlS)) {
      throw new PitlaneError(400, 'TOKEN_INVALID', 'expires_in_s is out of range', [
        { path, message: `must be an integer number of seconds from 60${this.deps.maxTokenTtlS ? ` to ${this.deps.maxTokenTtlS}` : ''}` },
      ]);
    }
    return new Date(this.now() + expiresInS * 1000).toISOString();
  }

  /** The identity named by `ref`. @throws PitlaneError 404 `IDENTITY_NOT_FOUND`. */
  async resolveIdentity(ref: IdentityRef | string, path = 'identity'): Promise<IdentityRecord> {
    const parsed = typeof ref === 'string' ? parseIdentityRef(ref, path) : ref;
    const identity = await this.deps.repository.findIdentity(parsed.kind, parsed.name);
    if (!identity) throw new PitlaneError(404, 'IDENTITY_NOT_FOUND', `no ${parsed.kind.replace('_', ' ')} "${parsed.name}"`, [{ path, message: 'no such identity' }]);
    return identity;
  }

  private tokenView(token: TokenRecord, identity: IdentityRecord | undefined): TokenView {
    return {
      id: token.id,
      prefix: tokenPrefix(token.id),
      identity: identity ? formatIdentityRef(identity) : token.identityId,
      kind: token.kind,
      description: token.description,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      revoked_at: token.revokedAt,
      last_used_at: token.lastUsedAt,
    };
  }

  /** A grant's API view. */
  grantView(grant: PermissionGrant, identity: IdentityRecord | undefined): GrantView {
    return {
      id: grant.id,
      identity: identity ? formatIdentityRef(identity) : grant.identityId,
      scope: grant.scope,
      job: grant.jobName,
      version: grant.jobVersion,
      endpoint: grant.endpoint,
    };
  }

  /**
   * Makes the first-start admin token (the core's bootstrap token, stored as a hash) a token of the
   * `admin` user, which holds the `admin` scope. Idempotent; when the hash changes (a new
   * PITLANE_ADMIN_TOKEN) the previous bootstrap token is revoked. The admin user has no password.
   */
  async bootstrap(adminTokenHash: string): Promise<void> {
    const { repository } = this.deps;
    let created = false;
    await repository.mutate(async (trx) => {
      let admin = await repository.findIdentity('user', 'admin', trx);
      if (!admin) {
        admin = { ...(await repository.insertIdentity(trx, { kind: 'user', name: 'admin', passwordHash: null, createdBy: 'system' })), passwordHash: null };
        await repository.insertGrant(trx, { identityId: admin.id, scope: 'admin', jobName: null, jobVersion: null, endpoint: null }, 'system');
        created = true;
      }
      const existing = await repository.findTokenByHash(adminTokenHash, trx);
      if (existing) return;
      await repository.revokeTokens(trx, { identityId: admin.id, kind: 'bootstrap' });
      await repository.insertToken(trx, {
        id: generateApiToken().id,
        identityId: admin.id,
        hash: adminTokenHash,
        kind: 'bootstrap',
        description: 'first-start admin token',
        expiresAt: null,
      });
    });
    if (created) await this.audit('system', 'user.create', 'user:admin', { bootstrap: true });
    await this.deps.directory.reload();
  }

  /**
   * Checks a username and password and opens a session: a token of kind `session` that expires
   * after the session lifetime. Wrong username, wrong password, a disabled user and a user without
   * a password all get the same error.
   * @throws PitlaneError 401 `LOGIN_FAILED`.
   */
  async login(username: string, password: string, context: CallContext = {}): Promise<CreatedToken & { identity: string }> {
    const { repository, passwords } = this.deps;
    const user = typeof username === 'string' ? await repository.findIdentity('user', username) : undefined;
    this.dummyHash ??= passwords.hash(generateApiToken().token);
    const ok = await passwords.verify(user?.passwordHash ?? (await this.dummyHash), typeof password === 'string' ? password : '');
    if (!user || !user.passwordHash || !ok || user.disabled) {
      await this.deps.audit.record({ actor: `user:${String(username).slice(0, 64)}`, action: 'auth.login_failed', target: `user:${String(username).slice(0, 64)}`, requestId: context.requestId, ip: context.ip });
      throw new PitlaneError(401, 'LOGIN_FAILED', 'wrong username or password');
    }
    const generated = generateApiToken();
    const expiresAt = new Date(this.now() + this.deps.sessionTtlS * 1000).toISOString();
    const record = await repository.mutate((trx) =>
      repository.insertToken(trx, { id: generated.id, identityId: user.id, hash: generated.hash, kind: 'session', description: 'login session', expiresAt }),
    );
    await this.deps.directory.reload();
    await this.deps.audit.record({ actor: `user:${user.name}`, action: 'auth.login', target: `token:${generated.id}`, requestId: context.requestId, ip: context.ip });
    return { ...this.tokenView(record, user), token: generated.token };
  }

  /** Revokes the token `principal` used (log out). */
  async logout(principal: Principal, context: CallContext = {}): Promise<void> {
    await this.deps.repository.mutate((trx) => this.deps.repository.revokeTokens(trx, { id: principal.tokenId }));
    await this.deps.directory.reload();
    await this.audit(principal, 'auth.logout', `token:${principal.tokenId}`, {}, context);
  }

  /**
   * Creates an API token for `identity` (default: the actor). Only admins create tokens for others.
   * @throws PitlaneError 403 when a non-admin asks for someone else's token, 404 unknown identity,
   *   400 bad expiry, 409 `IDENTITY_DISABLED`.
   */
  async createToken(
    actor: Principal,
    isAdmin: boolean,
    input: { identity?: string; description?: string; expiresInS?: number },
    context: CallContext = {},
  ): Promise<CreatedToken> {
    const ref = input.identity ? parseIdentityRef(input.identity) : { kind: actor.kind, name: actor.name };
    // Decided before any lookup, so non-admins cannot probe which identities exist.
    if (!isAdmin && (ref.kind !== actor.kind || ref.name !== actor.name)) {
      throw new PitlaneError(403, 'FORBIDDEN', 'only admins create tokens for other identities');
    }
    const identity = await this.resolveIdentity(ref);
    if (identity.kind === 'job') throw new PitlaneError(400, 'IDENTITY_INVALID', 'job identities get their token from Pitlane (AUTH_TOKEN)', [{ path: 'identity', message: 'not a user or service account' }]);
    if (identity.disabled) throw new PitlaneError(409, 'IDENTITY_DISABLED', `${formatIdentityRef(identity)} is disabled`);
    const description = (input.description ?? '').slice(0, 200);
    const expiresAt = this.expiry(input.expiresInS, 'expires_in_s');
    const generated = generateApiToken();
    const record = await this.deps.repository.mutate((trx) =>
      this.deps.repository.insertToken(trx, { id: generated.id, identityId: identity.id, hash: generated.hash, kind: 'api', description, expiresAt }),
    );
    await this.deps.directory.reload();
    await this.audit(actor, 'token.create', `token:${generated.id}`, { identity: formatIdentityRef(identity), expires_at: expiresAt }, context);
    return { ...this.tokenView(record, identity), token: generated.token };
  }

  /** Tokens of one identity (or of every identity when `identity` is undefined and the caller is admin). */
  async listTokens(identity: IdentityRecord | undefined): Promise<TokenView[]> {
    const tokens = await this.deps.repository.listTokens(identity?.id);
    const identities = new Map<string, IdentityRecord>();
    for (const token of tokens) {
      if (!identities.has(token.identityId)) {
        const found = identity?.id === token.identityId ? identity : await this.deps.repository.getIdentity(token.identityId);
        if (found) identities.set(token.identityId, found);
      }
    }
    return tokens.map((token) => this.tokenView(token, identities.get(token.identityId)));
  }

  /**
   * Revokes token `tokenId`. Non-admins may revoke only their own identity's tokens.
   * @throws PitlaneError 404 `TOKEN_NOT_FOUND` (also for another identity's token when not admin).
   */
  async revokeToken(actor: Principal, isAdmin: boolean, tokenId: string, context: CallContext = {}): Promise<TokenView> {
    const token = await this.deps.repository.getToken(tokenId);
    if (!token || (!isAdmin && token.identityId !== actor.identityId)) {
      throw new PitlaneError(404, 'TOKEN_NOT_FOUND', `no token "${tokenId}"`, [{ path: 'id', message: 'no such token of yours' }]);
    }
    await this.deps.repository.mutate((trx) => this.deps.repository.revokeTokens(trx, { id: tokenId }));
    await this.deps.directory.reload();
    await this.audit(actor, 'token.revoke', `token:${tokenId}`, {}, context);
    const after = await this.deps.repository.getToken(tokenId);
    return this.tokenView(after ?? token, await this.deps.repository.getIdentity(token.identityId));
  }

  /**
   * Creates a user (with a password) or a service account (without).
   * @throws PitlaneError 400 bad name or password, 409 `IDENTITY_EXISTS`.
   */
  async createIdentity(actor: Actor, kind: 'user' | 'service_account', name: string, password: string | undefined, context: CallContext = {}): Promise<IdentityRecord> {
    const ref = parseIdentityRef(`${kind}:${typeof name === 'string' ? name : ''}`, 'name');
    const passwordHash = kind === 'user' && password !== undefined ? await this.deps.passwords.hash(validateNewPassword(password)) : null;
    if (kind === 'user' && password === undefined) validateNewPassword(password);
    const { repository } = this.deps;
    const identity = await repository.mutate(async (trx) => {
      if (await repository.findIdentity(ref.kind, ref.name, trx)) {
        throw new PitlaneError(409, 'IDENTITY_EXISTS', `${formatIdentityRef(ref)} already exists`, [{ path: 'name', message: 'already taken' }]);
      }
      return repository.insertIdentity(trx, { kind: ref.kind, name: ref.name, passwordHash, createdBy: actorName(actor) });
    });
    await this.deps.directory.reload();
    await this.audit(actor, `${kind}.create`, formatIdentityRef(identity), {}, context);
    return identity;
  }

  /** Identities of `kind`. */
  listIdentities(kind: IdentityKind): Promise<IdentityRecord[]> {
    return this.deps.repository.listIdentities(kind);
  }

  /**
   * Disables or enables an identity; a disabled identity's tokens stop working at once.
   * @throws PitlaneError 404, 409 when an admin tries to disable themselves.
   */
  async setDisabled(actor: Principal, ref: string, disabled: boolean, context: CallContext = {}): Promise<IdentityRecord> {
    const identity = await this.resolveIdentity(ref, 'name');
    if (disabled && identity.id === actor.identityId) throw new PitlaneError(409, 'IDENTITY_SELF', 'you cannot disable yourself');
    await this.deps.repository.mutate((trx) => this.deps.repository.setDisabled(trx, identity.id, disabled));
    await this.deps.directory.reload();
    await this.audit(actor, `${identity.kind}.${disabled ? 'disable' : 'enable'}`, formatIdentityRef(identity), {}, context);
    return { ...identity, disabled };
  }

  /**
   * Sets a user's password (the user themselves or an admin). Sessions of the user are revoked.
   * @throws PitlaneError 400 bad password or not a user, 404 unknown user.
   */
  async setPassword(actor: Principal, username: string, password: string, context: CallContext = {}): Promise<void> {
    const identity = await this.resolveIdentity({ kind: 'user', name: username }, 'name');
    const hash = await this.deps.passwords.hash(validateNewPassword(password));
    await this.deps.repository.mutate(async (trx) => {
      await this.deps.repository.setPasswordHash(trx, identity.id, hash);
      await this.deps.repository.revokeTokens(trx, { identityId: identity.id, kind: 'session' });
    });
    await this.deps.directory.reload();
    await this.audit(actor, 'user.password', formatIdentityRef(identity), {}, context);
  }

  /**
   * Validates a grant's target: `version` and `endpoint` need `job`; endpoint paths are normalised.
   * @throws PitlaneError 400 naming the field.
   */
  static grantTarget(input: { scope: unknown; job?: string | null; version?: string | null; endpoint?: string | null }): {
    scope: Scope;
    jobName: string | null;
    jobVersion: string | null;
    endpoint: string | null;
  } {
    if (!isScope(input.scope)) {
      throw new PitlaneError(400, 'GRANT_INVALID', `unknown scope "${String(input.scope)}"`, [
        { path: 'scope', message: 'must be one of read_job, deploy_job, delete_job, call_job, run, admin' },
      ]);
    }
    const job = input.job ?? null;
    const version = input.version ?? null;
    const endpoint = input.endpoint ?? null;
    if (job !== null && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(job)) {
      throw new PitlaneError(400, 'GRANT_INVALID', `"${job}" is not a job name`, [{ path: 'job', message: 'must be a DNS-1123 label' }]);
    }
    if (version !== null && (job === null || !/^[0-9A-Za-z.+-]{1,64}$/.test(version))) {
      throw new PitlaneError(400, 'GRANT_INVALID', 'a version grant needs a job and an exact version', [{ path: 'version', message: 'needs job, and must be an exact version' }]);
    }
    if (endpoint !== null && (job === null || !/^\/[\x21-\x7e]{0,500}$/.test(endpoint) || endpoint.includes('?'))) {
      throw new PitlaneError(400, 'GRANT_INVALID', 'an endpoint grant needs a job and a path starting with /', [{ path: 'endpoint', message: 'needs job, and must be a path like /api/v1/perform' }]);
    }
    if (input.scope === 'admin' && job !== null) {
      throw new PitlaneError(400, 'GRANT_INVALID', 'admin is granted on everything only', [{ path: 'job', message: 'omit job for the admin scope' }]);
    }
    return { scope: input.scope, jobName: job, jobVersion: version, endpoint: endpoint === null ? null : normaliseEndpoint(endpoint) };
  }

  /**
   * Grants `scope` to `identity` on everything, a job, a version or an endpoint.
   * @throws PitlaneError 400 bad grant, 404 unknown identity.
   */
  async grant(
    actor: Actor,
    identityRef: string,
    input: { scope: unknown; job?: string | null; version?: string | null; endpoint?: string | null },
    context: CallContext = {},
  ): Promise<{ grant: GrantView; created: boolean }> {
    const target = AuthService.grantTarget(input);
    const identity = await this.resolveIdentity(identityRef);
    const result = await this.deps.repository.mutate((trx) => this.deps.repository.insertGrant(trx, { identityId: identity.id, ...target }, actorName(actor)));
    await this.deps.directory.reload();
    if (result.created) await this.audit(actor, 'permission.grant', formatIdentityRef(identity), { ...this.grantView(result.grant, identity) }, context);
    return { grant: this.grantView(result.grant, identity), created: result.created };
  }

  /**
   * Revokes grants of `identity` that exactly match scope and target (or one grant by id).
   * @returns the grants removed (empty when none matched).
   */
  async revoke(
    actor: Actor,
    selector: { id: string } | { identity: string; scope: unknown; job?: string | null; version?: string | null; endpoint?: string | null },
    context: CallContext = {},
  ): Promise<GrantView[]> {
    const all = await this.deps.repository.listGrants();
    let matched: PermissionGrant[];
    let identity: IdentityRecord | undefined;
    if ('id' in selector) {
      matched = all.filter((grant) => grant.id === selector.id);
      identity = matched[0] ? await this.deps.repository.getIdentity(matched[0].identityId) : undefined;
    } else {
      const target = AuthService.grantTarget(selector);
      identity = await this.resolveIdentity(selector.identity);
      matched = all.filter(
        (grant) =>
          grant.identityId === identity!.id &&
          grant.scope === target.scope &&
          grant.jobName === target.jobName &&
          grant.jobVersion === target.jobVersion &&
          grant.endpoint === target.endpoint,
      );
    }
    if (matched.length === 0) return [];
    await this.deps.repository.mutate((trx) => this.deps.repository.deleteGrants(trx, matched.map((grant) => grant.id)));
    await this.deps.directory.reload();
    const views = matched.map((grant) => this.grantView(grant, identity));
    for (const view of views) await this.audit(actor, 'permission.revoke', view.identity, { ...view }, context);
    return views;
  }

  /** Grants, optionally of one identity, as views. */
  async listGrants(identity?: IdentityRecord): Promise<GrantView[]> {
    const grants = await this.deps.repository.listGrants(identity?.id);
    const identities = new Map<string, IdentityRecord | undefined>();
    const views: GrantView[] = [];
    for (const grant of grants) {
      if (!identities.has(grant.identityId)) identities.set(grant.identityId, identity?.id === grant.identityId ? identity : await this.deps.repository.getIdentity(grant.identityId));
      views.push(this.grantView(grant, identities.get(grant.identityId)));
    }
    return views;
  }

  /**
   * Called when `principal` deploys job `jobName`: when nobody deployed that name before, the
   * deployer gets read, deploy, delete and call rights on the job (all versions). Also records the
   * manifest's `public_endpoints` as requests awaiting an admin's approval.
   */
  async onDeploy(principal: Principal, jobName: string, jobVersion: string, publicEndpoints: string[], isNewJob: boolean, context: CallContext = {}): Promise<void> {
    const { repository } = this.deps;
    if (!isNewJob && publicEndpoints.length === 0) return;
    const grants: PermissionGrant[] = [];
    await repository.mutate(async (trx) => {
      if (isNewJob && principal.kind !== 'job') {
        for (const scope of OWNER_SCOPES) {
          const { grant, created } = await repository.insertGrant(trx, { identityId: principal.identityId, scope, jobName, jobVersion: null, endpoint: null }, 'system');
          if (created) grants.push(grant);
        }
      }
      await repository.requestPublicEndpoints(trx, jobName, jobVersion, publicEndpoints.map((endpoint) => normaliseEndpoint(endpoint)));
    });
    await this.deps.directory.reload();
    for (const grant of grants) await this.audit('system', 'permission.grant', `${principal.kind}:${principal.name}`, { ...this.grantView(grant, undefined), identity: `${principal.kind}:${principal.name}`, reason: 'deployer of a new job' }, context);
  }

  /** True when job `name` was ever deployed (or is being deployed) here: a deploy of it is not "new". */
  isJobKnown(name: string): Promise<boolean> {
    return this.deps.repository.jobIsKnown(name);
  }

  /** Audits an action done elsewhere (deploys, deletes, secrets) under `actor`. */
  async recordAction(actor: Actor, action: string, target: string, details: Record<string, unknown>, context: CallContext = {}): Promise<void> {
    await this.audit(actor, action, target, details, context);
  }

  /** Public endpoint requests (and approvals), optionally of one job. */
  listPublicEndpoints(jobName?: string): Promise<PublicEndpointRecord[]> {
    return this.deps.repository.listPublicEndpoints(jobName);
  }

  /**
   * Approves (or withdraws approval of) a requested public endpoint.
   * @throws PitlaneError 404 `PUBLIC_ENDPOINT_NOT_FOUND` when the manifest never requested it.
   */
  async approvePublicEndpoint(actor: Principal, key: { jobName: string; jobVersion: string; endpoint: string }, approve: boolean, context: CallContext = {}): Promise<void> {
    const endpoint = normaliseEndpoint(key.endpoint);
    const updated = await this.deps.repository.mutate((trx) =>
      this.deps.repository.setPublicEndpointApproval(trx, { ...key, endpoint }, approve ? actorName(actor) : null),
    );
    if (!updated) {
      throw new PitlaneError(404, 'PUBLIC_ENDPOINT_NOT_FOUND', `job "${key.jobName}" ${key.jobVersion} did not declare ${endpoint} public`, [
        { path: 'endpoint', message: 'not among the manifest public_endpoints of that version' },
      ]);
    }
    await this.deps.directory.reload();
    await this.audit(actor, approve ? 'public_endpoint.approve' : 'public_endpoint.withdraw', `job:${key.jobName}@${key.jobVersion}`, { endpoint }, context);
  }

  /**
   * The token of job identity `NAME@VERSION` (created on first use), to inject as `AUTH_TOKEN`.
   * The token is derived from the secret key, so it is never stored; only its hash is.
   */
  async jobIdentityToken(jobName: string, jobVersion: string): Promise<string> {
    const { repository } = this.deps;
    const name = `${jobName}@${jobVersion}`;
    let identity = await repository.findIdentity('job', name);
    if (!identity) {
      identity = await repository.mutate(async (trx) => {
        const again = await repository.findIdentity('job', name, trx);
        if (again) return again;
        return { ...(await repository.insertIdentity(trx, { kind: 'job', name, passwordHash: null, createdBy: 'system' })), passwordHash: null };
      });
    }
    const derived = deriveJobToken(this.deps.jobTokenKey, jobName, jobVersion, identity.tokenGeneration);
    const existing = await repository.findTokenByHash(derived.hash);
    if (!existing || existing.revokedAt !== null || identity.disabled) {
      const identityId = identity.id;
      await repository.mutate(async (trx) => {
        await repository.setDisabled(trx, identityId, false);
        if (!(await repository.findTokenByHash(derived.hash, trx))) {
          await repository.insertToken(trx, { id: derived.id, identityId, hash: derived.hash, kind: 'job', description: `identity of job ${name}`, expiresAt: null });
        } else {
          await trx.updateTable('api_tokens').set({ revoked_at: null }).where('token_hash', '=', derived.hash).execute();
        }
      });
      await this.deps.directory.reload();
    }
    return derived.token;
  }

  /** Disables the identity of a deleted job version and revokes its token. */
  async removeJobIdentity(jobName: string, jobVersion: string): Promise<void> {
    const { repository } = this.deps;
    const identity = await repository.findIdentity('job', `${jobName}@${jobVersion}`);
    await repository.mutate(async (trx) => {
      if (identity) {
        await repository.setDisabled(trx, identity.id, true);
        await repository.revokeTokens(trx, { identityId: identity.id });
      }
      await repository.deletePublicEndpoints(trx, jobName, jobVersion);
    });
    await this.deps.directory.reload();
  }
}
