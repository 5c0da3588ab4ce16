/**
 * The gateway's check, answered from the in-memory {@link AuthDirectory}: an approved public
 * endpoint opens without a token; otherwise the caller needs a valid token (401) whose identity
 * holds `call_job` on the job, the exact version or the endpoint (403).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthDirectory } from './auth-directory.js';
import { credentialFromHeaders } from './tokens.js';

/** The gateway's decision (same shape as gateway/proxy.ts GatewayDecision). */
export type CallDecision = { ok: true; caller?: string } | { ok: false; status: 401 | 403; message: string };

const ALLOWED: CallDecision = { ok: true };

const UNAUTHENTICATED: Record<string, CallDecision> = {
  missing: { ok: false, status: 401, message: 'a valid token is required (Authorization: Bearer <token>, X-Racetrack-Auth or the session cookie)' },
  unknown: { ok: false, status: 401, message: 'the token is not valid (unknown or revoked)' },
  expired: { ok: false, status: 401, message: 'the token has expired' },
  disabled: { ok: false, status: 401, message: 'the identity of this token is disabled' },
};

/** Creates the gateway's authorisation function over `directory`. */
export function createGatewayAuthorizer(directory: AuthDirectory): (headers: IncomingHttpHeaders, name: string, version: string, endpoint: string) => CallDecision {
  /** One allowed decision per identity id, reused (no allocation per call). */
  const allowedAs = new Map<string, CallDecision>();
  return (headers, name, version, endpoint) => {
    if (directory.isPublicEndpoint(name, version, endpoint)) return ALLOWED;
    const result = directory.authenticate(credentialFromHeaders(headers));
    if (!result.ok) return UNAUTHENTICATED[result.reason] ?? UNAUTHENTICATED.missing!;
    if (directory.permissionsOf(result.principal.identityId).can('call_job', { job: name, version, endpoint })) {
      let decision = allowedAs.get(result.principal.identityId);
      if (!decision) {
        decision = { ok: true, caller: `${result.principal.kind}:${result.principal.name}` };
        if (allowedAs.size >= 10_000) allowedAs.clear();
        allowedAs.set(result.principal.identityId, decision);
      }
      return decision;
    }
    return { ok: false, status: 403, message: `${result.principal.kind} "${result.principal.name}" lacks scope call_job on job "${name}" ${version} endpoint ${endpoint}` };
  };
}
