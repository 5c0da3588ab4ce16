/** Build sources: safe archive extraction, context packing with .dockerignore, git clones. */
export { extractArchive, findUnsafeTreeEntry, safeEntryPath, symlinkStaysInside, DEFAULT_EXTRACT_LIMITS, type ExtractLimits, type ExtractSummary } from './archive.js';
export { packContext, packContextGzip, dockerignoreMatcher, loadDockerignore } from './context.js';
export { cloneArguments, cloneSource, gitEnvironment, runGit, GIT_ALLOWED_PROTOCOLS, type GitResult, type GitSource } from './git.js';
export { refuseHostAccessFlags } from './build-flags.js';
