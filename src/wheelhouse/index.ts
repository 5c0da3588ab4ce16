/** The wheelhouse (seed 004): a checked wheel store, its PEP 503 index pages, and wheel builds in a builder container. */
export {
  parseWheelFilename,
  isWheelFilename,
  normalizeProjectName,
  isValidProjectName,
  normalizeVersion,
  versionsEqual,
  MAX_WHEEL_FILENAME_LENGTH,
  type WheelFilename,
} from './names.js';
export { ZipArchive, ZipError, ZipLimitError, DEFAULT_ZIP_LIMITS, type ZipEntry, type ZipLimits } from './zip.js';
export { inspectWheel, parseHeaders, parseCsvLine, type WheelInfo } from './inspect.js';
export { Wheelhouse, copyWheelsForBuild, writeFileDurably, type WheelRecord, type WheelhouseOptions, type AddResult } from './store.js';
export { simpleRootHtml, simpleProjectHtml, findLinksHtml, escapeHtml } from './html.js';
export {
  buildWheels,
  builderDockerfile,
  checkRequirements,
  requirementLines,
  pipFailure,
  DockerWheelBuildEngine,
  DEFAULT_BUILDER_BASE_IMAGE,
  DEFAULT_BUILDER_APT_PACKAGES,
  BUILDER_REQUIREMENTS_PATH,
  MAX_REQUIREMENTS_BYTES,
  type BuilderRun,
  type WheelBuildEngine,
  type DockerWheelBuildEngineOptions,
  type WheelBuildInput,
  type WheelBuildOptions,
  type WheelBuildResult,
} from './builder.js';
export { WheelBuildService, readLimited, type WheelBuildRecord, type WheelBuildStatus, type WheelBuildServiceOptions } from './builds.js';
