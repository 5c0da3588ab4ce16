/** The deployment pipeline, its workers, and reconciliation. */
export { DeploymentPipeline, MAX_ATTEMPTS, type PipelineDependencies } from './pipeline.js';
export { createDeploymentWorkers, type WorkerOptions } from './worker.js';
export { Reconciler, type ReconcilerOptions, type ReconcileSummary } from './reconciler.js';
export { buildContainerSpec, checkResources, jobImageTag, REQUEST_ID_HEADER, type ResourcePolicy } from './container-spec.js';
export { waitUntilReady, answersHttp, type ReadinessResult } from './readiness.js';
export { DeploymentService, jobView, type DeployRequest, type DeploymentServiceOptions, type JobView, type DeploymentView } from './service.js';
export { DockerImageChecker, checkImage, validateImageCheckSections, type ImageChecker, type ImageCheckOutcome } from './image-checks.js';
