/**
 * The run service: what the API calls. Validates a run request, stores its build context and the
 * run durably, queues it; reads, lists and cancels runs.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive, refuseHostAccessFlags, type ExtractLimits } from '../build/index.js';
import { lintDockerfile, type Finding } from '../dockerfile/index.js';
import { PitlaneError } from '../errors.js';
import type { RunRecord, RunRepository } from '../store/index.js';
import type { RunStatus } from '../store/schema.js';
import { resultsRoot } from './executor.js';
import { resolveHostVolumes } from './host-paths.js';
import { validateRunRequest, type RunPolicy, type RunSpec } from './spec.js';

/** A run request as the API hands it over. */
export interface RunRequest {
  /** JSON fields (image, command, env, volumes, ...). */
  fields: Record<string, unknown>;
  /** Dockerfile text, from a multipart `file` or the JSON `dockerfile` field. */
  dockerfile?: string;
  /** Build context archive (tar or tar.gz). */
  context?: Readable;
  /** Who submits it (`user:alice`), recorded with the run. */
  createdBy?: string;
}

/** A run as the API returns it (seed 002's status plus everything DESIGN.md's run contract names). */
export interface RunView {
  id: string;
  status: RunStatus;
  exit_code: number | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Milliseconds from start to finish (or to now while running), null before it started. */
  duration_ms: number | null;
  image: string | null;
  image_id: string | null;
  lint: unknown[];
  results: unknown[];
  results_dir: string;
}

export interface RunServiceOptions {
  runs: RunRepository;
  policy: RunPolicy;
  runsDir: string;
  uploadLimits: ExtractLimits;
  onQueued: () => void;
  onCancel: (runId: string) => void;
}

/**
 * Checks an uploaded Dockerfile: not empty, parseable, has FROM. Returns its lint findings (stored
 * with the run, so the build does not lint it again).
 * @throws PitlaneError 400 naming the line.
 */
export function checkDockerfile(text: string): Finding[] {
  if (text.trim() === '') throw new PitlaneError(400, 'DOCKERFILE_INVALID', 'the Dockerfile is empty', [{ path: 'file', message: 'empty' }]);
  if (text.includes('\0')) throw new PitlaneError(400, 'DOCKERFILE_INVALID', 'the upload is not a Dockerfile (binary data)', [{ path: 'file', line: 1, message: 'binary data' }]);
  const { findings } = lintDockerfile(text);
  const parseErrors = findings.filter((f) => f.code === 'PL0001');
  if (parseErrors.length > 0) {
    throw new PitlaneError(
      400,
      'DOCKERFILE_INVALID',
      `the Dockerfile cannot be parsed: line ${parseErrors[0]!.line}: ${parseErrors[0]!.message}`,
      parseErrors.map((f) => ({ path: 'file', line: f.line, column: f.column, message: f.message })),
    );
  }
  if (!/^\s*FROM\s/im.test(text)) throw new PitlaneError(400, 'DOCKERFILE_INVALID', 'the Dockerfile has no FROM instruction', [{ path: 'file', line: 1, message: 'no FROM' }]);
  refuseHostAccessFlags(text, 'file');
  return findings;
}

export class RunService {
  constructor(private readonly options: RunServiceOptions) {}

  /**
   * Validates and queues a run; resolves once it is stored.
   * @throws PitlaneError 400 (invalid fields, Dockerfile, archive), 403 (host path), 413 (too large).
   */
  async submit(request: RunRequest): Promise<RunRecord> {
    const id = randomUUID();
    const workspace = join(this.options.runsDir, id);
    const contextDir = join(workspace, 'context');
    const { dockerfile: jsonDockerfile, build_context: _ignored, ...fields } = request.fields;
    let dockerfile = request.dockerfile ?? (typeof jsonDockerfile === 'string' ? jsonDockerfile : undefined);
    if (jsonDockerfile !== undefined && typeof jsonDockerfile !== 'string') {
      throw new PitlaneError(400, 'RUN_INVALID', 'dockerfile must be the Dockerfile text', [{ path: 'dockerfile', message: 'must be a string' }]);
    }
    try {
      if (request.context) {
        await extractArchive(request.context, contextDir, this.options.uploadLimits);
        if (dockerfile === undefined) {
          dockerfile = await readFile(join(contextDir, 'Dockerfile'), 'utf8').catch(() => {
            throw new PitlaneError(400, 'RUN_INVALID', 'the build context has no Dockerfile at its root and none was uploaded', [{ path: 'context', message: 'no Dockerfile' }]);
          });
        }
      }
      const lint = dockerfile !== undefined ? checkDockerfile(dockerfile) : [];
      const validated: RunSpec = validateRunRequest(fields, this.options.policy, dockerfile);
      const spec: RunSpec = { ...validated, volumes: await resolveHostVolumes(validated.volumes, this.options.policy.allowedHostPaths) };
      if (dockerfile !== undefined) {
        await mkdir(contextDir, { recursive: true });
        await writeFile(join(contextDir, 'Dockerfile'), dockerfile);
      }
      const record = await this.options.runs.create({ id, spec, contextPath: dockerfile !== undefined ? contextDir : null, lint, createdBy: request.createdBy });
      this.options.onQueued();
      return record;
    } catch (error) {
      await rm(workspace, { recursive: true, force: true });
      throw error;
    }
  }

  /** The run. @throws PitlaneError 404. */
  async get(id: string): Promise<RunRecord> {
    const run = await this.options.runs.get(id);
    if (!run) throw new PitlaneError(404, 'RUN_NOT_FOUND', `no run with id "${id}"`, [{ path: 'id', message: 'unknown run' }]);
    return run;
  }

  /** Asks for cancellation. @returns the run after the request. @throws PitlaneError 404. */
  async cancel(id: string): Promise<RunRecord> {
    const outcome = await this.options.runs.requestCancel(id);
    if (outcome === 'missing') throw new PitlaneError(404, 'RUN_NOT_FOUND', `no run with id "${id}"`);
    if (outcome === 'requested') this.options.onCancel(id);
    return this.get(id);
  }

  /** Directory of a run's result files. */
  resultsRoot(run: RunRecord): string {
    return resultsRoot(this.options.runsDir, run.id, (run.spec as RunSpec).resultsDir);
  }

  /** Shapes a run for the API. */
  view(run: RunRecord): RunView {
    const spec = run.spec as RunSpec;
    const start = run.startedAt ? Date.parse(run.startedAt) : null;
    const end = run.finishedAt ? Date.parse(run.finishedAt) : null;
    return {
      id: run.id,
      status: run.status,
      exit_code: run.exitCode,
      error: run.error,
      created_at: run.createdAt,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      duration_ms: start === null ? null : (end ?? Date.now()) - start,
      image: spec.source.kind === 'image' ? spec.source.image : null,
      image_id: run.imageId,
      lint: run.lint,
      results: run.results,
      results_dir: spec.resultsDir,
    };
  }
}
