/**
 * The deployment service: what the API calls. Validates a deploy request, stores it durably
 * (manifest, uploaded build context) and queues it; deletes job versions; describes jobs.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive, type ExtractLimits } from '../build/index.js';
import { isPitlaneError, PitlaneError } from '../errors.js';
import { lintConfigFromObject } from '../dockerfile/index.js';
import type { InfrastructureTarget } from '../infra/index.js';
import { registryTrusted, validateManifest } from '../manifest/index.js';
import type { JobManifest } from '../manifest/types.js';
import type { DeploymentRecord, DeploymentRepository, JobRecord, JobRepository, ReplicaRecord } from '../store/index.js';
import { checkResources, type ResourcePolicy } from './container-spec.js';
import { validateImageCheckSections } from './image-checks.js';

/** Largest manifest text accepted (1 MiB): a manifest is a few hundred bytes; YAML parsing is not free. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A deploy request as the API receives it. */
export interface DeployRequest {
  /** The manifest: YAML text or an already-parsed object. */
  manifest: unknown;
  /** The build context archive (tar or tar.gz), when uploaded. */
  buildContext?: Readable;
  /** Redeploy an existing version. */
  force?: boolean;
  /**
   * Called with the validated manifest before anything is stored or extracted; throws (e.g. a 403
   * PitlaneError) to refuse the deployment.
   */
  authorize?: (manifest: JobManifest) => Promise<void> | void;
}

/** Dependencies of the {@link DeploymentService}. */
export interface DeploymentServiceOptions {
  deployments: DeploymentRepository;
  jobs: JobRepository;
  target: InfrastructureTarget;
  policy: ResourcePolicy;
  /** Directory where uploaded build contexts are kept until their deployment ends. */
  contextsDir: string;
  uploadLimits: ExtractLimits;
  /** Called after a deployment was queued (wakes the workers). */
  onQueued: () => void;
  onJobsChanged: () => Promise<void>;
  /** Parses manifest text (YAML) into the normalised manifest and warnings. */
  parseManifestText: (text: string) => { manifest: JobManifest; warnings: string[] };
  /** Registry hosts a deploy of a pre-built `image` may use (`parseTrustedRegistries`); empty or absent: any. */
  trustedRegistries?: string[];
}

/** Job version summary returned by the API. */
export interface JobView {
  name: string;
  version: string;
  status: string;
  status_reason: string | null;
  jobtype: string;
  image_id: string;
  image_tag: string;
  deployment_id: string;
  deployed_at: string;
  /** Gateway path prefix of this version. */
  url: string;
  replicas: { container_id: string; replica_index: number; address: string | null }[];
  manifest: JobManifest;
}

/** Deployment summary returned by the API. */
export interface DeploymentView {
  id: string;
  job_name: string;
  job_version: string;
  status: string;
  phase: string;
  source: string;
  warnings: string[];
  error: string | null;
  attempts: number;
  image_id: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** Dockerfile lint findings of the build. */
  lint: unknown[];
  /** The image report of the built image (dive's figures), or null. */
  image_report: unknown;
  /** Structure-test results, or null when the manifest declares none. */
  structure_tests: unknown;
  job?: JobView;
}

/** Shapes a job record for the API. */
export function jobView(job: JobRecord, replicas: ReplicaRecord[]): JobView {
  return {
    name: job.name,
    version: job.version,
    status: job.status,
    status_reason: job.statusReason,
    jobtype: job.jobtype,
    image_id: job.imageId,
    image_tag: job.imageTag,
    deployment_id: job.deploymentId,
    deployed_at: job.deployedAt,
    url: `/pub/job/${job.name}/${job.version}`,
    replicas: replicas.map((r) => ({
      container_id: r.containerId,
      replica_index: r.replicaIndex,
      address: r.host && r.port ? `${r.host}:${r.port}` : null,
    })),
    manifest: job.manifest as JobManifest,
  };
}

export class DeploymentService {
  constructor(private readonly options: DeploymentServiceOptions) {}

  /**
   * Validates and queues a deployment. Resolves once it is stored durably.
   * @throws PitlaneError 413 a manifest text over {@link MAX_MANIFEST_BYTES}, 400 invalid manifest or archive, 403 REGISTRY_FORBIDDEN (a pre-built
   * `image` from a registry outside the trusted list), 409 version exists (without force) or is
   * being deployed, 413 archive over the limits.
   */
  async deploy(request: DeployRequest): Promise<DeploymentRecord> {
    if (typeof request.manifest === 'string' && Buffer.byteLength(request.manifest) > MAX_MANIFEST_BYTES) {
      request.buildContext?.resume();
      throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, [{ path: 'manifest', message: 'too large' }]);
    }
    const { manifest, warnings } =
      typeof request.manifest === 'string'
        ? this.options.parseManifestText(request.manifest)
        : validateManifest(request.manifest);
    await request.authorize?.(manifest);
    checkResources(manifest, this.options.policy);
    validateImageCheckSections(manifest);
    try {
      lintConfigFromObject(manifest.lint, 'lint');
    } catch (error) {
      if (isPitlaneError(error)) throw new PitlaneError(400, 'MANIFEST_INVALID', error.message, error.details);
      throw error;
    }
    const sourceKind = request.buildContext ? 'upload' : manifest.image ? 'image' : manifest.git ? 'git' : undefined;
    if (!sourceKind) {
      throw new PitlaneError(400, 'SOURCE_MISSING', 'nothing to deploy: upload a build context, or set git.remote or image in the manifest', [
        { path: 'git.remote', message: 'required when no build context is uploaded and no image is given' },
      ]);
    }
    const trusted = this.options.trustedRegistries ?? [];
    if (sourceKind === 'image' && manifest.image && !registryTrusted(manifest.image, trusted)) {
      request.buildContext?.resume();
      throw new PitlaneError(403, 'REGISTRY_FORBIDDEN', `image ${manifest.image} does not come from a trusted registry (PITLANE_TRUSTED_REGISTRIES: ${trusted.join(', ')})`, [
        { path: 'image', message: 'not from a trusted registry' },
      ]);
    }
    const active = await this.options.deployments.findActive(manifest.name, manifest.version);
    if (active) {
      request.buildContext?.resume();
      throw new PitlaneError(409, 'DEPLOYMENT_IN_PROGRESS', `${manifest.name} ${manifest.version} is already being deployed (deployment ${active.id})`);
    }
    const existing = await this.options.jobs.get(manifest.name, manifest.version);
    if (existing && !request.force) {
      request.buildContext?.resume();
      throw new PitlaneError(409, 'VERSION_EXISTS', `${manifest.name} ${manifest.version} is already deployed; use force to redeploy it`, [
        { path: 'version', message: 'already deployed' },
      ]);
    }
    const id = randomUUID();
    let contextPath: string | null = null;
    if (request.buildContext) {
      contextPath = join(this.options.contextsDir, id);
      try {
        const summary = await extractArchive(request.buildContext, contextPath, this.options.uploadLimits);
        if (summary.entries === 0) throw new PitlaneError(400, 'ARCHIVE_INVALID', 'the build context archive is empty');
      } catch (error) {
        await rm(contextPath, { recursive: true, force: true });
        throw error;
      }
    }
    const record = await this.options.deployments.create({
      id,
      jobName: manifest.name,
      jobVersion: manifest.version,
      manifest,
      sourceKind,
      contextPath,
      force: request.force ?? false,
      warnings,
    });
    this.options.onQueued();
    return record;
  }

  /** The deployment with its job when done. @throws PitlaneError 404. */
  async describeDeployment(id: string): Promise<DeploymentView> {
    const deployment = await this.options.deployments.get(id);
    if (!deployment) throw new PitlaneError(404, 'DEPLOYMENT_NOT_FOUND', `no deployment with id "${id}"`);
    return this.deploymentView(deployment);
  }

  /** Shapes a deployment for the API, with the job view once it is done. */
  async deploymentView(deployment: DeploymentRecord): Promise<DeploymentView> {
    const view: DeploymentView = {
      id: deployment.id,
      job_name: deployment.jobName,
      job_version: deployment.jobVersion,
      status: deployment.status,
      phase: deployment.phase,
      source: deployment.sourceKind,
      warnings: deployment.warnings,
      error: deployment.error,
      attempts: deployment.attempts,
      image_id: deployment.imageId,
      created_at: deployment.createdAt,
      updated_at: deployment.updatedAt,
      finished_at: deployment.finishedAt,
      lint: deployment.lint,
      image_report: deployment.imageReport,
      structure_tests: deployment.structureTests,
    };
    if (deployment.status === 'done') {
      const job = await this.options.jobs.get(deployment.jobName, deployment.jobVersion);
      if (job && job.deploymentId === deployment.id) {
        view.job = jobView(job, await this.options.jobs.replicas(job.name, job.version));
      }
    }
    return view;
  }

  /** Every job version. */
  async listJobs(): Promise<JobView[]> {
    const replicas = await this.options.jobs.allReplicas();
    return (await this.options.jobs.list()).map((job) =>
      jobView(job, replicas.filter((r) => r.jobName === job.name && r.jobVersion === job.version)),
    );
  }

  /**
   * Deletes a job version: its record, containers and image tag.
   * @throws PitlaneError 404 unknown version, 409 a deployment of it is in progress.
   */
  async deleteJob(name: string, version: string): Promise<void> {
    const job = await this.options.jobs.get(name, version);
    if (!job) throw new PitlaneError(404, 'JOB_NOT_FOUND', `job "${name}" version "${version}" is not deployed`);
    const active = await this.options.deployments.findActive(name, version);
    if (active) throw new PitlaneError(409, 'DEPLOYMENT_IN_PROGRESS', `${name} ${version} is being deployed (deployment ${active.id}); wait for it to end`);
    const containers = await this.options.jobs.delete(name, version);
    await this.options.onJobsChanged();
    for (const containerId of containers) await this.options.target.removeContainer(containerId, 10);
    await this.options.target.removeImageTag(job.imageTag);
    const others = await this.options.jobs.list();
    if (!others.some((other) => other.imageId === job.imageId)) await this.options.target.removeImageTag(job.imageId).catch(() => undefined);
  }
}
