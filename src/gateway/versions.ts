/**
 * Version resolution for gateway calls: `latest`, wildcards such as `1.x` / `1.2.*`, or an exact
 * semantic version. Pure logic.
 */
import semver from 'semver';

/** What the gateway knows about one version of a job. */
export interface VersionCandidate {
  version: string;
  /** True when the version is deployed and meant to serve (even if no replica is ready right now). */
  serving: boolean;
}

/** Outcome of {@link resolveVersion}: the exact version, or why there is none. */
export type VersionResolution =
  | { ok: true; version: string }
  | { ok: false; reason: 'unknown_version' | 'no_match' | 'invalid_spec'; message: string };

/** True when `spec` is a wildcard (`1.x`, `1.2.X`, `1.*`, `*`). */
export function isWildcardSpec(spec: string): boolean {
  const wildcard = /^(\d+|x|X|\*)(\.(\d+|x|X|\*)){0,2}$/.test(spec) && /[xX*]/.test(spec);
  const partial = /^\d+(\.\d+)?$/.test(spec); // `1` or `1.2` mean `1.x` / `1.2.x`
  return wildcard || partial;
}

/**
 * Resolves a version spec against the versions of one job.
 * - `latest`: the highest stable (no pre-release) serving version (Racetrack's rule).
 * - a wildcard like `1.x`, `1.2.*`, or a partial `1` / `1.2`: the highest stable serving version matching it.
 * - an exact semver: that version, if it exists at all (serving or not; the caller decides 503).
 */
export function resolveVersion(spec: string, candidates: VersionCandidate[]): VersionResolution {
  const serving = candidates.filter((c) => c.serving).map((c) => c.version);
  if (spec === 'latest') {
    const stable = serving.filter((v) => semver.valid(v) && semver.prerelease(v) === null);
    const best = semver.rsort(stable)[0];
    if (best) return { ok: true, version: best };
    const note = serving.length > 0 ? ` (serving pre-releases only: ${semver.rsort(serving).join(', ')})` : '';
    return { ok: false, reason: 'no_match', message: `no stable version is serving${note}` };
  }
  if (semver.valid(spec)) {
    const exact = candidates.find((c) => c.version === spec);
    if (exact) return { ok: true, version: exact.version };
    return { ok: false, reason: 'unknown_version', message: `version ${spec} is not deployed` };
  }
  if (isWildcardSpec(spec)) {
    const best = semver.maxSatisfying(serving, spec.replace(/\*/g, 'x'));
    if (best) return { ok: true, version: best };
    return { ok: false, reason: 'no_match', message: `no serving version matches ${spec}` };
  }
  return {
    ok: false,
    reason: 'invalid_spec',
    message: `"${spec}" is not a version: use an exact semver, "latest" or a wildcard like "1.x"`,
  };
}
