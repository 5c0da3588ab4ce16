/**
 * Secret endpoints (values go in, never come out):
 * - `PUT /api/v1/jobs/{name}/secrets/{key}`: JSON `{value, kind?}` (`kind` `runtime`, the default,
 *   or `build`). 200 `{created, secret}` with the secret's metadata (no value).
 * - `GET /api/v1/jobs/{name}/secrets`: `{secrets: [{key, kind, created_at, updated_at, updated_by}]}`.
 * - `DELETE /api/v1/jobs/{name}/secrets/{key}?kind=`: deletes that kind, or every kind of the key.
 *   200 `{deleted: {job, key, kinds}}`, 404 `SECRET_NOT_FOUND`.
 * Each route needs scope `deploy_job` on the job; every change is audited (`secret.set`,
 * `secret.delete`, target `secret:JOB/KEY`, never the value). Bad input is a 400 naming the field.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../audit/index.js';
import { requireScope } from '../auth/request-auth.js';
import { MAX_SECRET_VALUE_BYTES, SECRET_KINDS, type SecretKind, type SecretMetadata, type SecretService } from '../secrets/index.js';

/** What the secret routes need. */
export interface SecretRouteDeps {
  secrets: SecretService;
  audit: AuditRecorder;
}

/** A secret as the API shows it: never its value. */
export interface SecretView {
  job: string;
  key: string;
  kind: SecretKind;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** The API view of a secret's metadata. */
export function secretView(secret: SecretMetadata): SecretView {
  return { job: secret.jobName, key: secret.key, kind: secret.kind, created_at: secret.createdAt, updated_at: secret.updatedAt, updated_by: secret.updatedBy };
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Job name (secrets apply to every version).' } },
} as const;

const nameKeyParams = {
  type: 'object',
  required: ['name', 'key'],
  properties: {
    name: nameParams.properties.name,
    key: { type: 'string', description: 'Secret key: an environment variable name, ^[A-Za-z_][A-Za-z0-9_]*$.' },
  },
} as const;

/** JSON escaping can make a 64 KiB value up to 6 times longer; anything beyond is refused with 413 before parsing. */
const SECRET_BODY_LIMIT = MAX_SECRET_VALUE_BYTES * 6 + 4096;

/** Registers the secret routes. */
export function registerSecretRoutes(app: FastifyInstance, deps: SecretRouteDeps): void {
  app.put(
    '/api/v1/jobs/:name/secrets/:key',
    {
      bodyLimit: SECRET_BODY_LIMIT,
      config: { auth: { scope: 'deploy_job' } },
      schema: {
        description:
          "Set a secret of a job (all versions). Runtime secrets become environment variables of containers created afterwards; build secrets are BuildKit secret mounts for the manifest's build_secrets. The value is stored encrypted and never returned.",
        params: nameKeyParams,
        body: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: {
            value: { type: 'string', description: `The secret value (UTF-8, 1 to ${MAX_SECRET_VALUE_BYTES} bytes).` },
            kind: { type: 'string', enum: [...SECRET_KINDS], default: 'runtime', description: '`runtime` (container environment) or `build` (BuildKit secret mount).' },
          },
        },
      },
    },
    async (request) => {
      const { name, key } = request.params as { name: string; key: string };
      const principal = requireScope(request, 'deploy_job', { job: name });
      const body = request.body as { value: string; kind: SecretKind };
      const by = `${principal.kind}:${principal.name}`;
      const result = await deps.secrets.set({ jobName: name, key, value: body.value, kind: body.kind, by });
      await deps.audit.record({
        actor: by,
        action: 'secret.set',
        target: `secret:${name}/${key}`,
        details: { kind: body.kind, created: result.created },
        requestId: request.id,
        ip: request.ip,
      });
      return { created: result.created, secret: secretView(result.secret) };
    },
  );

  app.get(
    '/api/v1/jobs/:name/secrets',
    {
      config: { auth: { scope: 'deploy_job' } },
      schema: { description: "A job's secrets: keys, kinds, times and who set them; never values.", params: nameParams },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      requireScope(request, 'deploy_job', { job: name });
      return { secrets: (await deps.secrets.list(name)).map(secretView) };
    },
  );

  app.delete(
    '/api/v1/jobs/:name/secrets/:key',
    {
      config: { auth: { scope: 'deploy_job' } },
      schema: {
        description: 'Delete a secret of a job: of the given kind, or of every kind. Containers already running keep their environment until recreated.',
        params: nameKeyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: [...SECRET_KINDS], description: 'Only this kind (default: every kind).' } },
        },
      },
    },
    async (request) => {
      const { name, key } = request.params as { name: string; key: string };
      const { kind } = request.query as { kind?: SecretKind };
      const principal = requireScope(request, 'deploy_job', { job: name });
      const kinds = await deps.secrets.delete(name, key, kind);
      const by = `${principal.kind}:${principal.name}`;
      await deps.audit.record({ actor: by, action: 'secret.delete', target: `secret:${name}/${key}`, details: { kinds }, requestId: request.id, ip: request.ip });
      return { deleted: { job: name, key, kinds } };
    },
  );
}
