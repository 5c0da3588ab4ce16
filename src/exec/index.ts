/**
 * `pitlane exec`: seed 003's thin container proxy. Pure parts (spec, shell words, frames, create
 * options, the command's flags) are exported here; the engine runner (`run-container.ts` over the
 * small Engine API client `engine.ts`) and the server client (`server-run.ts`) are imported on
 * demand. `main.ts` is the lean entry bin/pitlane.js takes for `pitlane exec`.
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
export { EXEC_DESCRIPTION, EXEC_HELP, EXEC_OPTIONS, executeExec, type ExecFlags, type ExecIO, type ExecOption } from './command.js';
export { ENGINE_API_VERSION, engineAddress, EngineError, pullReference, type EngineAddress } from './engine.js';
export { containerCreateOptions, EXEC_LABEL, engineMessage, type ContainerCreateBody, signalExitCode, startFailureExitCode } from './container-options.js';
export { ExecFailure, isExecFailure, type ForwardedSignal, type SignalSource } from './failure.js';
