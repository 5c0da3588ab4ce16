/** Types of scripts/build-exec-bundle.mjs (see there). */
export function buildExecBundle(options: { distDir: string; entry: string; out: string }): string[];
