/**
 * Defaults and normalisation: from a validated input manifest to the {@link JobManifest} type.
 */
import type { JobManifest, JobType, ParsedManifest } from './types.js';
import { parseCpuCores, parseQuantityBytes } from './quantity.js';
import { normaliseRelativePath } from './references.js';
import type { ManifestInput } from './schema.js';

type Scalar = string | number | boolean;

function stringify(map: Record<string, Scalar> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, String(value)]));
}

function hasPassword(remote: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(remote)) return false;
  try {
    return new URL(remote).password !== '';
  } catch {
    return false;
  }
}

/**
 * Applies defaults and folds deprecated spellings into current fields.
 *
 * @param input a manifest that passed the schema and the cross-field checks.
 * @returns the normalised manifest and warnings (deprecated `lang`/`docker`, a password in `git.remote`).
 */
export function normaliseManifest(input: ManifestInput): ParsedManifest {
  const warnings: string[] = [];
  if (input.lang !== undefined) warnings.push('`lang` is deprecated; use `jobtype`');
  if (input.docker !== undefined) warnings.push('`docker` is deprecated; use `dockerfile_path`');
  if (input.git !== undefined && hasPassword(input.git.remote)) {
    warnings.push('`git.remote` contains a password, which is stored with the manifest; prefer a credential helper or a token');
  }

  const jobtypeText = input.jobtype ?? input.lang ?? '';
  const colon = jobtypeText.indexOf(':');
  const jobtype = (colon === -1 ? jobtypeText : jobtypeText.slice(0, colon)) as JobType;
  const jobtypeVersion = colon === -1 ? null : jobtypeText.slice(colon + 1);
  const dockerfilePath = input.docker?.dockerfile_path ?? input.dockerfile_path ?? 'Dockerfile';
  const memoryMax = input.resources?.memory_max;
  const cpuMax = input.resources?.cpu_max;

  const manifest: JobManifest = {
    name: input.name,
    version: input.version ?? '0.0.1',
    owner_email: input.owner_email,
    jobtype,
    jobtype_version: jobtypeVersion,
    git:
      input.git === undefined
        ? null
        : {
            remote: input.git.remote,
            branch: input.git.branch ?? null,
            directory: normaliseRelativePath(input.git.directory ?? '.'),
          },
    dockerfile_path: normaliseRelativePath(dockerfilePath),
    image: input.image ?? null,
    labels: stringify(input.labels),
    runtime_env: stringify(input.runtime_env),
    build_args: stringify(input.build_args),
    replicas: input.replicas ?? 1,
    resources: {
      memory_max_bytes: memoryMax === undefined ? null : parseQuantityBytes(String(memoryMax)),
      cpu_max_cores: cpuMax === undefined ? null : parseCpuCores(cpuMax),
    },
    timeout_s: input.timeout_s ?? 60,
    jobtype_extra: { ...input.jobtype_extra, user_module_port: input.jobtype_extra?.user_module_port ?? 7004 },
  };
  if (input.public_endpoints !== undefined) manifest.public_endpoints = [...input.public_endpoints];
  if (input.build_secrets !== undefined) manifest.build_secrets = [...input.build_secrets];
  if (input.lint !== undefined) manifest.lint = input.lint;
  if (input.structure_tests !== undefined) manifest.structure_tests = input.structure_tests;
  if (input.image_checks !== undefined) manifest.image_checks = input.image_checks;
  return { manifest, warnings };
}
