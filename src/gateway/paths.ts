/**
 * Gateway path parsing and mapping (pure logic).
 *
 * Incoming: `/pub/job/{name}/{version}[/{path}][?query]` and the legacy `/pub/fatman/...`.
 * Upstream, for `docker-proxy` jobs (seed 000, Racetrack DP forward mode): `/pub/job/N/V/api/v1/{path}`
 * goes to `/{path}` on the container. For wrapper job types (`python3`, `node`, `dockerfile`) the
 * container serves the wrapper contract under its own prefix, so the path goes through unchanged
 * with the version made exact (Racetrack pub/proxy.go step 4).
 */

/** A parsed gateway URL. */
export interface GatewayTarget {
  /** `job` or the legacy `fatman`. */
  kind: 'job' | 'fatman';
  name: string;
  /** The version as written: exact, `latest` or a wildcard. */
  versionSpec: string;
  /** The rest of the path after the version, `''` or starting with `/`. Still percent-encoded. */
  rest: string;
  /** The query string including its leading `?`, or `''`. */
  query: string;
}

const JOB_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const VERSION_SPEC = /^[0-9A-Za-z.*+-]{1,128}$/;

/**
 * Parses a request URL (path plus query) if it is a gateway URL; returns undefined otherwise or when
 * the name or version segment cannot be a job name or version (the caller answers 404).
 */
export function parseGatewayUrl(url: string): GatewayTarget | undefined {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = queryStart === -1 ? '' : url.slice(queryStart);
  let kind: GatewayTarget['kind'];
  let remainder: string;
  if (path.startsWith('/pub/job/')) {
    kind = 'job';
    remainder = path.slice('/pub/job/'.length);
  } else if (path.startsWith('/pub/fatman/')) {
    kind = 'fatman';
    remainder = path.slice('/pub/fatman/'.length);
  } else {
    return undefined;
  }
  const firstSlash = remainder.indexOf('/');
  if (firstSlash <= 0) return undefined;
  const name = remainder.slice(0, firstSlash);
  const afterName = remainder.slice(firstSlash + 1);
  const secondSlash = afterName.indexOf('/');
  const versionSpec = secondSlash === -1 ? afterName : afterName.slice(0, secondSlash);
  const rest = secondSlash === -1 ? '' : afterName.slice(secondSlash);
  if (!JOB_NAME.test(name) || !VERSION_SPEC.test(versionSpec)) return undefined;
  // Only a path with a '.' or a '%' can hold a dot segment (plain or encoded).
  if ((rest.includes('.') || rest.includes('%')) && rest.split('/').some((segment) => /%2e%2e/i.test(segment) || isDotSegment(segment))) return undefined;
  return { kind, name, versionSpec, rest, query };
}

/**
 * True when a path segment is, or decodes to, a `.` / `..` step: `.%2e`, `%2e.` and `%2e` are dot
 * segments once the upstream decodes them, and an encoded `/` or `\` (`..%2fx`) hides one inside.
 */
function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, '.').replace(/%2f|%5c/gi, '/');
  return decoded.split(/[/\\]/).some((part) => part === '.' || part === '..');
}

/** Where a gateway call goes: forwarded to a path on the container, or answered by the gateway. */
export type UpstreamRoute = { forward: string } | { local: 'live' | 'ready' | 'health' } | { notFound: string };

/**
 * Maps the rest of a gateway path to the container.
 * @param jobtype the job's type.
 * @param name job name; @param exactVersion the resolved version.
 * @param rest the path after the version (`''` or starting with `/`); @param query `''` or `?...`.
 */
export function mapUpstreamPath(jobtype: string, name: string, exactVersion: string, rest: string, query: string): UpstreamRoute {
  if (jobtype === 'docker-proxy') {
    if (rest === '/api/v1' || rest === '/api/v1/') return { forward: `/${query}` };
    if (rest.startsWith('/api/v1/')) return { forward: `${rest.slice('/api/v1'.length)}${query}` };
    if (rest === '/live' || rest === '/ready' || rest === '/health') return { local: rest.slice(1) as 'live' | 'ready' | 'health' };
    return {
      notFound: `docker-proxy jobs serve their API under /pub/job/${name}/${exactVersion}/api/v1/...; "${rest || '/'}" is not such a path`,
    };
  }
  return { forward: `/pub/job/${name}/${exactVersion}${rest}${query}` };
}
