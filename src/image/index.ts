/**
 * Image report and structure tests (issue 4): the public API of `src/image/`.
 *
 * - {@link analyzeImageArchive}: dive-compatible layer report of a `docker save` / OCI archive stream.
 * - {@link evaluateImageChecks}, {@link parseDiveCiConfig}: `.dive-ci` CI gates.
 * - {@link formatImageReport}: a table, or JSON in dive's export shape.
 * - {@link parseStructureTests}, {@link runStructureTests}: container-structure-test schema 2.0.0,
 *   with {@link DockerStructureTestRunner} as the Docker-backed runner.
 */
export { analyzeImageArchive, reportFromContents } from './analyze.js';
export type { AnalyzeImageOptions, DiveFileInfo, ImageReport, InefficientFile, LayerReport } from './types.js';
export { DEFAULT_ARCHIVE_LIMITS, readImageArchive } from './archive-reader.js';
export type { ArchiveContents, ArchiveLimits, IndexedBlob, ReadArchiveOptions } from './archive-reader.js';
export type { ImageConfigJson, ImageSelection } from './archive-layout.js';
export { buildImageReport } from './report.js';
export type { BuildReportOptions, ReportImageInput, ReportLayerInput } from './report.js';
export { diveEfficiency, diveFigures } from './dive-efficiency.js';
export type { DiveEfficiencyResult, DiveFigures, DiveInefficiency } from './dive-efficiency.js';
export { overlayAnalysis } from './overlay.js';
export type { LayerChanges, OverlayResult } from './overlay.js';
export { LayerIndex } from './layer-index.js';
export {
  DIVE_CI_DEFAULT_RULES,
  DIVE_RULE_KEYS,
  evaluateImageChecks,
  normalizeImageCheckRules,
  parseDiveCiConfig,
} from './dive-ci.js';
export type { DiveCiConfig, ImageCheckResult, ImageCheckRuleName, ImageCheckRules, ImageChecksEvaluation } from './dive-ci.js';
export { formatImageReport, toDiveExport } from './format.js';
export type { DiveExport } from './format.js';
export { humanizeBytes, parseHumanBytes } from './go-compat.js';
export { parseStructureTests } from './structure-schema.js';
export type {
  CommandTest,
  ContainerRunOptions,
  EnvVar,
  FileContentTest,
  FileExistenceTest,
  LicenseTest,
  MetadataTest,
  StructureTestConfig,
} from './structure-schema.js';
export { runStructureTests, toStructureTestJson } from './structure-run.js';
export type {
  CommandOutcome,
  CommandSpec,
  FileStat,
  ImageConfigView,
  RunStructureTestsOptions,
  StructureTestReport,
  StructureTestResult,
  StructureTestRunner,
} from './structure-run.js';
export { DockerStructureTestRunner, createDockerStructureTestRunner, hostAccessOptions } from './docker-structure-runner.js';
export type { DockerStructureRunnerOptions } from './docker-structure-runner.js';
export type { ImageErrorCode } from './errors.js';
