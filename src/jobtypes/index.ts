/** Job types that generate their image's Dockerfile. The registry is filled in the composition root. */
export type { JobTypeBuilder, JobTypeSettings, PreparedBuild } from './types.js';
export { generatedImageLabels, labelInstruction } from './labels.js';
