/**
 * How API routes declare and check authorisation.
 *
 * Every fastify route declares `config: { auth: RouteAuth }`:
 * - `{ public: true }`: no token needed (health, login, the wheel index);
 * - `{ authenticated: true }`: any valid identity (who am I, log out, my own tokens);
 * - `{ scope: 'deploy_job' }`: the caller must hold that scope on something (else 403) before the
 *   handler runs; the handler then checks the exact job with {@link requireScope}.
 * A route without `config.auth` is treated as `{ scope: 'admin' }` (closed by default).
 * The declaration is also published in the OpenAPI document as `x-pitlane-auth`.
 */
import type { FastifyRequest } from 'fastify';
import { PitlaneError } from '../errors.js';
import type { IdentityKind, JobResource, Scope } from './policy.js';

/** A route's authorisation rule. */
export type RouteAuth = { public: true } | { authenticated: true } | { scope: Scope };

/** The authenticated caller of a request. */
export interface Principal {
  identityId: string;
  kind: IdentityKind;
  /** The identity's name: username, service account name, or `NAME@VERSION` for job identities. */
  name: string;
  /** Id of the token (or session) used, so logout can revoke it. */
  tokenId: string;
  /** True when the token came from the session cookie rather than a header. */
  viaCookie: boolean;
}

/** Answers permission questions for one principal (from the in-memory permission cache). */
export interface PrincipalPermissions {
  /** True when the principal may `scope` on `resource`. */
  can(scope: Scope, resource?: JobResource): boolean;
  /** True when the principal holds `scope` somewhere on job `name` (any version or endpoint). */
  canOnJob(scope: Scope, name: string): boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; undefined on public routes called anonymously. */
    principal: Principal | undefined;
    /** Permission checks for `principal` (denies everything when anonymous). */
    permissions: PrincipalPermissions;
  }
  interface FastifyContextConfig {
    /** The route's authorisation rule (see src/auth/request-auth.ts). */
    auth?: RouteAuth;
  }
}

/** Permissions of nobody: every check is false. */
export const NO_PERMISSIONS: PrincipalPermissions = { can: () => false, canOnJob: () => false };

/** A short human description of a resource for error messages, e.g. `job "adder" 1.0.0`. */
export function describeResource(resource: JobResource | undefined): string {
  if (!resource?.job) return 'everything';
  return `job "${resource.job}"${resource.version ? ` ${resource.version}` : ''}${resource.endpoint ? ` endpoint ${resource.endpoint}` : ''}`;
}

/**
 * Asserts the request's caller may `scope` on `resource` and returns the caller.
 * @throws PitlaneError 401 `UNAUTHENTICATED` when anonymous, 403 `FORBIDDEN` when the scope is missing.
 */
export function requireScope(request: FastifyRequest, scope: Scope, resource?: JobResource): Principal {
  const principal = request.principal;
  if (!principal) throw new PitlaneError(401, 'UNAUTHENTICATED', 'a valid token is required (Authorization: Bearer <token>, X-Racetrack-Auth or the session cookie)');
  if (!request.permissions.can(scope, resource)) {
    throw new PitlaneError(403, 'FORBIDDEN', `${principal.kind} "${principal.name}" lacks scope ${scope} on ${describeResource(resource)}`);
  }
  return principal;
}

/**
 * Asserts the request is authenticated and returns the caller.
 * @throws PitlaneError 401 `UNAUTHENTICATED`.
 */
export function requirePrincipal(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) throw new PitlaneError(401, 'UNAUTHENTICATED', 'a valid token is required (Authorization: Bearer <token>, X-Racetrack-Auth or the session cookie)');
  return principal;
}
