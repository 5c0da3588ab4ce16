/**
 * Validators for the string formats a manifest refers to: job names, versions, job types,
 * git remotes and branches, relative paths inside the source tree, and Docker image references.
 *
 * Each `*Problem` function returns `undefined` when the value is acceptable, otherwise a
 * sentence stating the broken rule (used as an error detail message). None of them throws.
 */
import path from 'node:path';

/** Job types Pitlane knows, in the order listed in messages. */
export const JOB_TYPES = ['docker-proxy', 'dockerfile', 'python3', 'node'] as const;

/** DNS-1123 label (RFC 1123): lowercase alphanumerics and `-`, starting and ending alphanumeric. */
export const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The official semver.org 2.0.0 regular expression. */
export const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `jobtype` / `lang`: a known job type, optionally followed by `:VERSION` (`1.x`, `latest`, `2.*`, `1.2.3-*-bullseye`). */
export const JOBTYPE_RE = new RegExp(`^(${JOB_TYPES.join('|')})(?::([0-9A-Za-z*][0-9A-Za-z.*+_-]{0,63}))?$`);

/** Environment variable and build argument names. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names Pitlane injects into every job container; `runtime_env` must not set them. */
export const RESERVED_RUNTIME_ENV = [
  'JOB_NAME',
  'JOB_VERSION',
  'JOB_DEPLOYMENT_TIMESTAMP',
  'PUB_URL',
  'AUTH_TOKEN',
  'REQUEST_TRACING_HEADER',
] as const;

/** Label keys: letters, digits, `_`, `.`, `/`, `-`; starting and ending with a letter, digit or `_`. */
export const LABEL_KEY_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_./-]*[A-Za-z0-9_])?$/;

/** Label key prefixes reserved by Docker (`com.docker.*`, `io.docker.*`, `org.dockerproject.*`) and Pitlane (`pitlane.*`). */
export const RESERVED_LABEL_PREFIXES = ['com.docker.', 'io.docker.', 'org.dockerproject.', 'pitlane.'] as const;

/**
 * Checks a label key against Docker's and OCI's label-key rules (reverse-DNS style keys such as
 * `org.opencontainers.image.title` or `app.kubernetes.io/name`, or plain words such as `team`).
 *
 * @param key the key as written.
 * @returns a problem sentence, or `undefined` when acceptable: 1 to 255 characters matching
 *   {@link LABEL_KEY_RE}, no two `.`/`/` in a row (`..`, `//`, `./`), no reserved prefix
 *   ({@link RESERVED_LABEL_PREFIXES}).
 */
export function labelKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'label keys must not be empty';
  if (key.length > 255) return 'label keys must be at most 255 characters long';
  if (!LABEL_KEY_RE.test(key)) {
    return `label keys may hold only letters, digits, "_", ".", "/" and "-", starting and ending with a letter, digit or "_"; got ${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)}`;
  }
  if (/[./]{2}/.test(key)) return 'label keys must not hold two "." or "/" in a row (such as ".." or "//")';
  const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => key.toLowerCase().startsWith(prefix));
  if (reserved) return `label keys starting with "${reserved}" are reserved`;
  return undefined;
}

// Docker reference grammar (github.com/distribution/reference), restricted to sha256 digests.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
/** `[registry[:port]/]path[:tag][@sha256:<64 hex>]`, lowercase path. */
export const IMAGE_REF_RE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** scp-like `user@host:path` (git's "alternative scp-like syntax"); the user must not start with `-`. */
const SCP_LIKE_RE = /^[A-Za-z0-9._][A-Za-z0-9._-]*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:.+$/;

const CONTROL_OR_SPACE_RE = /[\u0000-\u0020\u007f]/;

/**
 * Checks a `git.remote`.
 *
 * @param remote accepted forms: `https://`, `http://`, `ssh://` and `file://` URLs, scp-like
 *   `user@host:path`, and absolute local paths (`/srv/repos/job.git`).
 * @returns a problem sentence, or `undefined` when acceptable. Rejects remote-helper transports
 *   (`ext::...`), anything starting with `-` (option injection), spaces and control characters.
 */
export function gitRemoteProblem(remote: string): string | undefined {
  const forms = 'must be an https://, http://, ssh:// or file:// URL, an scp-like user@host:path, or an absolute local path';
  if (remote.length === 0) return `${forms}; got an empty string`;
  if (remote.length > 2048) return 'must be at most 2048 characters long';
  if (remote.startsWith('-')) return 'must not start with "-"';
  if (CONTROL_OR_SPACE_RE.test(remote)) return 'must not contain spaces or control characters';
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(remote)) return 'remote-helper transports such as "ext::" are not allowed';
  if (remote.startsWith('/')) return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(remote)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!['https', 'http', 'ssh', 'file'].includes(scheme)) return `${forms}; the scheme "${scheme}://" is not supported`;
    let url: URL;
    try {
      url = new URL(remote);
    } catch {
      return `${forms}; this URL cannot be parsed`;
    }
    if (scheme === 'file') return url.pathname.length > 1 ? undefined : 'a file:// URL needs a path';
    if (url.hostname === '' || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]/.test(remote)) return 'the URL needs a host';
    if (url.hostname.startsWith('-') || decodeURIComponent(url.username).startsWith('-')) return 'the host and user must not start with "-"';
    return undefined;
  }
  if (SCP_LIKE_RE.test(remote)) return undefined;
  return forms;
}

/**
 * Checks a `git.branch` with the rules of `git check-ref-format --branch`.
 *
 * @param branch a branch name such as `master` or `feature/x-1`.
 * @returns a problem sentence naming the rule broken, or `undefined` when acceptable.
 */
export function gitBranchProblem(branch: string): string | undefined {
  if (branch.length === 0) return 'must not be empty';
  if (branch.length > 255) return 'must be at most 255 characters long';
  if (branch.startsWith('-')) return 'must not start with "-"';
  if (CONTROL_OR_SPACE_RE.test(branch)) return 'must not contain spaces or control characters';
  const forbidden = /[~^:?*[\\"]/.exec(branch);
  if (forbidden) return `must not contain "${forbidden[0]}" (forbidden: ~ ^ : ? * [ \\ ")`;
  if (branch.includes('..')) return 'must not contain ".."';
  if (branch.includes('@{')) return 'must not contain "@{"';
  if (branch === '@') return 'must not be "@"';
  if (branch === 'HEAD') return 'must not be "HEAD" (not a branch name)';
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) return 'must not start or end with "/" or contain "//"';
  if (branch.endsWith('.')) return 'must not end with "."';
  for (const component of branch.split('/')) {
    if (component.startsWith('.')) return 'no "/"-separated component may start with "."';
    if (component.endsWith('.lock')) return 'no "/"-separated component may end with ".lock"';
  }
  return undefined;
}

/**
 * Normalises a path inside the source tree (`./sub/dir/` → `sub/dir`, `.` stays `.`).
 *
 * @param p a relative POSIX path, already checked with {@link relativePathProblem}.
 * @returns the normalised path, without leading `./` or trailing `/`.
 */
export function normaliseRelativePath(p: string): string {
  const normalised = path.posix.normalize(p).replace(/\/+$/, '');
  return normalised === '' ? '.' : normalised;
}

/**
 * Checks a path relative to the source root (`git.directory`, `dockerfile_path`).
 *
 * @param p the path as written.
 * @param file true when the path must name a file (not `.`, no trailing `/`).
 * @returns a problem sentence, or `undefined` when `p` is relative and stays inside the source tree.
 */
export function relativePathProblem(p: string, file: boolean): string | undefined {
  if (p.length === 0) return 'must not be empty';
  if (p.length > 1024) return 'must be at most 1024 characters long';
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'must not contain control characters';
  if (p.includes('\\')) return 'must use "/" as the separator, not "\\"';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'must be a relative path, not an absolute one';
  const normalised = normaliseRelativePath(p);
  if (normalised === '..' || normalised.startsWith('../')) return 'must stay inside the source tree (no ".." escaping it)';
  if (file && (normalised === '.' || p.endsWith('/'))) return 'must name a file, not a directory';
  return undefined;
}

/**
 * Checks a Docker image reference.
 *
 * @param ref e.g. `nginx`, `nginx:1.27`, `registry.example.com:5000/team/app:v1`, `app@sha256:<64 hex>`.
 * @returns a problem sentence, or `undefined` when `ref` matches
 *   `[registry[:port]/]path[:tag][@sha256:<64 hex>]` with a lowercase path, at most 255 characters before the tag.
 */
export function imageRefProblem(ref: string): string | undefined {
  const rule = 'must be a Docker image reference [registry[:port]/]path[:tag][@sha256:<64 hex digits>] with a lowercase path';
  if (!IMAGE_REF_RE.test(ref)) return rule;
  const name = ref.replace(/@.*$/, '').replace(/:[\w][\w.-]*$/, '');
  if (name.length > 255) return 'the repository name must be at most 255 characters long';
  return undefined;
}

/**
 * The registry host of an image reference, as Docker resolves it: the first path component when it
 * holds a `.` or `:` or is `localhost`, else Docker Hub (`docker.io`). `index.docker.io` and
 * `registry-1.docker.io` are spelled `docker.io`. Lowercased.
 *
 * @param ref a reference that passed {@link imageRefProblem}, e.g. `registry.example.com:5000/app:1` → `registry.example.com:5000`, `busybox` → `docker.io`.
 */
export function imageRegistry(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = ref.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return 'docker.io';
  const host = first.toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Parses the admin's trusted-registry list (`PITLANE_TRUSTED_REGISTRIES`): comma- or
 * whitespace-separated registry hosts, each optionally with a port (`registry.example.com:5000`)
 * or a leading `*.` wildcard for subdomains (`*.example.com`). Lowercased; Docker Hub aliases become `docker.io`.
 * @returns the list; empty when the text is empty (every registry allowed).
 */
export function parseTrustedRegistries(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase().replace(/\/+$/, ''))
    .filter((entry) => entry !== '')
    .map((entry) => (entry === 'index.docker.io' || entry === 'registry-1.docker.io' || entry === 'hub.docker.com' ? 'docker.io' : entry));
}

/**
 * True when image `ref` comes from a trusted registry.
 * @param trusted hosts from {@link parseTrustedRegistries}; an empty list trusts every registry.
 */
export function registryTrusted(ref: string, trusted: readonly string[]): boolean {
  if (trusted.length === 0) return true;
  const registry = imageRegistry(ref);
  return trusted.some((entry) => (entry.startsWith('*.') ? registry.endsWith(entry.slice(1)) && registry.length > entry.length - 1 : registry === entry));
}
