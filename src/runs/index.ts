/** One-shot runs: validation, execution, results, the run service. */
export { validateRunRequest, parseVolume, hostPathAllowed, RUN_REQUEST_FIELDS, type RunSpec, type RunPolicy, type RunVolume } from './spec.js';
export { RunEngine, normaliseTimestamp, splitTimestamp, type OutputLine, type RunContainerState } from './run-engine.js';
export { RunExecutor, runImageTag, resultsRoot, type RunExecutorOptions } from './executor.js';
export { RunService, checkDockerfile, type RunRequest, type RunView, type RunServiceOptions } from './service.js';
export { listResultFiles, resolveResultPath, extractResults, type ResultFile } from './results.js';
export { RunEvents } from './run-events.js';
export { resolveHostVolumes } from './host-paths.js';
