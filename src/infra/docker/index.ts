/** The docker infrastructure target. */
export { DockerTarget, type DockerTargetOptions } from './docker-target.js';
export { LineSplitter, demultiplex, demultiplexLines, type OutputFrame } from './log-lines.js';
