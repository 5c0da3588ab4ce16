/**
 * Wheelhouse endpoints (seed 004):
 * - `POST /api/v1/wheels`: multipart with the wheel in `file` (its filename must be the wheel's
 *   PEP 427 name). 201 with the stored wheel; 200 when the same bytes were already stored.
 *   400 WHEEL_FILENAME_INVALID / WHEEL_CORRUPT, 409 WHEEL_EXISTS, 413, 422 WHEEL_INVALID / WHEEL_MISMATCH.
 * - `GET /api/v1/wheels?name=`: stored wheels. `GET|DELETE /api/v1/wheels/{filename}`.
 * - `POST /api/v1/wheels/build`: JSON `{requirements}` or multipart (`requirements` field or file,
 *   `source` file = tar/tar.gz of local packages, unpacked into `/src`). 202 `{id, status}`.
 * - `GET /api/v1/wheels/builds`, `GET /api/v1/wheels/builds/{id}?after=N`: status, wheels added,
 *   error, and the log lines after line N.
 * - Read-only index for pip: `GET /wheels/simple/` (PEP 503 project list),
 *   `/wheels/simple/{project}/` (links `../../files/{filename}#sha256=...`), `/wheels/find-links/`
 *   (every wheel, for `pip --find-links URL`) and `/wheels/files/{filename}`. These may be served
 *   without a token: see {@link isOpenWheelPath}.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { multipartAware } from './multipart.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PitlaneError } from '../errors.js';
import {
  findLinksHtml,
  normalizeProjectName,
  parseWheelFilename,
  readLimited,
  simpleProjectHtml,
  simpleRootHtml,
  type WheelBuildService,
  type Wheelhouse,
} from '../wheelhouse/index.js';

/** What the wheel routes need. */
export interface WheelRouteDeps {
  wheelhouse: Wheelhouse;
  builds: WheelBuildService;
  /** Largest `source` archive of a build request, in bytes (default 256 MiB). */
  maxSourceBytes?: number;
}

/**
 * True for the read-only index URLs pip fetches (`GET`/`HEAD` under `/wheels/`), which an
 * installation may serve without a token (pip cannot send Pitlane's bearer token).
 */
export function isOpenWheelPath(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/wheels' || path.startsWith('/wheels/'));
}

const filenameParams = {
  type: 'object',
  required: ['filename'],
  properties: { filename: { type: 'string', description: 'Wheel filename, e.g. requests-2.32.3-py3-none-any.whl.' } },
} as const;

type FilePart = { file: Readable & { truncated?: boolean } };

async function readPart(part: FilePart, limit: number, what: string): Promise<Buffer> {
  const data = await readLimited(part.file, limit, what);
  if (part.file.truncated) throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the ${what} is larger than the server accepts`, [{ path: what, message: 'too large' }]);
  return data;
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(body);
}

/** Registers the wheelhouse routes. */
export function registerWheelRoutes(app: FastifyInstance, deps: WheelRouteDeps): void {
  const { wheelhouse, builds } = deps;
  const maxSourceBytes = deps.maxSourceBytes ?? 256 * 1024 * 1024;

  app.post('/api/v1/wheels', { config: { auth: { scope: 'deploy_job' } },
    ...multipartAware,
    schema: {
      description:
        'Upload one wheel: multipart/form-data with the .whl in the `file` field, named by its PEP 427 filename. It is checked (ZIP, dist-info, METADATA Name/Version against the filename, WHEEL tags, RECORD hashes). 201 with the wheel; 200 when the same file was already stored.',
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new PitlaneError(400, 'REQUEST_INVALID', 'upload the wheel as multipart/form-data in the "file" field', [{ path: 'file', message: 'required' }]);
    }
    let upload: { filename: string; data: Buffer } | undefined;
    for await (const part of request.parts()) {
      if (part.type !== 'file') {
        throw new PitlaneError(400, 'REQUEST_INVALID', `unexpected field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
      }
      if (part.fieldname !== 'file' || upload) {
        part.file.resume();
        throw new PitlaneError(400, 'REQUEST_INVALID', part.fieldname === 'file' ? 'upload one wheel per request' : `unexpected file field "${part.fieldname}"`, [
          { path: part.fieldname, message: part.fieldname === 'file' ? 'more than one file' : 'unknown field' },
        ]);
      }
      const filename = part.filename ?? '';
      try {
        parseWheelFilename(filename);
      } catch (error) {
        part.file.resume();
        throw error;
      }
      upload = { filename, data: await readPart(part, wheelhouse.maxWheelBytes, 'file') };
    }
    if (!upload) throw new PitlaneError(400, 'REQUEST_INVALID', 'the "file" field with the wheel is required', [{ path: 'file', message: 'required' }]);
    const { wheel, created } = await wheelhouse.add(upload.data, upload.filename, { source: 'upload' });
    return reply.status(created ? 201 : 200).send(wheel);
  });

  app.get('/api/v1/wheels', { config: { auth: { scope: 'read_job' } },
    schema: {
      description: 'Stored wheels (name, version, tags, size, sha256, uploaded_at), sorted by project.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { name: { type: 'string', description: 'Only this project (any spelling; compared after PEP 503 normalisation).' } },
      },
    },
  }, async (request) => {
    const { name } = request.query as { name?: string };
    return { wheels: wheelhouse.list(name ? { name } : {}) };
  });

  app.get('/api/v1/wheels/builds', { config: { auth: { scope: 'read_job' } },
    schema: {
      description: 'Recent wheel builds, newest first.',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
    },
  }, async (request) => ({ builds: await builds.list((request.query as { limit: number }).limit) }));

  app.get('/api/v1/wheels/builds/:id', { config: { auth: { scope: 'read_job' } },
    schema: {
      description: "One wheel build: status, wheels added and reused, error, and its log's lines after line `after`.",
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Build id (UUID).' } } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { type: 'integer', minimum: 0, default: 0, description: 'Skip this many log lines.' } },
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { after } = request.query as { after: number };
    const record = await builds.get(id);
    const log = await builds.log(id, after);
    return { ...record, log: log.lines, log_total: log.total };
  });

  app.get('/api/v1/wheels/:filename', { config: { auth: { scope: 'read_job' } }, schema: { description: 'One stored wheel.', params: filenameParams } }, async (request) => {
    const { filename } = request.params as { filename: string };
    parseWheelFilename(filename);
    const wheel = wheelhouse.get(filename);
    if (!wheel) throw new PitlaneError(404, 'WHEEL_NOT_FOUND', `no wheel "${filename}" in the wheelhouse`, [{ path: 'filename', message: 'not found' }]);
    return wheel;
  });

  app.delete('/api/v1/wheels/:filename', { config: { auth: { scope: 'admin' } }, schema: { description: 'Delete a wheel from the wheelhouse.', params: filenameParams } }, async (request) => {
    const { filename } = request.params as { filename: string };
    return { deleted: await wheelhouse.delete(filename) };
  });

  app.post('/api/v1/wheels/build', { config: { auth: { scope: 'deploy_job' } },
    ...multipartAware,
    schema: {
      description:
        'Build the wheels a requirements file needs in a throwaway builder container (pip wheel --no-index --find-links <the wheelhouse>) and store them. JSON {requirements} or multipart with `requirements` (field or file) and `source` (tar or tar.gz of local packages, unpacked in /src, the working directory: name them ./pkg in the requirements). 202 {id, status}; follow GET /api/v1/wheels/builds/{id}.',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { requirements: { type: 'string', description: 'Text of a requirements file.' } },
      },
    },
  }, async (request, reply) => {
    let requirements: unknown;
    let source: Buffer | undefined;
    if (request.isMultipart()) {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname === 'requirements') requirements = (await readPart(part, 1024 * 1024, 'requirements')).toString('utf8');
          else if (part.fieldname === 'source') {
            source = await readPart(part, maxSourceBytes, 'source');
            if (source.length === 0) throw new PitlaneError(400, 'ARCHIVE_INVALID', 'the source upload is empty', [{ path: 'source', message: 'empty' }]);
          } else {
            part.file.resume();
            throw new PitlaneError(400, 'REQUEST_INVALID', `unexpected file field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
          }
        } else if (part.fieldname === 'requirements') {
          requirements = String(part.value);
        } else {
          throw new PitlaneError(400, 'REQUEST_INVALID', `unexpected field "${part.fieldname}"`, [{ path: part.fieldname, message: 'unknown field' }]);
        }
      }
    } else {
      requirements = (request.body as { requirements?: unknown } | undefined)?.requirements;
    }
    if (requirements === undefined) throw new PitlaneError(400, 'REQUEST_INVALID', 'the "requirements" field is required', [{ path: 'requirements', message: 'required' }]);
    const record = await builds.start({
      requirements: requirements as string,
      ...(source ? { sourceArchive: source, sourceNames: [`source archive (${source.length} bytes)`] } : {}),
    });
    return reply.status(202).send({ id: record.id, status: record.status });
  });

  // The index pip reads.
  const redirect = (to: string) => async (_request: FastifyRequest, reply: FastifyReply) => reply.redirect(to, 301);
  app.get('/wheels/simple', { config: { auth: { public: true } }, schema: { hide: true } }, redirect('/wheels/simple/'));
  app.get('/wheels/find-links', { config: { auth: { public: true } }, schema: { hide: true } }, redirect('/wheels/find-links/'));
  app.get('/wheels/simple/', { config: { auth: { public: true } }, schema: { description: 'PEP 503 simple index: one link per project in the wheelhouse (HTML).' } }, async (_request, reply) =>
    html(reply, simpleRootHtml(wheelhouse.projects().keys())),
  );
  const projectPage = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { project } = request.params as { project: string };
    const normalized = normalizeProjectName(project);
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(normalized)) {
      throw new PitlaneError(404, 'PROJECT_NOT_FOUND', `"${project}" is not a project name`, [{ path: 'project', message: 'not a project name' }]);
    }
    if (project !== normalized || !request.url.split('?')[0]?.endsWith('/')) return reply.redirect(`/wheels/simple/${normalized}/`, 301);
    const wheels = wheelhouse.projects().get(normalized);
    if (!wheels) throw new PitlaneError(404, 'PROJECT_NOT_FOUND', `no wheels of "${normalized}" in the wheelhouse`, [{ path: 'project', message: 'not found' }]);
    return html(reply, simpleProjectHtml(normalized, wheels));
  };
  app.get('/wheels/simple/:project', { config: { auth: { public: true } }, schema: { hide: true } }, projectPage);
  app.get('/wheels/simple/:project/', { config: { auth: { public: true } },
    schema: {
      description: "PEP 503 project page: links to the project's wheels with #sha256 and data-requires-python (HTML). Other spellings of the name redirect to the normalised one.",
      params: { type: 'object', required: ['project'], properties: { project: { type: 'string' } } },
    },
  }, projectPage);
  app.get('/wheels/find-links/', { config: { auth: { public: true } }, schema: { description: 'Every wheel as a link (HTML), for pip --find-links URL.' } }, async (_request, reply) =>
    html(reply, findLinksHtml(wheelhouse.list())),
  );
  app.get('/wheels/files/:filename', { config: { auth: { public: true } }, schema: { description: 'Download a wheel.', params: filenameParams } }, async (request, reply) => {
    const { filename } = request.params as { filename: string };
    const path = wheelhouse.filePath(filename);
    const wheel = wheelhouse.get(filename);
    if (wheel && request.headers['if-none-match'] === `"${wheel.sha256}"`) return reply.status(304).send();
    return reply
      .type('application/octet-stream')
      .header('content-length', String(wheel?.size ?? ''))
      .header('etag', `"${wheel?.sha256 ?? ''}"`)
      .header('cache-control', 'no-cache')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .send(createReadStream(path));
  });
}
