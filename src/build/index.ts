/** Build sources: safe archive extraction, context packing with .dockerignore, git clones. */
export { extractArchive, safeEntryPath, symlinkStaysInside, DEFAULT_EXTRACT_LIMITS, type ExtractLimits, type ExtractSummary } from './archive.js';
export { packContext, packContextGzip, dockerignoreMatcher, loadDockerignore } from './context.js';
export { cloneSource, type GitSource } from './git.js';
