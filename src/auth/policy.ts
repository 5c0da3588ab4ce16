/**
 * Pitlane's permission model, as pure functions (no I/O): "IDENTITY can SCOPE on RESOURCE".
 * Racetrack's rule (research/racetrack.md section 6): a grant's job, version and endpoint filters
 * narrow it, and a filter left empty means "all", including jobs deployed later; `admin` matches
 * every scope. With no grants an identity can do nothing.
 */

/** Every scope, in the order the CLI lists them. */
export const SCOPES = ['read_job', 'deploy_job', 'delete_job', 'call_job', 'run', 'admin'] as const;
/** A scope: what a grant allows. */
export type Scope = (typeof SCOPES)[number];

/** True when `value` is a scope name. */
export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** The kinds of identity. `job` identities belong to one job version and call other jobs. */
export type IdentityKind = 'user' | 'service_account' | 'job';

/** One permission grant. `null` filters mean "every". */
export interface PermissionGrant {
  id: string;
  identityId: string;
  scope: Scope;
  /** Job name the grant is limited to, or null for every job. */
  jobName: string | null;
  /** Exact version the grant is limited to (needs `jobName`), or null for every version. */
  jobVersion: string | null;
  /** Endpoint path of the job (e.g. `/api/v1/perform`; needs `jobName`), or null for every endpoint. */
  endpoint: string | null;
}

/** What an action touches. Missing fields mean the question is not about one job/version/endpoint. */
export interface JobResource {
  job?: string;
  version?: string;
  endpoint?: string;
}

/** `/api/v1/perform/` → `/api/v1/perform`; always one leading slash, no trailing slash, no query. */
export function normaliseEndpoint(path: string): string {
  // Already normal (the gateway's every call): one leading slash, no trailing slash, no query.
  if (path.charCodeAt(0) === 47 && path.charCodeAt(path.length - 1) !== 47 && !path.includes('?')) return path;
  const withoutQuery = path.split('?')[0] ?? '';
  const trimmed = withoutQuery.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed || '/' : `/${trimmed}`;
}

/**
 * True when `grant` allows `scope` on `resource`. A grant narrowed to a job only covers
 * questions about that job: a resource without `job` is covered only by an unnarrowed grant.
 */
export function grantCovers(grant: PermissionGrant, scope: Scope, resource: JobResource): boolean {
  if (grant.scope !== 'admin' && grant.scope !== scope) return false;
  if (grant.jobName !== null && grant.jobName !== resource.job) return false;
  if (grant.jobVersion !== null && grant.jobVersion !== resource.version) return false;
  if (grant.endpoint !== null && (resource.endpoint === undefined || normaliseEndpoint(resource.endpoint) !== grant.endpoint)) return false;
  return true;
}

/** True when any of `grants` allows `scope` on `resource`. */
export function isAllowed(grants: readonly PermissionGrant[], scope: Scope, resource: JobResource): boolean {
  return grants.some((grant) => grantCovers(grant, scope, resource));
}

/** True when some grant gives `scope` (or `admin`) on anything at all: the route-level gate. */
export function hasScopeAnywhere(grants: readonly PermissionGrant[], scope: Scope): boolean {
  return grants.some((grant) => grant.scope === scope || grant.scope === 'admin');
}

/** True when a grant gives `scope` somewhere on job `name` (any version or endpoint), or everywhere. */
export function hasScopeOnJob(grants: readonly PermissionGrant[], scope: Scope, name: string): boolean {
  return grants.some((grant) => (grant.scope === scope || grant.scope === 'admin') && (grant.jobName === null || grant.jobName === name));
}
