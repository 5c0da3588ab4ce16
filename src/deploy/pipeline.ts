/**
 * The deployment pipeline: fetch the source, lint, build, check the image, provision the replicas,
 * wait until they answer, then switch the job version over to them atomically. Each phase is
 * written to the database before its work starts. A failure at any point removes what this attempt
 * created and leaves the version that was serving untouched.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { exceedsThreshold, lintConfigFromObject, lintDockerfile, mergeLintConfig, parseLintConfig, type LintConfig } from '../dockerfile/index.js';
import { join, resolve, relative } from 'node:path';
import { cloneSource, packContext, refuseHostAccessFlags } from '../build/index.js';
import type { ContainerSpec, InfrastructureTarget } from '../infra/index.js';
import type { JobManifest } from '../manifest/types.js';
import type { DeploymentRecord, DeploymentRepository, JobRepository } from '../store/index.js';
import { isPitlaneError, PitlaneError } from '../errors.js';
import { buildContainerSpec, jobImageTag, type ResourcePolicy } from './container-spec.js';
import { waitUntilReady } from './readiness.js';
import { checkImage, type ImageChecker } from './image-checks.js';
import { BatchWriter, truncateLine } from '../queue/index.js';
import type { JobTypeBuilder, JobTypeSettings, PreparedBuild } from '../jobtypes/types.js';

/** What the pipeline needs, passed in by the composition root. */
export interface PipelineDependencies {
  deployments: DeploymentRepository;
  jobs: JobRepository;
  target: InfrastructureTarget;
  /** Directory for per-deployment work trees. */
  workDir: string;
  policy: ResourcePolicy;
  pubUrl: string;
  readyTimeoutMs: number;
  /** Longest a git clone may take, in ms (default 5 minutes); git is killed after it. */
  gitTimeoutMs?: number;
  /** Called after a job version was switched or changed, so the gateway reloads its routes. */
  onJobsChanged: () => Promise<void>;
  /** Job types that generate their Dockerfile (python3, node), by name; others use the user's Dockerfile. */
  jobTypes: Record<string, JobTypeBuilder>;
  /** Settings passed to job type generators (base images, wheelhouse). */
  jobTypeSettings: Omit<JobTypeSettings, 'commit'>;
  /** Reports on images and runs their structure tests. */
  imageChecker: ImageChecker;
  /**
   * Decrypts the build secrets a manifest names (`build_secrets`): key → value, given to the build
   * only as BuildKit secret mounts. Rejects with a 422 naming each missing key. Undefined: builds
   * that name build secrets fail.
   */
  buildSecrets?: (jobName: string, keys: readonly string[]) => Promise<Record<string, string>>;
  /** Structured logger. */
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** How many times an interrupted deployment is started again before it is failed. */
export const MAX_ATTEMPTS = 3;

/** Build-log lines of one deployment, written in batches. */
class LogWriter {
  private readonly batches: BatchWriter<string>;

  constructor(deployments: DeploymentRepository, deploymentId: string) {
    this.batches = new BatchWriter((lines) => deployments.appendLogs(deploymentId, lines));
  }

  line = (text: string): void => this.batches.add(truncateLine(text, 8192));

  flush(): Promise<void> {
    return this.batches.flush();
  }
}

/** A failure as one line for the deployment record: the message plus the fields or lines it names. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!isPitlaneError(error) || error.details.length === 0) return error.message;
  const notes = error.details
    .filter((d) => d.path || d.line)
    .map((d) => `${[d.path, d.line !== undefined ? `line ${d.line}` : ''].filter(Boolean).join(' ')}: ${d.message}`)
    .filter((note) => !error.message.includes(note));
  return notes.length > 0 ? `${error.message} (${notes.slice(0, 5).join('; ')})` : error.message;
}

/** Runs deployments. One instance serves all workers of a process. */
export class DeploymentPipeline {
  constructor(private readonly deps: PipelineDependencies) {}

  /**
   * Runs one claimed deployment to `done` or `failed`. Never throws: every failure is recorded on
   * the deployment with a reason.
   */
  async run(deployment: DeploymentRecord): Promise<void> {
    const { deployments, log } = this.deps;
    const logs = new LogWriter(deployments, deployment.id);
    const created: string[] = [];
    try {
      if (deployment.attempts > MAX_ATTEMPTS) {
        throw new PitlaneError(500, 'DEPLOYMENT_INTERRUPTED', `gave up after ${MAX_ATTEMPTS} interrupted attempts`);
      }
      if (deployment.attempts > 1) {
        logs.line(`Pitlane restarted during this deployment (attempt ${deployment.attempts}); starting it again`);
        await this.removeLeftovers(deployment.id);
      }
      await this.execute(deployment, logs, created);
      await logs.flush();
      await deployments.finish(deployment.id, { status: 'done' });
      log.info({ deployment: deployment.id, job: deployment.jobName, version: deployment.jobVersion }, 'deployment done');
    } catch (error) {
      const message = describeFailure(error);
      logs.line(`ERROR: ${message}`);
      await logs.flush();
      for (const containerId of created) await this.deps.target.removeContainer(containerId, 2).catch(() => undefined);
      await deployments.finish(deployment.id, { status: 'failed', error: message }).catch((e: Error) =>
        log.error({ err: e, deployment: deployment.id }, 'could not record the failure'),
      );
      log.warn({ deployment: deployment.id, error: message }, 'deployment failed');
    } finally {
      await rm(join(this.deps.workDir, deployment.id), { recursive: true, force: true }).catch(() => undefined);
      const finished = await deployments.get(deployment.id).catch(() => undefined);
      if (deployment.contextPath && finished && (finished.status === 'done' || finished.status === 'failed')) {
        await rm(deployment.contextPath, { recursive: true, force: true }).catch(() => undefined);
      }
    }
  }

  /** Removes containers an interrupted earlier attempt of this deployment created but never activated. */
  private async removeLeftovers(deploymentId: string): Promise<void> {
    const active = new Set((await this.deps.jobs.allReplicas()).map((r) => r.containerId));
    for (const container of await this.deps.target.listManagedContainers()) {
      if (container.labels['pitlane.deployment'] === deploymentId && !active.has(container.id)) {
        await this.deps.target.removeContainer(container.id, 2);
      }
    }
  }

  /**
   * Lints the Dockerfile with the context's `.hadolint.yaml` (if any) and the manifest's `lint:`
   * section (which wins), stores the findings, and stops the build when they reach the failure
   * threshold (default `error`).
   * @throws PitlaneError 422 LINT_FAILED listing the findings at or above the threshold.
   */
  private async lint(deploymentId: string, manifest: JobManifest, dockerfileName: string, contextDir: string, dockerfile: string, logs: LogWriter): Promise<void> {
    let contextConfig: LintConfig | undefined;
    for (const name of ['.hadolint.yaml', '.hadolint.yml']) {
      const text = await readFile(join(contextDir, name), 'utf8').catch(() => undefined);
      if (text !== undefined) {
        contextConfig = parseLintConfig(text);
        break;
      }
    }
    const config = mergeLintConfig(contextConfig, lintConfigFromObject(manifest.lint, 'lint'));
    const hasDockerignore = existsSync(join(contextDir, '.dockerignore'));
    const { findings } = lintDockerfile(dockerfile, { ...config, hasDockerignore });
    await this.deps.deployments.setChecks(deploymentId, { lint: findings });
    logs.line(`lint: ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
    for (const f of findings) logs.line(`  ${dockerfileName}:${f.line}:${f.column} ${f.code} ${f.severity}: ${f.message}`);
    const threshold = config.failureThreshold ?? 'error';
    if (exceedsThreshold(findings, threshold)) {
      const failing = findings.filter((f) => exceedsThreshold([f], threshold));
      throw new PitlaneError(
        422,
        'LINT_FAILED',
        `the Dockerfile has ${failing.length} lint finding(s) at or above the failure threshold "${threshold}": ${failing
          .slice(0, 5)
          .map((f) => `line ${f.line} ${f.code} ${f.message}`)
          .join('; ')}`,
        failing.map((f) => ({ path: dockerfileName, line: f.line, column: f.column, message: `${f.code} ${f.message}` })),
      );
    }
  }

  /**
   * The decrypted build secrets the manifest names, or undefined when it names none.
   * @throws PitlaneError 422 when one is not set, or when this server cannot provide build secrets.
   */
  private async buildSecrets(manifest: JobManifest): Promise<Record<string, string> | undefined> {
    const keys = manifest.build_secrets ?? [];
    if (keys.length === 0) return undefined;
    if (!this.deps.buildSecrets) {
      throw new PitlaneError(422, 'BUILD_SECRETS_UNAVAILABLE', 'this server cannot provide build secrets', [{ path: 'build_secrets', message: 'not available on this server' }]);
    }
    return this.deps.buildSecrets(manifest.name, keys);
  }

  private async execute(deployment: DeploymentRecord, logs: LogWriter, created: string[]): Promise<void> {
    const { deployments, target, jobs } = this.deps;
    const manifest = deployment.manifest as JobManifest;
    const work = join(this.deps.workDir, deployment.id);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });

    await deployments.setPhase(deployment.id, 'fetching_source');
    let contextDir: string | undefined;
    let commit: string | undefined;
    if (deployment.sourceKind === 'upload') {
      if (!deployment.contextPath) throw new PitlaneError(400, 'BUILD_CONTEXT_MISSING', 'the uploaded build context is missing');
      contextDir = deployment.contextPath;
      logs.line('using the uploaded build context');
    } else if (deployment.sourceKind === 'git') {
      if (!manifest.git) throw new PitlaneError(400, 'MANIFEST_INVALID', 'git.remote is required', [{ path: 'git.remote', message: 'required' }]);
      logs.line(`cloning ${manifest.git.remote}${manifest.git.branch ? ` (branch ${manifest.git.branch})` : ''}`);
      const cloned = await cloneSource(manifest.git, join(work, 'repo'), this.deps.gitTimeoutMs);
      contextDir = cloned.contextDir;
      commit = cloned.commit;
      logs.line(`cloned commit ${commit}`);
    }

    const tag = jobImageTag(manifest.name, manifest.version);
    let imageId: string;
    let prepared: PreparedBuild | undefined;
    if (contextDir) {
      await deployments.setPhase(deployment.id, 'linting');
      const builder = this.deps.jobTypes[manifest.jobtype];
      if (builder) {
        prepared = await builder.prepare(manifest, contextDir, { ...this.deps.jobTypeSettings, commit: commit ?? null });
        if (prepared.warnings.length > 0) await deployments.addWarnings(deployment.id, prepared.warnings);
        logs.line(`${manifest.jobtype}: generated ${prepared.dockerfilePath}`);
      } else if (manifest.jobtype === 'python3' || manifest.jobtype === 'node') {
        throw new PitlaneError(422, 'JOBTYPE_UNAVAILABLE', `job type ${manifest.jobtype} is not available on this server`, [{ path: 'jobtype', message: 'not available' }]);
      }
      const dockerfileName = prepared?.dockerfilePath ?? manifest.dockerfile_path;
      const dockerfilePath = resolve(contextDir, dockerfileName);
      if (relative(contextDir, dockerfilePath).startsWith('..')) {
        throw new PitlaneError(400, 'MANIFEST_INVALID', 'dockerfile_path escapes the build context', [
          { path: 'docker.dockerfile_path', message: 'must stay inside the build context' },
        ]);
      }
      const dockerfile = await readFile(dockerfilePath, 'utf8').catch(() => undefined);
      if (dockerfile === undefined) {
        throw new PitlaneError(422, 'DOCKERFILE_MISSING', `no Dockerfile at "${manifest.dockerfile_path}" in the build context`, [
          { path: 'docker.dockerfile_path', message: 'file not found in the build context' },
        ]);
      }
      if (!/^\s*FROM\s/im.test(dockerfile)) {
        throw new PitlaneError(422, 'DOCKERFILE_INVALID', `${manifest.dockerfile_path} has no FROM instruction`);
      }
      refuseHostAccessFlags(dockerfile, 'docker.dockerfile_path');
      await this.lint(deployment.id, manifest, dockerfileName, contextDir, dockerfile, logs);

      await deployments.setPhase(deployment.id, 'building');
      logs.line(`building ${tag}`);
      const labels: Record<string, string> = {
        'pitlane.managed': 'true',
        'pitlane.job': manifest.name,
        'pitlane.version': manifest.version,
        // No deployment id here: a label that changes every build would defeat the layer cache (it is on the containers).
      };
      if (commit) labels['pitlane.git-commit'] = commit;
      // Not again through the build API what a generated Dockerfile already sets before the code:
      // the legacy builder runs each API label as one more step after it, on every code change.
      const preset = prepared?.imageLabels ?? {};
      const apiLabels = Object.fromEntries(Object.entries(labels).filter(([key, value]) => preset[key] !== value));
      const secrets = await this.buildSecrets(manifest);
      if (secrets) logs.line(`build secrets ${Object.keys(secrets).join(', ')}: BuildKit secret mounts (RUN --mount=type=secret,id=KEY)`);
      try {
        const built = await target.buildImage(
          packContext(contextDir, dockerfileName),
          { tag, dockerfile: dockerfileName, buildArgs: manifest.build_args, labels: apiLabels, ...(secrets ? { secrets } : {}) },
          logs.line,
        );
        imageId = built.imageId;
      } catch (error) {
        throw new PitlaneError(422, 'BUILD_FAILED', `the image build failed: ${(error as Error).message}`);
      }
    } else {
      if (!manifest.image) throw new PitlaneError(400, 'MANIFEST_INVALID', 'no source: give git.remote, image, or upload a build context');
      await deployments.setPhase(deployment.id, 'building');
      logs.line(`using pre-built image ${manifest.image}`);
      try {
        imageId = (await target.ensureImage(manifest.image, logs.line)).imageId;
      } catch (error) {
        throw new PitlaneError(422, 'IMAGE_NOT_FOUND', (error as Error).message, [{ path: 'image', message: (error as Error).message }]);
      }
      await target.tagImage(imageId, tag);
    }
    await deployments.setImage(deployment.id, imageId);
    logs.line(`image ${imageId}`);

    await deployments.setPhase(deployment.id, 'checking_image');
    // With gates or structure tests the report decides the deployment; without, it is only
    // information, computed after the version serves so it costs the deployment no time.
    const gated = manifest.image_checks !== undefined || manifest.structure_tests !== undefined;
    if (gated) {
      try {
        const checked = await checkImage(this.deps.imageChecker, imageId, manifest, logs.line);
        await deployments.setChecks(deployment.id, { imageReport: checked.report, structureTests: checked.structureTests });
      } catch (error) {
        const outcome = (error as { outcome?: { report: unknown; structureTests?: unknown } }).outcome;
        if (outcome) await deployments.setChecks(deployment.id, { imageReport: outcome.report, structureTests: outcome.structureTests });
        else if (!isPitlaneError(error)) throw new PitlaneError(422, 'IMAGE_REPORT_FAILED', `the image could not be analysed: ${(error as Error).message}`);
        throw error;
      }
    }

    await deployments.setPhase(deployment.id, 'provisioning');
    const spec: ContainerSpec = buildContainerSpec({
      manifest,
      deploymentId: deployment.id,
      image: imageId,
      policy: this.deps.policy,
      pubUrl: this.deps.pubUrl,
      deployedAtMs: Date.now(),
      port: prepared?.port,
    });
    for (let index = 0; index < manifest.replicas; index += 1) {
      const containerId = await target.startReplica(spec, index, {}, false);
      created.push(containerId);
      logs.line(`started replica ${index} as container ${containerId.slice(0, 12)}`);
    }

    await deployments.setPhase(deployment.id, 'waiting_ready');
    const addresses: { containerId: string; replicaIndex: number; host: string; port: number }[] = [];
    for (const [index, containerId] of created.entries()) {
      const result = await waitUntilReady(target, containerId, spec.port, this.deps.readyTimeoutMs, { readinessPath: prepared?.readinessPath ?? null });
      if (!result.ready) throw new PitlaneError(422, 'JOB_NOT_READY', `replica ${index}: ${result.reason}`);
      await target.enableRestarts(containerId);
      addresses.push({ containerId, replicaIndex: index, host: result.host, port: result.port });
      logs.line(`replica ${index} answers on port ${spec.port}`);
    }

    const previous = await jobs.get(manifest.name, manifest.version);
    const replaced = await jobs.activate(
      {
        name: manifest.name,
        version: manifest.version,
        status: 'running',
        statusReason: null,
        jobtype: manifest.jobtype,
        manifest,
        imageId,
        imageTag: tag,
        deploymentId: deployment.id,
        containerSpec: spec,
      },
      addresses.map((a) => ({ containerId: a.containerId, replicaIndex: a.replicaIndex, host: a.host, port: a.port })),
    );
    created.length = 0;
    await this.deps.onJobsChanged();
    // The new replicas serve now; the replaced ones stop (up to their grace period) in the
    // background. They are no longer in the replicas table, so if Pitlane stops before they are
    // gone, reconciliation removes them as orphans.
    // The previous image goes once no container uses it.
    const previousImage = previous && previous.imageId !== imageId ? previous.imageId : undefined;
    void Promise.all(replaced.map((containerId) => target.removeContainer(containerId, 10).catch(() => undefined))).then(async () => {
      if (previousImage) await target.removeImageTag(previousImage).catch(() => undefined);
    });
    logs.line(`${manifest.name} ${manifest.version} is serving`);
    if (!gated) {
      void checkImage(this.deps.imageChecker, imageId, manifest, () => undefined)
        .then((checked) => deployments.setChecks(deployment.id, { imageReport: checked.report }))
        .catch((error: Error) => this.deps.log.warn({ deployment: deployment.id, err: error }, 'image report failed'));
    }
  }
}
