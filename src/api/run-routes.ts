/**
 * Run endpoints (seeds 002 and 003):
 * - `POST /api/v1/runs`: JSON `{image | dockerfile | build_context (base64 tar.gz), build_args, command,
 *   entrypoint, env, volumes, working_dir, timeout_s, resources, network, results_dir}` or multipart
 *   (`file` = Dockerfile, `context` = tar/tar.gz, other fields as text or JSON text). 201 `{id, status}`.
 * - `GET /api/v1/runs/{id}`: status, exit code, times, image id, lint findings, results.
 * - `GET /api/v1/runs?status=&limit=&offset=`: runs, newest first.
 * - `GET /api/v1/runs/{id}/logs?after=N`: stored lines with stream labels and times; `follow=true`
 *   streams until the run ends (`format=text`, default, or `format=ndjson`).
 * - `DELETE /api/v1/runs/{id}`: cancel (SIGTERM, SIGKILL after the grace period).
 * - `GET /api/v1/runs/{id}/results/{path}`: download one result file.
 * - Seed 002's aliases: `POST /run` (multipart `file`), `GET /status?id=`.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { multipartAware } from './multipart.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PitlaneError } from '../errors.js';
import { resolveResultPath, type RunEvents, type RunRequest, type RunService } from '../runs/index.js';
import { TERMINAL_RUN_STATUSES as TERMINAL_STATUSES } from '../store/index.js';
import type { RunRecord, RunRepository } from '../store/index.js';
import { requirePrincipal } from '../auth/index.js';
import type { RunStatus } from '../store/schema.js';

export interface RunRouteDeps {
  service: RunService;
  runs: RunRepository;
  /** Wakes log followers at once when the run in this process gets lines or ends. */
  events: RunEvents;
  /** Largest Dockerfile accepted, in bytes. */
  maxDockerfileBytes: number;
}

const JSON_FIELDS = new Set(['build_args', 'env', 'volumes', 'resources']);
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Run id (UUID).' } } } as const;

async function partBuffer(part: { file: Readable & { truncated?: boolean } }, what: string, limit?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.file) {
    size += (chunk as Buffer).length;
    if (limit !== undefined && size > limit) {
      part.file.resume();
      throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the ${what} is larger than ${limit} bytes`, [{ path: what, message: 'too large' }]);
    }
    chunks.push(chunk as Buffer);
  }
  if (part.file.truncated) throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the ${what} is larger than the server accepts`, [{ path: what, message: 'too large' }]);
  return Buffer.concat(chunks);
}

/**
 * Loads a run the caller may see: one they submitted, or any run for admins.
 * @throws PitlaneError 404 `RUN_NOT_FOUND` for unknown runs and for other identities' runs.
 */
async function ownRun(deps: { service: RunService }, request: FastifyRequest, id: string): Promise<RunRecord> {
  const principal = requirePrincipal(request);
  const run = await deps.service.get(id);
  if (!request.permissions.can('admin') && run.createdBy !== `${principal.kind}:${principal.name}`) {
    throw new PitlaneError(404, 'RUN_NOT_FOUND', `no run with id "${id}"`, [{ path: 'id', message: 'unknown run' }]);
  }
  return run;
}

async function readMultipartRun(request: FastifyRequest, maxDockerfileBytes: number): Promise<RunRequest> {
  const fields: Record<string, unknown> = {};
  let dockerfile: string | undefined;
  let context: Readable | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname === 'file') {
        const data = await partBuffer(part, 'file', maxDockerfileBytes);
        dockerfile = data.toString('utf8');
      } else if (part.fieldname === 'context') {
        const data = await partBuffer(part, 'context');
        if (data.length === 0) throw new PitlaneError(400, 'ARCHIVE_INVALID', 'the context upload is empty', [{ path: 'context', message: 'empty' }]);
        context = Readable.from(data);
      } else {
        part.file.resume();
        throw new PitlaneError(400, 'RUN_INVALID', `unexpected file field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
      }
      continue;
    }
    const value = String(part.value);
    if (part.fieldname === 'file') {
      if (Buffer.byteLength(value) > maxDockerfileBytes) throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the Dockerfile is larger than ${maxDockerfileBytes} bytes`);
      dockerfile = value;
    } else if (JSON_FIELDS.has(part.fieldname) || (part.fieldname === 'command' && value.trim().startsWith('['))) {
      try {
        fields[part.fieldname] = JSON.parse(value);
      } catch {
        throw new PitlaneError(400, 'RUN_INVALID', `${part.fieldname} must be JSON`, [{ path: part.fieldname, message: 'not valid JSON' }]);
      }
    } else if (part.fieldname === 'timeout_s') {
      fields.timeout_s = Number(value);
    } else {
      fields[part.fieldname] = value;
    }
  }
  if (dockerfile === undefined && context === undefined && fields.image === undefined) {
    throw new PitlaneError(400, 'RUN_INVALID', 'upload a Dockerfile in the "file" field (or a context, or name an image)', [{ path: 'file', message: 'required' }]);
  }
  return { fields, dockerfile, context };
}

/** Registers the run routes. */
export function registerRunRoutes(app: FastifyInstance, deps: RunRouteDeps): void {
  const submit = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    let input: RunRequest;
    if (request.isMultipart()) {
      input = await readMultipartRun(request, deps.maxDockerfileBytes);
    } else {
      const body = request.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new PitlaneError(400, 'RUN_INVALID', 'the body must be a JSON object', [{ path: 'body', message: 'not an object' }]);
      const fields = { ...(body as Record<string, unknown>) };
      let context: Readable | undefined;
      if (fields.build_context !== undefined) {
        if (typeof fields.build_context !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(fields.build_context)) {
          throw new PitlaneError(400, 'RUN_INVALID', 'build_context must be a base64 tar.gz', [{ path: 'build_context', message: 'not base64' }]);
        }
        const data = Buffer.from(fields.build_context, 'base64');
        if (data.length === 0) throw new PitlaneError(400, 'ARCHIVE_INVALID', 'build_context is empty', [{ path: 'build_context', message: 'empty' }]);
        context = Readable.from(data);
      }
      if (typeof fields.dockerfile === 'string' && Buffer.byteLength(fields.dockerfile) > deps.maxDockerfileBytes) {
        throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the Dockerfile is larger than ${deps.maxDockerfileBytes} bytes`);
      }
      input = { fields, context };
    }
    const principal = requirePrincipal(request);
    const run = await deps.service.submit({ ...input, createdBy: `${principal.kind}:${principal.name}` });
    return reply.status(201).send({ id: run.id, status: run.status });
  };
  app.post('/api/v1/runs', { config: { auth: { scope: 'run' } }, ...multipartAware, schema: { description: 'Submit a one-shot run (JSON or multipart). 201 {id, status:"queued"}.' } }, submit);
  app.post('/run', { config: { auth: { scope: 'run' } }, ...multipartAware, schema: { description: "Seed 002's upload: multipart with the Dockerfile in `file`. Alias of POST /api/v1/runs." } }, submit);

  app.get('/api/v1/runs', { config: { auth: { scope: 'run' } },
    schema: {
      description: 'Runs, newest first, with a status filter and offset pagination.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ['queued', 'building', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          offset: { type: 'integer', minimum: 0, default: 0 },
        },
      },
    },
  }, async (request) => {
    const query = request.query as { status?: RunStatus; limit: number; offset: number };
    const principal = requirePrincipal(request);
    // Admins see every run; others the runs they submitted.
    const { runs, total } = await deps.runs.list({ ...query, createdBy: request.permissions.can('admin') ? undefined : `${principal.kind}:${principal.name}` });
    return { runs: runs.map((r) => deps.service.view(r)), total, limit: query.limit, offset: query.offset };
  });

  app.get('/api/v1/runs/:id', { config: { auth: { scope: 'run' } }, schema: { description: 'One run.', params: idParams } }, async (request) => {
    return deps.service.view(await ownRun(deps, request, (request.params as { id: string }).id));
  });
  app.get('/status', { config: { auth: { scope: 'run' } },
    schema: {
      description: "Seed 002's status: GET /status?id=RUN_ID, same answer as GET /api/v1/runs/{id}.",
      querystring: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
    },
  }, async (request) => deps.service.view(await ownRun(deps, request, (request.query as { id: string }).id)));

  app.delete('/api/v1/runs/:id', { config: { auth: { scope: 'run' } }, schema: { description: 'Cancel a run (SIGTERM, SIGKILL after the grace period).', params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    await ownRun(deps, request, id);
    return deps.service.view(await deps.service.cancel(id));
  });

  app.get('/api/v1/runs/:id/logs', { config: { auth: { scope: 'run' } },
    schema: {
      description: 'Stored output of a run with stream labels (stdout, stderr, system) and times; follow=true streams until the run ends.',
      params: idParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { type: 'integer', minimum: 0, default: 0 },
          follow: { type: 'boolean', default: false },
          format: { type: 'string', enum: ['text', 'ndjson'], default: 'text' },
        },
      },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { after, follow, format } = request.query as { after: number; follow: boolean; format: 'text' | 'ndjson' };
    const run = await ownRun(deps, request, id);
    if (!follow) return { status: run.status, lines: await deps.runs.logs(id, after) };
    const stream = new Readable({ read() {} });
    let cursor = after;
    const pump = async (): Promise<void> => {
      for (;;) {
        const lines = await deps.runs.logs(id, cursor);
        for (const line of lines) {
          cursor = line.id;
          stream.push(format === 'ndjson' ? `${JSON.stringify(line)}\n` : `${line.line}\n`);
        }
        if (stream.destroyed) return;
        const current = await deps.runs.get(id);
        if (!current || TERMINAL_STATUSES.includes(current.status)) {
          if (lines.length === 0) break;
          continue;
        }
        if (lines.length === 0) await deps.events.next(id, 500);
      }
      stream.push(null);
    };
    void pump().catch((error: Error) => stream.destroy(error));
    request.raw.on('close', () => stream.destroy());
    return reply.type(format === 'ndjson' ? 'application/x-ndjson' : 'text/plain; charset=utf-8').send(stream);
  });

  app.get('/api/v1/runs/:id/results/*', { config: { auth: { scope: 'run' } }, schema: { description: 'Download one result file of a run.' } }, async (request, reply) => {
    const params = request.params as { id: string; '*': string };
    const run = await ownRun(deps, request, params.id);
    // The router has already percent-decoded the path once; decoding again would make `%25` a `%`.
    const file = await resolveResultPath(deps.service.resultsRoot(run), params['*'] ?? '');
    return reply.type('application/octet-stream').send(createReadStream(file));
  });
}
