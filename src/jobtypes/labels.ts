/**
 * The image labels a generated Dockerfile sets itself, in one LABEL before the code (pure).
 *
 * They include the labels the deployment pipeline gives every image (`pitlane.managed`,
 * `pitlane.job`, `pitlane.version`, `pitlane.git-commit`), so the pipeline need not add them through
 * the build API: the legacy builder turns each API label into one more step after the last
 * instruction, which a code change re-runs every time (see {@link PreparedBuild.imageLabels}).
 */
import type { PreparedBuild } from './types.js';

/** Labels of a generated image, in the order the LABEL instruction lists them. */
export function generatedImageLabels(jobType: string, jobName: string, jobVersion: string, commit: string | null): NonNullable<PreparedBuild['imageLabels']> {
  const labels: Record<string, string> = {
    'pitlane.job': jobName,
    'pitlane.version': jobVersion,
    'pitlane.jobtype': jobType,
    'pitlane.managed': 'true',
  };
  if (commit) {
    labels['pitlane.git-commit'] = commit;
    labels['org.opencontainers.image.revision'] = commit;
  }
  return labels;
}

/** The LABEL instruction for {@link generatedImageLabels}: one key per line, values double-quoted. */
export function labelInstruction(labels: Record<string, string>): string {
  return `LABEL ${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' \\\n      ')}`;
}
