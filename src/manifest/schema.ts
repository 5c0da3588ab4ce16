/**
 * The zod schema of the manifest as written by users (YAML) or sent to the API (JSON).
 *
 * It checks each field on its own; rules that involve several fields live in `cross-checks.ts`,
 * and defaults are applied by `normalise.ts`. Every message states the rule that was broken.
 */
import { z } from 'zod';
import { closestName } from './did-you-mean.js';
import { parseCpuCores, parseQuantityBytes } from './quantity.js';
import {
  DNS_LABEL_RE,
  ENV_NAME_RE,
  JOB_TYPES,
  JOBTYPE_RE,
  RESERVED_RUNTIME_ENV,
  SEMVER_RE,
  gitBranchProblem,
  gitRemoteProblem,
  imageRefProblem,
  labelKeyProblem,
  relativePathProblem,
} from './references.js';

/** Docker refuses memory limits below 6 MiB. */
export const MIN_MEMORY_MAX_BYTES = 6 * 2 ** 20;

/** Docker refuses CPU limits below 0.01 cores (10m). */
export const MIN_CPU_MAX_CORES = 0.01;

/** Longest value of one environment variable, build argument or label, in characters. */
export const MAX_MAP_VALUE_LENGTH = 65_536;

/** A short rendering of a rejected value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** An error function: "is required" for a missing value, otherwise the rule plus what was given. */
function rule(text: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `${text}; got ${show(issue.input)}`);
}

/** A string schema whose extra rule is given by a `*Problem` function. */
function checkedString(problem: (s: string) => string | undefined) {
  return z.string({ error: rule('must be a string') }).superRefine((s, ctx) => {
    const message = problem(s);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: s });
  });
}

function jobtypeMessage(input: unknown): string {
  const base = `must be one of ${JOB_TYPES.join(', ')}, optionally followed by :VERSION (e.g. python3:latest)`;
  if (typeof input !== 'string') return `${base}; got ${show(input)}`;
  const type = input.split(':')[0] ?? '';
  const suggestion = closestName(type, JOB_TYPES);
  const hint = suggestion !== undefined && suggestion !== type ? `; did you mean "${suggestion}"?` : '';
  return `${base}; got ${show(input)}${hint}`;
}

const jobtype = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : jobtypeMessage(issue.input)) })
  .regex(JOBTYPE_RE, { error: (issue) => jobtypeMessage(issue.input) });

const scalar = z
  .union([z.string(), z.number(), z.boolean()], { error: rule('must be a string, number or boolean') })
  .superRefine((value, ctx) => {
    if (typeof value !== 'string') return;
    if (value.includes('\0')) ctx.addIssue({ code: 'custom', message: 'must not contain a NUL character', input: value });
    else if (value.length > MAX_MAP_VALUE_LENGTH) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_MAP_VALUE_LENGTH} characters long`, input: value });
  });

const envName = z
  .string()
  .regex(ENV_NAME_RE, { error: (issue) => `names must match ${ENV_NAME_RE.source}; got ${show(issue.input)}` });

const runtimeEnvName = envName.refine((name) => !(RESERVED_RUNTIME_ENV as readonly string[]).includes(name), {
  error: (issue) => `${String(issue.input)} is reserved: Pitlane sets it in every job container (reserved: ${RESERVED_RUNTIME_ENV.join(', ')})`,
});

function stringMap(key: z.ZodType<string>, description: string) {
  return z.record(key, scalar, { error: rule('must be a mapping of names to values') }).meta({ description });
}

const relativeDir = checkedString((s) => relativePathProblem(s, false));
const relativeFile = checkedString((s) => relativePathProblem(s, true));

function memoryQuantity(description: string, minimumBytes = 1) {
  return z
    .union([z.string(), z.number()], { error: rule('must be a memory quantity such as 512Mi, 1Gi or 1000000000 (bytes)') })
    .superRefine((value, ctx) => {
      let bytes: number;
      try {
        bytes = parseQuantityBytes(String(value));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, input: value });
        return;
      }
      if (bytes < minimumBytes) {
        const hint = typeof value === 'number' || /^\d+$/.test(String(value)) ? `; a plain number means bytes, did you mean ${String(value)}Mi?` : '';
        ctx.addIssue({ code: 'custom', message: `must be at least ${minimumBytes} bytes${hint}`, input: value });
      }
    })
    .meta({ description });
}

function cpuQuantity(description: string, minimumCores = 0) {
  return z
    .union([z.string(), z.number()], { error: rule('must be a CPU quantity such as 0.5, 2 or 500m') })
    .superRefine((value, ctx) => {
      let cores: number;
      try {
        cores = parseCpuCores(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, input: value });
        return;
      }
      if (cores <= 0) ctx.addIssue({ code: 'custom', message: 'must be greater than 0', input: value });
      else if (cores < minimumCores) ctx.addIssue({ code: 'custom', message: `must be at least ${minimumCores} cores (${minimumCores * 1000}m), the smallest CPU limit Docker accepts`, input: value });
    })
    .meta({ description });
}

const passThroughObject = (description: string) =>
  z.record(z.string(), z.json({ error: rule('must be JSON data (strings, finite numbers, booleans, null, lists, objects)') }), {
    error: rule('must be an object'),
  }).meta({ description });

/** `build_secrets`: keys of the job's build secrets, mounted only into `RUN --mount=type=secret,id=KEY` steps. */
export const buildSecretsSchema = z
  .array(
    z
      .string({ error: rule('must be a secret key (an environment variable name)') })
      .regex(ENV_NAME_RE, { error: rule(`must be a secret key matching ${ENV_NAME_RE.source}`) }),
    { error: rule('must be a list of secret keys') },
  )
  .max(100, { error: 'must name at most 100 build secrets' })
  .superRefine((keys, ctx) => {
    keys.forEach((key, index) => {
      if (keys.indexOf(key) !== index) ctx.addIssue({ code: 'custom', message: `${key} is listed twice`, path: [index], input: key });
    });
  })
  .meta({
    description:
      'Build secrets of the job (set with `pitlane secret set JOB KEY --build`), given to the build only as BuildKit secret mounts: `RUN --mount=type=secret,id=KEY` reads /run/secrets/KEY. Never in a layer, build argument or log.',
  });

/** `git`: where the source is cloned from. */
export const gitSchema = z
  .strictObject(
    {
      remote: checkedString(gitRemoteProblem).meta({
        description: 'Repository URL: https://, http://, ssh://, file://, scp-like user@host:path, or an absolute local path.',
      }),
      branch: checkedString(gitBranchProblem).optional().meta({ description: 'Branch to check out, valid for `git check-ref-format --branch`.' }),
      directory: relativeDir.optional().meta({ description: 'Subdirectory holding the job, relative to the repository root.', default: '.' }),
    },
    { error: rule('must be an object with remote, branch and directory') },
  )
  .meta({ description: 'Clone the source from git instead of uploading it.' });

/** `docker` (deprecated): holds `dockerfile_path`. */
export const dockerSchema = z
  .strictObject({ dockerfile_path: relativeFile.optional().meta({ description: 'Dockerfile path relative to the build context.' }) }, { error: rule('must be an object with dockerfile_path') })
  .meta({ description: 'Deprecated: use the top-level dockerfile_path.', deprecated: true });

/** `resources`: Kubernetes-style limits. */
export const resourcesSchema = z
  .strictObject(
    {
      memory_max: memoryQuantity('Memory limit, e.g. 512Mi or 1Gi (at least 6Mi).', MIN_MEMORY_MAX_BYTES),
      cpu_max: cpuQuantity('CPU limit in cores (0.5) or millicores (500m); at least 0.01 (10m).', MIN_CPU_MAX_CORES),
      memory_min: memoryQuantity('Memory request; validated, currently unused.'),
      cpu_min: cpuQuantity('CPU request; validated, currently unused.'),
    },
    { error: rule('must be an object with memory_max, cpu_max, memory_min and cpu_min') },
  )
  .partial()
  .meta({ description: 'Resource limits; unset values take the server defaults.' });

/** `jobtype_extra`: job-type settings; only `user_module_port` is checked here. */
export const jobtypeExtraSchema = z
  .object(
    {
      user_module_port: z
        .int({ error: rule('must be an integer port from 1 to 65535') })
        .min(1, { error: rule('must be an integer port from 1 to 65535') })
        .max(65535, { error: rule('must be an integer port from 1 to 65535') })
        .optional()
        .meta({ description: 'Port the user module listens on.', default: 7004 }),
    },
    { error: rule('must be an object') },
  )
  .catchall(z.json({ error: rule('must be JSON data') }))
  .meta({ description: 'Job-type-specific settings, validated by the job type.' });

const replicasRule = rule('must be an integer from 1 to 50');
const timeoutRule = rule('must be a number of seconds greater than 0 and at most 3600');

/** The whole manifest as accepted on input. */
export const manifestSchema = z
  .strictObject(
    {
      name: z
        .string({ error: rule('must be a string') })
        .max(63, { error: rule('must be at most 63 characters long') })
        .regex(DNS_LABEL_RE, {
          error: rule("must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit"),
        })
        .meta({ description: 'Job name: a DNS-1123 label of at most 63 characters.' }),
      owner_email: z.email({ error: rule('must be an e-mail address') }).meta({ description: "Owner's e-mail address." }),
      jobtype: jobtype.optional().meta({
        description: `Job type (${JOB_TYPES.join(', ')}), optionally with :VERSION. Exactly one of jobtype and lang is required.`,
      }),
      lang: jobtype.optional().meta({ description: 'Deprecated spelling of jobtype.', deprecated: true }),
      version: z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'is required'
              : `must be a string holding a semantic version such as 1.0.0 (quote it in YAML); got ${show(issue.input)}`,
        })
        .regex(SEMVER_RE, { error: rule('must be a semantic version (semver.org 2.0.0) such as 1.0.0 or 1.2.3-rc.1') })
        .optional()
        .meta({ description: 'Semantic version of this job version.', default: '0.0.1' }),
      git: gitSchema.optional(),
      docker: dockerSchema.optional(),
      dockerfile_path: relativeFile.optional().meta({ description: 'Dockerfile path relative to the build context.', default: 'Dockerfile' }),
      image: checkedString(imageRefProblem).optional().meta({
        description: 'Pre-built image to deploy instead of building: [registry[:port]/]path[:tag][@sha256:digest].',
      }),
      labels: stringMap(
        z.string().superRefine((key, ctx) => {
          const message = labelKeyProblem(key);
          if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: key });
        }),
        'Free-form metadata for humans; values are stringified. Keys follow Docker/OCI label-key rules (`team`, `org.opencontainers.image.title`, `app.kubernetes.io/name`); `com.docker.`, `io.docker.`, `org.dockerproject.` and `pitlane.` prefixes are reserved.',
      ).optional(),
      runtime_env: stringMap(runtimeEnvName, `Environment variables of the running container; values are stringified. Reserved: ${RESERVED_RUNTIME_ENV.join(', ')}.`).optional(),
      build_args: stringMap(envName, 'Docker build arguments; values are stringified.').optional(),
      build_secrets: buildSecretsSchema.optional(),
      replicas: z
        .int({ error: replicasRule })
        .min(1, { error: replicasRule })
        .max(50, { error: replicasRule })
        .optional()
        .meta({ description: 'Number of containers serving this version.', default: 1 }),
      resources: resourcesSchema.optional(),
      timeout_s: z
        .number({ error: timeoutRule })
        .gt(0, { error: timeoutRule })
        .max(3600, { error: timeoutRule })
        .optional()
        .meta({ description: 'Seconds the gateway waits for one call.', default: 60 }),
      jobtype_extra: jobtypeExtraSchema.optional(),
      public_endpoints: z
        .array(
          z
            .string({ error: rule('must be a path string') })
            .max(1024, { error: rule('must be at most 1024 characters long') })
            .regex(/^\/[^\s\u0000-\u001f\u007f]*$/, { error: rule('must be a path starting with "/" without spaces or control characters') }),
          { error: rule('must be a list of paths') },
        )
        .optional()
        .meta({ description: 'Path prefixes callable without authentication once approved.' }),
      lint: passThroughObject('Dockerfile lint settings.').optional(),
      structure_tests: passThroughObject('Container structure test settings.').optional(),
      image_checks: passThroughObject('Image check settings.').optional(),
    },
    { error: rule('the manifest must be an object') },
  )
  .meta({ title: 'Pitlane job manifest', description: 'job.yaml (or legacy fatman.yaml).' });

/** The manifest as accepted on input, after validation. */
export type ManifestInput = z.input<typeof manifestSchema>;

/** Field names accepted by each closed object, keyed by dotted path (`''` is the top level). */
export const KNOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(manifestSchema.shape),
  git: Object.keys(gitSchema.shape),
  docker: Object.keys(dockerSchema.shape),
  resources: Object.keys(resourcesSchema.shape),
};
