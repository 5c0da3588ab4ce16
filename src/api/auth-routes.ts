/**
 * Authentication endpoints:
 * - `POST /api/v1/auth/login` `{username, password}` (public, rate limited): opens a session,
 *   answers `{token, id, prefix, expires_at, identity}` and sets the HttpOnly, SameSite=Lax
 *   `pitlane_session` cookie (Secure over HTTPS).
 * - `POST /api/v1/auth/logout`: revokes the token or session used and clears the cookie.
 * - `GET /api/v1/auth/me`: the caller's identity and grants.
 * - `POST /api/v1/auth/tokens` `{description?, expires_in_s?, identity?}` (rate limited): a new API
 *   token, shown once. Only admins create tokens for other identities.
 * - `GET /api/v1/auth/tokens[?identity=REF]`: token metadata (never the tokens).
 * - `DELETE /api/v1/auth/tokens/{id}`: revokes a token (own tokens; admins any).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serialize as serializeCookie } from 'cookie';
import { formatIdentityRef, parseIdentityRef, requirePrincipal, SESSION_COOKIE, type AuthService, type CallContext, type IdentityRef, type Principal } from '../auth/index.js';
import { PitlaneError } from '../errors.js';

/** Dependencies of the auth routes. */
export interface AuthRouteDeps {
  auth: AuthService;
  /** Login attempts allowed per client address per minute. */
  loginRateLimitPerMinute: number;
  /** Token creations allowed per client address per minute. */
  tokenRateLimitPerMinute: number;
  /** Session lifetime in seconds (the cookie's Max-Age). */
  sessionTtlS: number;
  /**
   * Mark cookies Secure even when this server itself speaks plain HTTP (Pitlane's public URL is
   * https://, i.e. a TLS-terminating proxy is in front). Requests that arrive over HTTPS always get it.
   */
  secureCookies: boolean;
}

/** True when `ref` names the caller itself. */
function isSelf(ref: IdentityRef, principal: Principal): boolean {
  return ref.kind === principal.kind && ref.name === principal.name;
}

/** The audit context of a request. */
export function callContext(request: FastifyRequest): CallContext {
  return { requestId: String(request.id), ip: request.ip };
}

const tokenIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64, description: 'Token id (the part after `pitlane_` in its prefix).' } },
} as const;

/** Registers the auth routes. */
export function registerAuthRoutes(app: FastifyInstance, deps: AuthRouteDeps): void {
  app.post(
    '/api/v1/auth/login',
    {
      bodyLimit: 16 * 1024,
      config: { auth: { public: true }, rateLimit: { max: deps.loginRateLimitPerMinute, timeWindow: 60_000 } },
      schema: {
        description: 'Log in with a username and password. Answers a session token (also set as the HttpOnly `pitlane_session` cookie). 401 on wrong credentials, 429 when rate limited.',
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', maxLength: 63 }, password: { type: 'string', maxLength: 1024 } },
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body as { username: string; password: string };
      const session = await deps.auth.login(username, password, callContext(request));
      reply.header(
        'set-cookie',
        serializeCookie(SESSION_COOKIE, session.token, {
          httpOnly: true,
          sameSite: 'lax',
          secure: deps.secureCookies || request.protocol === 'https',
          path: '/',
          maxAge: deps.sessionTtlS,
        }),
      );
      return reply.status(200).send(session);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { bodyLimit: 1024, config: { auth: { authenticated: true } }, schema: { description: 'Revoke the token or session this request used and clear the session cookie.' } },
    async (request, reply) => {
      await deps.auth.logout(requirePrincipal(request), callContext(request));
      reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies || request.protocol === 'https', path: '/', maxAge: 0 }));
      return reply.status(200).send({ logged_out: true });
    },
  );

  app.get('/api/v1/auth/me', { config: { auth: { authenticated: true } }, schema: { description: "The caller's identity, token id and permission grants." } }, async (request) => {
    const principal = requirePrincipal(request);
    const identity = await deps.auth.resolveIdentity({ kind: principal.kind, name: principal.name });
    return {
      identity: formatIdentityRef(principal),
      kind: principal.kind,
      name: principal.name,
      token_id: principal.tokenId,
      grants: await deps.auth.listGrants(identity),
    };
  });

  app.post(
    '/api/v1/auth/tokens',
    {
      bodyLimit: 16 * 1024,
      config: { auth: { authenticated: true }, rateLimit: { max: deps.tokenRateLimitPerMinute, timeWindow: 60_000 } },
      schema: {
        description: 'Create an API token for yourself (or, as admin, for `identity`). The token is in this answer only; Pitlane keeps its SHA-256.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            description: { type: 'string', maxLength: 200 },
            expires_in_s: { type: 'integer', description: 'Lifetime in seconds (>= 60); default: no expiry.' },
            identity: { type: 'string', maxLength: 200, description: 'NAME, user:NAME or service_account:NAME (admins only).' },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const body = (request.body ?? {}) as { description?: string; expires_in_s?: number; identity?: string };
      const token = await deps.auth.createToken(
        principal,
        request.permissions.can('admin'),
        { description: body.description, expiresInS: body.expires_in_s, identity: body.identity },
        callContext(request),
      );
      return reply.status(201).send(token);
    },
  );

  app.get(
    '/api/v1/auth/tokens',
    {
      config: { auth: { authenticated: true } },
      schema: {
        description: "Token metadata: yours, or (admins) an identity's or, with identity=*, everyone's.",
        querystring: { type: 'object', additionalProperties: false, properties: { identity: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { identity } = request.query as { identity?: string };
      const isAdmin = request.permissions.can('admin');
      if (identity === '*') {
        if (!isAdmin) throw new PitlaneError(403, 'FORBIDDEN', "only admins list everyone's tokens");
        return { tokens: await deps.auth.listTokens(undefined) };
      }
      // Decided before any lookup, so non-admins cannot probe which identities exist.
      if (identity !== undefined && !isAdmin && !isSelf(parseIdentityRef(identity), principal)) {
        throw new PitlaneError(403, 'FORBIDDEN', "only admins list other identities' tokens");
      }
      const record = await deps.auth.resolveIdentity(identity ?? { kind: principal.kind, name: principal.name });
      return { tokens: await deps.auth.listTokens(record) };
    },
  );

  app.delete(
    '/api/v1/auth/tokens/:id',
    { config: { auth: { authenticated: true } }, schema: { description: 'Revoke a token (yours; admins: any). It stops working at once.', params: tokenIdParams } },
    async (request) => {
      const principal = requirePrincipal(request);
      const { id } = request.params as { id: string };
      return { revoked: await deps.auth.revokeToken(principal, request.permissions.can('admin'), id, callContext(request)) };
    },
  );
}
