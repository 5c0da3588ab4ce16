/**
 * Deployment endpoints:
 * - `POST /api/v1/deploy`: JSON `{manifest, build_context?, force?}` (`build_context` = base64
 *   tar.gz, Racetrack's lifecycle shape) or multipart (`manifest` field or file, `build_context`
 *   file, `force` field). Answers 202 `{id, status, warnings}` once the deployment is stored.
 * - `GET /api/v1/deploy/{id}`: status, phase, warnings, error and, when done, the job.
 * - `GET /api/v1/deploy/{id}/logs?after=N`: stored build-log lines after line id N;
 *   `follow=true` streams them as text until the deployment ends.
 * - `GET /api/v1/deploy`: recent deployments (`job`, `status`, `limit` filters).
 */
import { Readable } from 'node:stream';
import { multipartAware } from './multipart.js';
import type { FastifyInstance } from 'fastify';
import { PitlaneError } from '../errors.js';
import type { DeploymentService } from '../deploy/index.js';
import type { DeploymentRecord, DeploymentRepository } from '../store/index.js';
import { requirePrincipal, requireScope, type AuthService } from '../auth/index.js';
import type { JobManifest } from '../manifest/index.js';
import { callContext } from './auth-routes.js';

export interface DeployRouteDeps {
  service: DeploymentService;
  deployments: DeploymentRepository;
  auth: AuthService;
}

/** Loads a deployment the caller may read. @throws PitlaneError 404 unknown, 403 without read_job on its job. */
async function readableDeployment(deps: DeployRouteDeps, request: import('fastify').FastifyRequest, id: string): Promise<DeploymentRecord> {
  const deployment = await deps.deployments.get(id);
  if (!deployment) throw new PitlaneError(404, 'DEPLOYMENT_NOT_FOUND', `no deployment with id "${id}"`);
  requireScope(request, 'read_job', { job: deployment.jobName, version: deployment.jobVersion });
  return deployment;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'Deployment id (UUID).' } },
} as const;

async function readMultipartDeploy(request: import('fastify').FastifyRequest): Promise<{ manifest: unknown; buildContext?: Readable; force: boolean }> {
  let manifest: unknown;
  let buildContext: Readable | undefined;
  let force = false;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname === 'build_context') {
        const chunks: Buffer[] = [];
        for await (const chunk of part.file) chunks.push(chunk as Buffer);
        if (part.file.truncated) throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', 'the build context is larger than the server accepts');
        buildContext = Readable.from(Buffer.concat(chunks));
      } else if (part.fieldname === 'manifest') {
        manifest = (await part.toBuffer()).toString('utf8');
      } else {
        part.file.resume();
        throw new PitlaneError(400, 'REQUEST_INVALID', `unexpected file field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
      }
    } else if (part.fieldname === 'manifest') {
      manifest = String(part.value);
    } else if (part.fieldname === 'force') {
      force = String(part.value) === 'true' || String(part.value) === '1';
    } else {
      throw new PitlaneError(400, 'REQUEST_INVALID', `unexpected field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
    }
  }
  if (manifest === undefined) throw new PitlaneError(400, 'REQUEST_INVALID', 'the "manifest" field is required', [{ path: 'manifest', message: 'required' }]);
  return { manifest, buildContext, force };
}

/** Registers the deployment routes. */
export function registerDeployRoutes(app: FastifyInstance, deps: DeployRouteDeps): void {
  app.post(
    '/api/v1/deploy',
    { config: { auth: { scope: 'deploy_job' } },
      ...multipartAware,
      schema: {
        description:
          'Queue a deployment of a job version. Answers 202 at once with the deployment id. Also accepts multipart/form-data with a `manifest` field or file, a `build_context` file (tar or tar.gz) and a `force` field.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            manifest: { description: 'The manifest: YAML text or a JSON object (job.yaml / fatman.yaml fields).' },
            build_context: { type: 'string', description: 'The build context as a base64-encoded tar.gz.' },
            force: { type: 'boolean', description: 'Redeploy a version that is already deployed.' },
          },
        },
      },
    },
    async (request, reply) => {
      let input: { manifest: unknown; buildContext?: Readable; force: boolean };
      if (request.isMultipart()) {
        input = await readMultipartDeploy(request);
      } else {
        const body = request.body as { manifest?: unknown; build_context?: string; force?: boolean };
        if (body.manifest === undefined || body.manifest === null) {
          throw new PitlaneError(400, 'REQUEST_INVALID', 'the "manifest" field is required', [{ path: 'manifest', message: 'required' }]);
        }
        let buildContext: Readable | undefined;
        if (body.build_context !== undefined) {
          if (!/^[A-Za-z0-9+/=\s]*$/.test(body.build_context)) {
            throw new PitlaneError(400, 'REQUEST_INVALID', 'build_context must be base64', [{ path: 'build_context', message: 'not base64' }]);
          }
          buildContext = Readable.from(Buffer.from(body.build_context, 'base64'));
        }
        input = { manifest: body.manifest, buildContext, force: body.force ?? false };
      }
      const principal = requirePrincipal(request);
      let validated: JobManifest | undefined;
      let isNewJob = false;
      const deployment = await deps.service.deploy({
        ...input,
        authorize: async (manifest) => {
          requireScope(request, 'deploy_job', { job: manifest.name, version: manifest.version });
          validated = manifest;
          isNewJob = !(await deps.auth.isJobKnown(manifest.name));
        },
      });
      const publicEndpoints = (validated as { public_endpoints?: string[] } | undefined)?.public_endpoints ?? [];
      await deps.auth.onDeploy(principal, deployment.jobName, deployment.jobVersion, publicEndpoints, isNewJob, callContext(request));
      await deps.auth.recordAction(principal, 'deploy.create', `job:${deployment.jobName}@${deployment.jobVersion}`, { deployment_id: deployment.id, force: input.force, new_job: isNewJob }, callContext(request));
      return reply.status(202).send({ id: deployment.id, status: deployment.status, phase: deployment.phase, warnings: deployment.warnings });
    },
  );

  app.get('/api/v1/deploy', { config: { auth: { scope: 'read_job' } },
    schema: {
      description: 'Recent deployments, newest first.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          job: { type: 'string' },
          status: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
        },
      },
    },
  }, async (request) => {
    const query = request.query as { job?: string; status?: 'queued' | 'running' | 'done' | 'failed'; limit: number };
    const records = (await deps.deployments.list({ jobName: query.job, status: query.status, limit: query.limit })).filter((r) =>
      request.permissions.can('read_job', { job: r.jobName, version: r.jobVersion }),
    );
    return { deployments: await Promise.all(records.map((r) => deps.service.deploymentView(r))) };
  });

  app.get('/api/v1/deploy/:id', { config: { auth: { scope: 'read_job' } }, schema: { description: 'One deployment: status, phase, warnings, error, and the job when done.', params: idParams } }, async (request) => {
    return deps.service.deploymentView(await readableDeployment(deps, request, (request.params as { id: string }).id));
  });

  app.get(
    '/api/v1/deploy/:id/logs',
    { config: { auth: { scope: 'read_job' } },
      schema: {
        description: 'Build-log lines of a deployment. With follow=true, a text stream until the deployment ends.',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'integer', minimum: 0, default: 0, description: 'Only lines with an id above this.' },
            follow: { type: 'boolean', default: false },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { after, follow } = request.query as { after: number; follow: boolean };
      const deployment = await readableDeployment(deps, request, id);
      if (!follow) {
        const lines = await deps.deployments.logs(id, after);
        return { status: deployment.status, phase: deployment.phase, lines };
      }
      let cursor = after;
      const stream = new Readable({ read() {} });
      const pump = async (): Promise<void> => {
        for (;;) {
          const lines = await deps.deployments.logs(id, cursor);
          for (const line of lines) {
            stream.push(`${line.line}\n`);
            cursor = line.id;
          }
          const current = await deps.deployments.get(id);
          if (!current || current.status === 'done' || current.status === 'failed') {
            if (lines.length === 0) break;
            continue;
          }
          if (stream.destroyed) return;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        stream.push(null);
      };
      void pump().catch((error: Error) => stream.destroy(error));
      request.raw.on('close', () => stream.destroy());
      return reply.type('text/plain; charset=utf-8').send(stream);
    },
  );
}
