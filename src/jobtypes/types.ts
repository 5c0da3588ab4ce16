/**
 * The job type contract: how a job type turns a manifest and the user's source into a build
 * context with a Dockerfile. `docker-proxy` and `dockerfile` use the user's own Dockerfile; the
 * wrapper job types (`python3`, `node`) generate one plus a small HTTP wrapper around the user's
 * `perform` function (DESIGN.md "Wrapper job types": Racetrack's wrapper contract).
 */
import type { JobManifest } from '../manifest/types.js';

/** Settings every generator gets from Pitlane's configuration. */
export interface JobTypeSettings {
  /**
   * Base image tags by job type and language version, e.g. `{ python3: { '3.11': 'python:3.11-slim' }, node: { '24': 'node:24-slim' } }`;
   * also `python3-native` (python3 jobs with `base_image: native`) and `node-runtime` (the node runtime stage's base, default `debian:bookworm-slim`).
   */
  baseImages: Record<string, Record<string, string>>;
  /** Directory of wheel files (the wheelhouse) python3 builds install from, or null when empty/absent. */
  wheelhouseDir: string | null;
  /** Source commit, when the source came from git (for image labels). */
  commit: string | null;
}

/** What a generator produced in the build context. */
export interface PreparedBuild {
  /** Dockerfile path relative to the context root. */
  dockerfilePath: string;
  /** Port the job's server listens on inside the container. */
  port: number;
  /** Path the readiness probe must get a 2xx from (wrapper types: `/ready`), or null for "any HTTP answer". */
  readinessPath: string | null;
  /** Non-fatal notes for the deployment (e.g. "entrypoint_class auto-detected as Adder"). */
  warnings: string[];
  /**
   * Image labels the generated Dockerfile sets itself, before the code. The pipeline does not add
   * again, through the build API, a label that is here with the same value: the legacy builder runs
   * each API label as one more step after the last instruction, so on every code change.
   */
  imageLabels?: Record<string, string>;
}

/**
 * A job type. `prepare` writes generated files into `contextDir` (a private copy Pitlane owns) and
 * must not touch anything outside it.
 * @throws PitlaneError 422 naming the manifest field or source file when the source cannot work
 *   (missing entrypoint file, several classes and no `entrypoint_class`, syntax error detected, ...).
 */
export interface JobTypeBuilder {
  readonly name: string;
  prepare(manifest: JobManifest, contextDir: string, settings: JobTypeSettings): Promise<PreparedBuild>;
}
