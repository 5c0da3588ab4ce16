/** Shared helpers for the Dockerfile linter tests. */
import { lintDockerfile, type LintOptions } from '../../../src/dockerfile/index.js';

/** Codes reported for `text`, in order. */
export function codes(text: string, options: LintOptions = {}): string[] {
  return lintDockerfile(text, options).findings.map((f) => f.code);
}

/** Options that switch on the rules that are off by default or need configuration, for `code`. */
export function optionsFor(code: string): LintOptions {
  switch (code) {
    case 'DL1001':
    case 'DL3057':
      return { override: { info: [code] } };
    case 'DL3026':
      return { trustedRegistries: ['docker.io'] };
    case 'DL3049':
    case 'DL3051':
    case 'DL3058':
      return { labelSchema: { maintainer: code === 'DL3058' ? 'email' : 'text' } };
    case 'DL3050':
      return { labelSchema: { maintainer: 'text' }, strictLabels: true };
    case 'DL3052':
      return { labelSchema: { 'org.opencontainers.image.url': 'url' } };
    case 'DL3053':
      return { labelSchema: { 'org.opencontainers.image.created': 'rfc3339' } };
    case 'DL3054':
      return { labelSchema: { 'org.opencontainers.image.licenses': 'spdx' } };
    case 'DL3055':
      return { labelSchema: { 'org.opencontainers.image.revision': 'hash' } };
    case 'DL3056':
      return { labelSchema: { 'org.opencontainers.image.version': 'semver' } };
    case 'PL1009':
      return { hasDockerignore: false };
    default:
      return {};
  }
}
