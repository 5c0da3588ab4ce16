/**
 * Executes claimed runs: build (when a Dockerfile was given) or make sure the image exists, create
 * the locked-down container (its id recorded before it starts), store its output as it streams,
 * enforce the timeout and cancellation, copy the results out, remove the container.
 *
 * A run claimed again after Pitlane died (attempts > 1) is resumed: a container that still runs is
 * re-attached (output after the last stored line), one that ended is settled from its exit code;
 * a run that was still building starts its build again.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { packContext, type ExtractLimits } from '../build/index.js';
import type { InfrastructureTarget } from '../infra/index.js';
import type { RunRecord, RunRepository } from '../store/index.js';
import type { RunEngine } from './run-engine.js';
import { BatchWriter, truncateLine } from '../queue/index.js';
import { extractResults, listResultFiles, type ResultFile } from './results.js';
import type { RunEvents } from './run-events.js';
import type { RunSpec } from './spec.js';

/** Dependencies of the {@link RunExecutor}. */
export interface RunExecutorOptions {
  runs: RunRepository;
  engine: RunEngine;
  /** Builds images and makes sure images exist. */
  target: InfrastructureTarget;
  /** Directory of per-run workspaces (`<dir>/<run id>/context`, `.../results`). */
  runsDir: string;
  /** Seconds between SIGTERM and SIGKILL when a run is cancelled or times out. */
  stopGraceSeconds: number;
  resultLimits: ExtractLimits;
  /**
   * `bind`: the results directory is a host directory under `runsDir` mounted into the container
   * (Pitlane runs on the engine's host; nothing to copy); `copy`: an anonymous volume copied out.
   */
  resultsMode: 'bind' | 'copy';
  /** Wakes log followers when lines are stored or the run ends. */
  events: RunEvents;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

type Outcome = { status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; exitCode: number | null; error: string | null };

/** Log lines of one run, written in batches; followers are woken after each batch. */
class RunLogWriter {
  private readonly batches: BatchWriter<{ stream: string; time: string; line: string }>;

  constructor(runs: RunRepository, runId: string, events: RunEvents) {
    this.batches = new BatchWriter(async (lines) => {
      await runs.appendLogs(runId, lines);
      events.notify(runId);
    });
  }

  add(line: { stream: string; time: string; line: string }): void {
    this.batches.add({ ...line, line: truncateLine(line.line, 16_384) });
  }

  system(text: string): void {
    this.add({ stream: 'system', time: new Date().toISOString(), line: text });
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }
}

export class RunExecutor {
  /** Cancellation hooks of runs executing in this process, by run id. */
  private readonly active = new Map<string, () => void>();
  /** Aborted when this process shuts down: supervision stops, containers keep running. */
  private readonly shutdown = new AbortController();

  constructor(private readonly options: RunExecutorOptions) {}

  /** Cancels a run executing in this process at once (other processes notice the database flag). */
  cancelLocally(runId: string): void {
    this.active.get(runId)?.();
  }

  /**
   * Stops supervising runs without stopping their containers (process shut-down). The runs stay
   * `running` with their lease left to expire, so a restarted Pitlane resumes them.
   */
  detachAll(): void {
    this.shutdown.abort();
  }

  /** Runs (or resumes) one claimed run to a terminal status. Never throws. */
  async execute(run: RunRecord): Promise<void> {
    const { runs, log } = this.options;
    const logs = new RunLogWriter(runs, run.id, this.options.events);
    let containerId = run.containerId;
    let outcome: Outcome;
    let results: ResultFile[] = [];
    try {
      if (run.status === 'queued' && run.cancelRequested) {
        outcome = { status: 'cancelled', exitCode: null, error: 'cancelled before it started' };
      } else {
        const spec = run.spec as RunSpec;
        if (run.attempts > 1) logs.system(`Pitlane restarted while this run was ${run.status}; resuming (attempt ${run.attempts})`);
        let resumed = false;
        if (containerId && run.status === 'running') {
          const state = await this.options.engine.inspect(containerId);
          if (state.status === 'missing') {
            outcome = { status: 'failed', exitCode: null, error: 'the run container disappeared while Pitlane was down' };
            containerId = null;
            await logs.flush();
            await runs.finish(run.id, { ...outcome, results: [] });
            this.options.events.notify(run.id);
            return;
          }
          resumed = true;
        } else if (containerId) {
          // Created but maybe never started (crash between create and start): start over.
          await this.options.engine.remove(containerId);
          containerId = null;
        }
        if (!resumed) {
          const image = await this.prepareImage(run, spec, logs);
          let resultsHostDir: string | null = null;
          if (this.options.resultsMode === 'bind') {
            resultsHostDir = resultsRoot(this.options.runsDir, run.id, spec.resultsDir);
            await rm(resultsHostDir, { recursive: true, force: true });
            await mkdir(resultsHostDir, { recursive: true });
            await chmod(resultsHostDir, 0o777); // any container user may write its results
          }
          containerId = await this.options.engine.create(run.id, spec, image, resultsHostDir);
          await runs.update(run.id, { containerId });
          await runs.setStatus(run.id, 'running');
          this.options.events.notify(run.id);
          await this.options.engine.start(containerId);
        }
        const supervised = await this.supervise(run, spec, containerId as string, resumed, logs);
        if (supervised === 'detached') {
          await logs.flush();
          return;
        }
        outcome = supervised;
        results = await this.collectResults(run.id, spec, containerId as string, logs);
      }
    } catch (error) {
      outcome = { status: 'failed', exitCode: null, error: (error as Error).message };
      logs.system(`ERROR: ${(error as Error).message}`);
    }
    await logs.flush();
    await runs.finish(run.id, { ...outcome, results }).catch((error: unknown) => log.error({ err: error, run: run.id }, 'could not record the run outcome'));
    this.options.events.notify(run.id);
    if (containerId) await this.options.engine.remove(containerId).catch((error: unknown) => log.warn({ err: error, run: run.id }, 'could not remove the run container'));
    const spec = run.spec as RunSpec | undefined;
    if (spec?.source?.kind === 'dockerfile') await this.options.target.removeImageTag(runImageTag(run.id)).catch(() => undefined);
    await rm(join(this.options.runsDir, run.id, 'context'), { recursive: true, force: true }).catch(() => undefined);
  }

  /** Builds the run's Dockerfile (with lint findings stored) or makes sure its image exists; returns the image to run. */
  private async prepareImage(run: RunRecord, spec: RunSpec, logs: RunLogWriter): Promise<string> {
    const { runs, target } = this.options;
    if (spec.source.kind === 'image') {
      const { imageId } = await target.ensureImage(spec.source.image, (line) => logs.system(line)).catch((error: Error) => {
        throw new Error(`image ${spec.source.kind === 'image' ? spec.source.image : ''} is not available: ${error.message}`);
      });
      await runs.update(run.id, { imageId });
      return imageId;
    }
    await runs.setStatus(run.id, 'building');
    const contextDir = run.contextPath ?? join(this.options.runsDir, run.id, 'context');
    // The findings were computed when the run was submitted (RunService.submit).
    const findings = run.lint;
    logs.system(`building the Dockerfile (${findings.length} lint finding${findings.length === 1 ? '' : 's'})`);
    const tag = runImageTag(run.id);
    const { imageId } = await target
      .buildImage(packContext(contextDir, spec.source.dockerfile), { tag, dockerfile: spec.source.dockerfile, buildArgs: spec.buildArgs, labels: { 'pitlane.managed': 'true', 'pitlane.run': run.id } }, (line) => logs.system(line))
      .catch((error: Error) => {
        throw new Error(`the image build failed: ${error.message}`);
      });
    await runs.update(run.id, { imageId });
    return imageId;
  }

  /** Streams output, enforces timeout and cancellation, and resolves the outcome once the container stopped. */
  private async supervise(run: RunRecord, spec: RunSpec, containerId: string, resumed: boolean, logs: RunLogWriter): Promise<Outcome | 'detached'> {
    const { engine, runs } = this.options;
    const since = resumed ? await runs.lastOutputTime(run.id) : undefined;
    const following = new AbortController();
    const output = engine.followOutput(containerId, since, (line) => logs.add(line), following.signal).catch(() => undefined);
    let reason: 'timed_out' | 'cancelled' | undefined;
    let waitedExitCode: number | undefined;
    const stop = (why: 'timed_out' | 'cancelled'): void => {
      if (reason) return;
      reason = why;
      logs.system(why === 'timed_out' ? `timeout of ${spec.timeoutS} s reached; stopping the container` : 'cancelled; stopping the container');
      void engine.stop(containerId, this.options.stopGraceSeconds).catch(() => undefined);
    };
    const started = resumed && run.startedAt ? Date.parse(run.startedAt) : Date.now();
    const remainingMs = Math.max(0, spec.timeoutS * 1000 - (Date.now() - started));
    const timeout = setTimeout(() => stop('timed_out'), remainingMs);
    const cancelPoll = setInterval(() => {
      void runs.isCancelRequested(run.id).then((yes) => yes && stop('cancelled'), () => undefined);
    }, 1000);
    this.active.set(run.id, () => stop('cancelled'));
    try {
      if (run.cancelRequested) stop('cancelled');
      const detached = new Promise<'detached'>((resolve) => {
        if (this.shutdown.signal.aborted) resolve('detached');
        this.shutdown.signal.addEventListener('abort', () => resolve('detached'), { once: true });
      });
      const waited = await Promise.race([engine.wait(containerId), detached]);
      if (waited === 'detached') {
        following.abort();
        await output;
        return 'detached';
      }
      waitedExitCode = waited;
    } finally {
      clearTimeout(timeout);
      clearInterval(cancelPoll);
      this.active.delete(run.id);
    }
    // The output stream ends right after the container; give stragglers a moment, no more.
    await Promise.race([output, new Promise((resolve) => setTimeout(resolve, 2000))]);
    following.abort();
    const state = waitedExitCode === 0 ? { exitCode: 0, oomKilled: false } : await engine.inspect(containerId);
    const exitCode = state.exitCode ?? waitedExitCode ?? null;
    if (reason === 'timed_out') return { status: 'timed_out', exitCode, error: `the run exceeded its timeout of ${spec.timeoutS} s` };
    if (reason === 'cancelled') return { status: 'cancelled', exitCode, error: 'cancelled' };
    if (exitCode === 0) return { status: 'succeeded', exitCode, error: null };
    const oom = state.oomKilled ? ' (killed: out of memory)' : '';
    return { status: 'failed', exitCode, error: `the container exited with code ${exitCode ?? 'unknown'}${oom}` };
  }

  private async collectResults(runId: string, spec: RunSpec, containerId: string, logs: RunLogWriter): Promise<ResultFile[]> {
    if (this.options.resultsMode === 'bind') {
      try {
        return await listResultFiles(resultsRoot(this.options.runsDir, runId, spec.resultsDir));
      } catch (error) {
        logs.system(`could not list the results: ${(error as Error).message}`);
        return [];
      }
    }
    const destination = join(this.options.runsDir, runId, 'results');
    await rm(destination, { recursive: true, force: true });
    await mkdir(destination, { recursive: true });
    try {
      const archive = await this.options.engine.copyOut(containerId, spec.resultsDir);
      if (!archive) return [];
      const root = await extractResults(archive, destination, spec.resultsDir, this.options.resultLimits);
      return await listResultFiles(root);
    } catch (error) {
      logs.system(`could not collect the results: ${(error as Error).message}`);
      return [];
    }
  }
}

/** Tag of the image built for a run. */
export function runImageTag(runId: string): string {
  return `pitlane-run/${runId}:latest`;
}

/** Where a run's results are kept: `<runsDir>/<id>/results/<basename of results_dir>`. */
export function resultsRoot(runsDir: string, runId: string, resultsDir: string): string {
  return join(runsDir, runId, 'results', resultsDir.split('/').filter(Boolean).pop() ?? 'data');
}
