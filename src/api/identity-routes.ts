/**
 * Identity administration (all need the `admin` scope unless noted):
 * - `POST /api/v1/users` `{username, password}`, `GET /api/v1/users`,
 *   `POST /api/v1/users/{name}/disable|enable`, `PUT /api/v1/users/{name}/password` `{password}`
 *   (a user may change their own password).
 * - `POST /api/v1/service-accounts` `{name, token_description?}` (answers a first token, shown once),
 *   `GET /api/v1/service-accounts`, `POST /api/v1/service-accounts/{name}/disable|enable`.
 * - `POST /api/v1/permissions` `{identity, scope, job?, version?, endpoint?}`, `GET /api/v1/permissions`,
 *   `DELETE /api/v1/permissions/{id}`, `POST /api/v1/permissions/revoke` (by scope and target).
 * - `GET /api/v1/public-endpoints[?job=NAME]` (`read_job`), `POST /api/v1/public-endpoints/approve`
 *   and `/withdraw` `{job, version, endpoint}`.
 * - `GET /api/v1/audit[?actor&action&target&before&limit]`.
 */
import type { FastifyInstance } from 'fastify';
import { formatIdentityRef, requirePrincipal, requireScope, type AuthService, type IdentityRecord } from '../auth/index.js';
import type { AuditLog } from '../audit/index.js';
import { PitlaneError } from '../errors.js';
import { callContext } from './auth-routes.js';

/** Dependencies of the identity administration routes. */
export interface IdentityRouteDeps {
  auth: AuthService;
  audit: AuditLog;
}

/** An identity as the API shows it. */
function identityView(identity: IdentityRecord): Record<string, unknown> {
  return {
    identity: formatIdentityRef(identity),
    kind: identity.kind,
    name: identity.name,
    disabled: identity.disabled,
    has_password: identity.hasPassword,
    created_at: identity.createdAt,
    created_by: identity.createdBy,
  };
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 63, description: 'Username or service account name.' } },
} as const;

const admin = { auth: { scope: 'admin' } } as const;

const grantBody = {
  type: 'object',
  required: ['identity', 'scope'],
  additionalProperties: false,
  properties: {
    identity: { type: 'string', maxLength: 200, description: 'NAME, user:NAME, service_account:NAME or job:NAME@VERSION.' },
    scope: { type: 'string', enum: ['read_job', 'deploy_job', 'delete_job', 'call_job', 'run', 'admin'] },
    job: { type: 'string', maxLength: 63, description: 'Limit to this job (all versions).' },
    version: { type: 'string', maxLength: 64, description: 'Limit to this exact version (needs job).' },
    endpoint: { type: 'string', maxLength: 500, description: 'Limit to this endpoint path of the job, e.g. /api/v1/perform (needs job).' },
  },
} as const;

const publicEndpointBody = {
  type: 'object',
  required: ['job', 'version', 'endpoint'],
  additionalProperties: false,
  properties: { job: { type: 'string', maxLength: 63 }, version: { type: 'string', maxLength: 64 }, endpoint: { type: 'string', maxLength: 500 } },
} as const;

/** Registers the identity administration routes. */
export function registerIdentityRoutes(app: FastifyInstance, deps: IdentityRouteDeps): void {
  const { auth } = deps;

  for (const kind of ['user', 'service_account'] as const) {
    const base = kind === 'user' ? '/api/v1/users' : '/api/v1/service-accounts';
    const label = kind === 'user' ? 'user' : 'service account';
    app.post(
      base,
      {
        bodyLimit: 16 * 1024,
        config: admin,
        schema: {
          description:
            kind === 'user'
              ? 'Create a user with a password (argon2id-hashed). The user starts with no permissions.'
              : 'Create a service account (an outside system calling jobs) and its first API token, shown once. It starts with no permissions.',
          body:
            kind === 'user'
              ? { type: 'object', required: ['username', 'password'], additionalProperties: false, properties: { username: { type: 'string', maxLength: 63 }, password: { type: 'string', maxLength: 1024 } } }
              : { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 63 }, token_description: { type: 'string', maxLength: 200 } } },
        },
      },
      async (request, reply) => {
        const principal = requireScope(request, 'admin');
        const body = request.body as { username?: string; password?: string; name?: string; token_description?: string };
        const identity = await auth.createIdentity(principal, kind, (kind === 'user' ? body.username : body.name) ?? '', kind === 'user' ? body.password : undefined, callContext(request));
        if (kind === 'user') return reply.status(201).send(identityView(identity));
        const token = await auth.createToken(principal, true, { identity: formatIdentityRef(identity), description: body.token_description ?? 'first token' }, callContext(request));
        return reply.status(201).send({ ...identityView(identity), token });
      },
    );
    app.get(base, { config: admin, schema: { description: `Every ${label}.` } }, async (request) => {
      requireScope(request, 'admin');
      return { [kind === 'user' ? 'users' : 'service_accounts']: (await auth.listIdentities(kind)).map(identityView) };
    });
    for (const action of ['disable', 'enable'] as const) {
      app.post(
        `${base}/:name/${action}`,
        { bodyLimit: 1024, config: admin, schema: { description: `${action === 'disable' ? 'Disable' : 'Enable'} a ${label}; ${action === 'disable' ? 'its tokens stop working at once' : 'its unrevoked tokens work again'}.`, params: nameParams } },
        async (request) => {
          const principal = requireScope(request, 'admin');
          const { name } = request.params as { name: string };
          return identityView(await auth.setDisabled(principal, `${kind}:${name}`, action === 'disable', callContext(request)));
        },
      );
    }
  }

  app.put(
    '/api/v1/users/:name/password',
    {
      bodyLimit: 16 * 1024,
      config: { auth: { authenticated: true } },
      schema: {
        description: "Set a user's password (your own, or anyone's as admin). The user's sessions are revoked.",
        params: nameParams,
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: { type: 'string', maxLength: 1024 } } },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { name } = request.params as { name: string };
      if (!(principal.kind === 'user' && principal.name === name)) requireScope(request, 'admin');
      await auth.setPassword(principal, name, (request.body as { password: string }).password, callContext(request));
      return { updated: `user:${name}` };
    },
  );

  app.post('/api/v1/permissions', { bodyLimit: 16 * 1024, config: admin, schema: { description: 'Grant a scope to an identity on everything, a job, a version or an endpoint. Takes effect at once.', body: grantBody } }, async (request, reply) => {
    const principal = requireScope(request, 'admin');
    const body = request.body as { identity: string; scope: string; job?: string; version?: string; endpoint?: string };
    const result = await auth.grant(principal, body.identity, body, callContext(request));
    return reply.status(result.created ? 201 : 200).send(result);
  });

  app.post(
    '/api/v1/permissions/revoke',
    { bodyLimit: 16 * 1024, config: admin, schema: { description: 'Revoke the grants that exactly match identity, scope and target. 404 when none matched.', body: grantBody } },
    async (request) => {
      const principal = requireScope(request, 'admin');
      const body = request.body as { identity: string; scope: string; job?: string; version?: string; endpoint?: string };
      const revoked = await auth.revoke(principal, body, callContext(request));
      if (revoked.length === 0) throw new PitlaneError(404, 'GRANT_NOT_FOUND', 'no grant matches', [{ path: 'scope', message: 'no grant with this identity, scope and target' }]);
      return { revoked };
    },
  );

  app.delete(
    '/api/v1/permissions/:id',
    { config: admin, schema: { description: 'Revoke one grant by id.', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const principal = requireScope(request, 'admin');
      const revoked = await auth.revoke(principal, { id: (request.params as { id: string }).id }, callContext(request));
      if (revoked.length === 0) throw new PitlaneError(404, 'GRANT_NOT_FOUND', 'no grant with this id', [{ path: 'id', message: 'no such grant' }]);
      return { revoked };
    },
  );

  app.get(
    '/api/v1/permissions',
    {
      config: admin,
      schema: {
        description: "Every grant, or one identity's.",
        querystring: { type: 'object', additionalProperties: false, properties: { identity: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request) => {
      requireScope(request, 'admin');
      const { identity } = request.query as { identity?: string };
      return { permissions: await auth.listGrants(identity ? await auth.resolveIdentity(identity) : undefined) };
    },
  );

  app.get(
    '/api/v1/public-endpoints',
    {
      config: { auth: { scope: 'read_job' } },
      schema: {
        description: 'Endpoints that manifests declare public, with their approval (only approved ones open without a token).',
        querystring: { type: 'object', additionalProperties: false, properties: { job: { type: 'string', maxLength: 63 } } },
      },
    },
    async (request) => {
      const { job } = request.query as { job?: string };
      const all = await auth.listPublicEndpoints(job);
      return {
        public_endpoints: all
          .filter((entry) => request.permissions.can('read_job', { job: entry.jobName, version: entry.jobVersion }))
          .map((entry) => ({ job: entry.jobName, version: entry.jobVersion, endpoint: entry.endpoint, requested_at: entry.requestedAt, approved_at: entry.approvedAt, approved_by: entry.approvedBy })),
      };
    },
  );

  for (const action of ['approve', 'withdraw'] as const) {
    app.post(
      `/api/v1/public-endpoints/${action}`,
      { bodyLimit: 16 * 1024, config: admin, schema: { description: action === 'approve' ? 'Approve a public endpoint a manifest requested: it opens without a token at once.' : 'Withdraw the approval of a public endpoint.', body: publicEndpointBody } },
      async (request) => {
        const principal = requireScope(request, 'admin');
        const body = request.body as { job: string; version: string; endpoint: string };
        await auth.approvePublicEndpoint(principal, { jobName: body.job, jobVersion: body.version, endpoint: body.endpoint }, action === 'approve', callContext(request));
        return { [action === 'approve' ? 'approved' : 'withdrawn']: body };
      },
    );
  }

  app.get(
    '/api/v1/audit',
    {
      config: admin,
      schema: {
        description: 'The audit log, newest first: deploys, deletes, grants, token, user, service account, public endpoint and secret changes, logins.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string', maxLength: 200 },
            action: { type: 'string', maxLength: 100 },
            target: { type: 'string', maxLength: 300, description: 'Prefix of the target, e.g. job:adder.' },
            before: { type: 'integer', minimum: 1, description: 'Only entries with a smaller id (pagination).' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (request) => {
      requireScope(request, 'admin');
      return { entries: await deps.audit.list(request.query as { actor?: string; action?: string; target?: string; before?: number; limit?: number }) };
    },
  );
}
