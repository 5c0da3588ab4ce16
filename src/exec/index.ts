/**
 * `pitlane exec`: seed 003's thin container proxy. Pure parts (spec, shell words, frames, create
 * options) are exported here; the engine runner (`run-container.ts`, loads dockerode) and the
 * server client (`server-run.ts`) are imported on demand.
 */
export { ShellSplitError, splitShellWords } from './shell-words.js';
export {
  CHILD_ENV_SUFFIX,
  childEnvironment,
  parseCommand,
  parseEnvFlag,
  parseExecEnvironment,
  parseImage,
  parseVolume,
  parseVolumes,
  resolveExecSpec,
  type ExecOverrides,
  type ExecSpec,
  type VolumeSpec,
} from './spec.js';
export { FrameDecoder } from './frames.js';
export { containerCreateOptions, EXEC_LABEL, engineMessage, signalExitCode, startFailureExitCode } from './container-options.js';
export { ExecFailure, type ForwardedSignal, type SignalSource } from './failure.js';
