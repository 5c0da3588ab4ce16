/**
 * Job endpoints:
 * - `GET /api/v1/jobs`: every deployed job version.
 * - `GET /api/v1/jobs/{name}/{version}`: one version (`version` may be `latest` or `1.x`).
 * - `DELETE /api/v1/jobs/{name}/{version}`: removes the version's containers and image tags.
 * - `GET /api/v1/jobs/{name}/{version}/logs?tail=N&follow=true&replica=I`: container output.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { PitlaneError } from '../errors.js';
import { jobView, type DeploymentService } from '../deploy/index.js';
import { resolveVersion } from '../gateway/index.js';
import type { InfrastructureTarget } from '../infra/index.js';
import type { JobRecord, JobRepository } from '../store/index.js';
import { requireScope, type AuthService } from '../auth/index.js';
import { callContext } from './auth-routes.js';

export interface JobRouteDeps {
  service: DeploymentService;
  jobs: JobRepository;
  target: InfrastructureTarget;
  auth: AuthService;
}

const nameVersionParams = {
  type: 'object',
  required: ['name', 'version'],
  properties: {
    name: { type: 'string', description: 'Job name.' },
    version: { type: 'string', description: 'Exact version, `latest`, or a wildcard like `1.x`.' },
  },
} as const;

/** Finds a job version by exact version, `latest` or wildcard. @throws PitlaneError 404. */
export async function findJob(jobs: JobRepository, name: string, spec: string): Promise<JobRecord> {
  const versions = await jobs.list(name);
  if (versions.length === 0) throw new PitlaneError(404, 'JOB_NOT_FOUND', `job "${name}" is not deployed`);
  const resolution = resolveVersion(spec, versions.map((v) => ({ version: v.version, serving: true })));
  if (!resolution.ok) throw new PitlaneError(404, 'VERSION_NOT_FOUND', `job "${name}": ${resolution.message}`);
  const job = versions.find((v) => v.version === resolution.version);
  if (!job) throw new PitlaneError(404, 'VERSION_NOT_FOUND', `job "${name}" has no version ${spec}`);
  return job;
}

/** Registers the job routes. */
export function registerJobRoutes(app: FastifyInstance, deps: JobRouteDeps): void {
  app.get('/api/v1/jobs', { config: { auth: { scope: 'read_job' } }, schema: { description: 'Every deployed job version.' } }, async (request) => ({
    jobs: (await deps.service.listJobs()).filter((job) => request.permissions.can('read_job', { job: job.name, version: job.version })),
  }));

  app.get('/api/v1/jobs/:name/:version', { config: { auth: { scope: 'read_job' } }, schema: { description: 'One job version.', params: nameVersionParams } }, async (request) => {
    const { name, version } = request.params as { name: string; version: string };
    const job = await findJob(deps.jobs, name, version);
    requireScope(request, 'read_job', { job: job.name, version: job.version });
    return jobView(job, await deps.jobs.replicas(job.name, job.version));
  });

  app.delete('/api/v1/jobs/:name/:version', { config: { auth: { scope: 'delete_job' } }, schema: { description: 'Delete a job version (exact version only).', params: nameVersionParams } }, async (request, reply) => {
    const { name, version } = request.params as { name: string; version: string };
    const principal = requireScope(request, 'delete_job', { job: name, version });
    await deps.service.deleteJob(name, version);
    await deps.auth.removeJobIdentity(name, version);
    await deps.auth.recordAction(principal, 'job.delete', `job:${name}@${version}`, {}, callContext(request));
    return reply.status(200).send({ deleted: { name, version } });
  });

  app.get(
    '/api/v1/jobs/:name/:version/logs',
    { config: { auth: { scope: 'read_job' } },
      schema: {
        description: 'Output of a job version\'s container (text). follow=true streams until the client disconnects.',
        params: nameVersionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            tail: { type: 'integer', minimum: 0, maximum: 100000, default: 100 },
            follow: { type: 'boolean', default: false },
            replica: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (request, reply) => {
      const { name, version } = request.params as { name: string; version: string };
      const { tail, follow, replica } = request.query as { tail: number; follow: boolean; replica: number };
      const job = await findJob(deps.jobs, name, version);
      requireScope(request, 'read_job', { job: job.name, version: job.version });
      const replicas = await deps.jobs.replicas(job.name, job.version);
      const chosen = replicas.find((r) => r.replicaIndex === replica);
      if (!chosen) throw new PitlaneError(404, 'REPLICA_NOT_FOUND', `${name} ${job.version} has no replica ${replica}`, [{ path: 'replica', message: 'no such replica' }]);
      reply.type('text/plain; charset=utf-8');
      if (!follow) {
        const lines = await deps.target.containerLogs(chosen.containerId, tail);
        return lines.length > 0 ? `${lines.join('\n')}\n` : '';
      }
      const stream = new Readable({ read() {} });
      const controller = new AbortController();
      request.raw.on('close', () => controller.abort());
      void deps.target
        .followLogs(chosen.containerId, tail, (line) => stream.push(`${line}\n`), controller.signal)
        .then(() => stream.push(null), (error: Error) => stream.destroy(error));
      return reply.send(stream);
    },
  );
}
