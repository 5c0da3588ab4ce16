/**
 * The normalised job manifest: what `job.yaml` (or legacy `fatman.yaml`) says once parsed,
 * validated and defaulted. Deprecated spellings (`lang`, `docker.dockerfile_path`) are folded
 * into their current fields; the warnings say so.
 */

/** Job types Pitlane knows. `docker-proxy` is seed 000's; the others arrive with later issues. */
export type JobType = 'docker-proxy' | 'dockerfile' | 'python3' | 'node';

/** A manifest after validation and defaulting. */
export interface JobManifest {
  /** DNS-1123 label: lowercase letters, digits and `-`, 1 to 63 characters, starting and ending alphanumeric. */
  name: string;
  /** Semantic version (semver.org 2.0.0), default `0.0.1`. */
  version: string;
  /** Owner's e-mail address. */
  owner_email: string;
  /** The job type, from `jobtype` or the deprecated `lang`, without its `:version` suffix. */
  jobtype: JobType;
  /** The job type's version pattern when given (`docker-proxy:1.x` gives `1.x`), otherwise `null`. */
  jobtype_version: string | null;
  /** Where the source comes from when it is cloned rather than uploaded. */
  git: { remote: string; branch: string | null; directory: string } | null;
  /** Dockerfile path relative to the build context root (from `docker.dockerfile_path` or `dockerfile_path`), default `Dockerfile`. */
  dockerfile_path: string;
  /** A pre-built image reference to deploy instead of building (`repo/name:tag` or `name@sha256:...`), or `null`. */
  image: string | null;
  /** Free-form metadata for humans. */
  labels: Record<string, string>;
  /** Environment variables given to the running container. */
  runtime_env: Record<string, string>;
  /** Docker build arguments (`ARG` values). */
  build_args: Record<string, string>;
  /** Keys of the job's build secrets, mounted with BuildKit into `RUN --mount=type=secret,id=KEY` steps; absent when not given. */
  build_secrets?: string[];
  /** Number of containers serving this version, 1 to 50, default 1. */
  replicas: number;
  /** Limits; `null` when not set (the server's defaults apply). */
  resources: {
    /** Memory limit in bytes, parsed from a Kubernetes quantity such as `512Mi` or `1G`. */
    memory_max_bytes: number | null;
    /** CPU limit in cores, parsed from `0.5` or `500m`. */
    cpu_max_cores: number | null;
  };
  /** How long the gateway waits for the job to answer one call, in seconds, default 60. */
  timeout_s: number;
  /** Job-type-specific settings. `user_module_port` defaults to 7004. */
  jobtype_extra: { user_module_port: number } & Record<string, unknown>;
  /** Path prefixes (each starting with `/`) callable without authentication once approved; absent when not given. */
  public_endpoints?: string[];
  /** Dockerfile lint settings, passed through unvalidated (a JSON object) for the lint step; absent when not given. */
  lint?: unknown;
  /** Container structure test settings, passed through unvalidated (a JSON object); absent when not given. */
  structure_tests?: unknown;
  /** Image check settings, passed through unvalidated (a JSON object); absent when not given. */
  image_checks?: unknown;
}

/** Result of parsing: the manifest plus deprecation and other non-fatal warnings. */
export interface ParsedManifest {
  manifest: JobManifest;
  /** Human-readable warnings, e.g. "field `lang` is deprecated; use `jobtype`". */
  warnings: string[];
}
