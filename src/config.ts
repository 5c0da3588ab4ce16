/**
 * Pitlane's configuration: one typed object read from the environment (and command-line flags,
 * which override it), validated at start-up. Every knob is documented in the README.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  /** Address the API and gateway listen on. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port of the API and gateway. */
  port: z.coerce.number().int().min(0).max(65535).default(7300),
  /** Directory for the database, stored build contexts and work trees. */
  dataDir: z.string().min(1).default('.pitlane'),
  /** Admin token to accept (its SHA-256 is stored); when unset one is generated at first start. */
  adminToken: z.string().min(16, 'PITLANE_ADMIN_TOKEN must be at least 16 characters').optional(),
  /** Lifetime of a login session (token and cookie), in seconds. */
  sessionTtlS: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(12 * 3600),
  /** Longest lifetime an API token may be created with, in seconds; 0 = tokens may live forever. */
  maxTokenTtlS: z.coerce.number().int().min(0).default(0),
  /** Login attempts allowed per client address per minute (429 beyond). */
  loginRateLimitPerMinute: z.coerce.number().int().min(1).default(10),
  /** Token creations allowed per client address per minute (429 beyond). */
  tokenRateLimitPerMinute: z.coerce.number().int().min(1).default(30),
  /** How often other processes' permission and token changes are looked for, in ms (applies within 1 s). */
  authPollMs: z.coerce.number().int().min(50).max(1000).default(250),
  /** How the gateway reaches job containers: over Pitlane's bridge network, or a loopback-published port. */
  dockerAccess: z.enum(['network', 'loopback']).default('network'),
  /** Name of the Pitlane-owned Docker network. */
  dockerNetwork: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/).default('pitlane'),
  /** Seconds a new job version may take to answer on its port before its deployment fails. */
  readyTimeoutS: z.coerce.number().positive().default(120),
  /** Deployments built at the same time by this process. */
  deployConcurrency: z.coerce.number().int().min(1).max(64).default(Math.max(1, Math.min(2, cpus().length))),
  /** Queue lease length in milliseconds; a dead worker's deployment is picked up after it expires. */
  leaseMs: z.coerce.number().int().min(1000).default(15_000),
  /** Interval of the reconciliation loop (containers versus records), in milliseconds. */
  reconcileIntervalMs: z.coerce.number().int().min(200).default(3_000),
  /** Memory limit of a job container when its manifest sets none, in bytes (512 MiB). */
  defaultMemoryBytes: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  /** Highest memory limit a manifest may ask for, in bytes (8 GiB). */
  maxMemoryBytes: z.coerce.number().int().positive().default(8 * 1024 * 1024 * 1024),
  /** CPU limit of a job container when its manifest sets none, in cores. */
  defaultCpuCores: z.coerce.number().positive().default(1),
  /** Highest CPU limit a manifest may ask for, in cores. */
  maxCpuCores: z.coerce.number().positive().default(Math.max(1, cpus().length)),
  /** Process limit of every job container. */
  pidsLimit: z.coerce.number().int().positive().default(512),
  /** Largest accepted build-context upload, in bytes (256 MiB). */
  maxUploadBytes: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** Runs executed at the same time by this process (default: number of CPUs). */
  runConcurrency: z.coerce.number().int().min(1).max(256).default(Math.max(1, cpus().length)),
  /** Seconds between SIGTERM and SIGKILL when a run is cancelled or times out. */
  runStopGraceS: z.coerce.number().int().min(0).max(300).default(10),
  /** Run timeout when the request gives none, in seconds. */
  runDefaultTimeoutS: z.coerce.number().positive().default(3600),
  /** Highest run timeout a request may ask for, in seconds. */
  runMaxTimeoutS: z.coerce.number().positive().default(86_400),
  /** Host directories (separated by `:`) under which runs may bind-mount host paths; empty: none. */
  runHostPaths: z.string().default(''),
  /** How run results leave the container: `bind` (a host directory mounted; Pitlane on the engine's host) or `copy` (copied out at the end). */
  runResultsMode: z.enum(['bind', 'copy']).default('bind'),
  /** Largest Dockerfile accepted for a run, in bytes. */
  maxDockerfileBytes: z.coerce.number().int().positive().default(1024 * 1024),
  /**
   * Registry hosts (comma-separated, `*.example.com` wildcards) that `image:` deploys and runs by
   * image may use; empty (the default): every registry. Docker Hub is `docker.io`.
   */
  trustedRegistries: z.string().default(''),
  /** Longest one non-streaming Docker Engine API request may take, in seconds (streams, `wait` and `stop` are bounded otherwise). */
  engineTimeoutS: z.coerce.number().positive().max(3600).default(120),
  /** Longest a git clone may take, in seconds; git is killed after it. */
  gitTimeoutS: z.coerce.number().positive().max(86_400).default(300),
  /** Longest an image build (deployments and runs) may take, in seconds. */
  buildTimeoutS: z.coerce.number().positive().max(86_400).default(3600),
  /** Longest an image pull may take, in seconds. */
  pullTimeoutS: z.coerce.number().positive().max(86_400).default(900),
  /** Base URL of the gateway as containers see it (injected as PUB_URL). */
  pubUrl: z.string().url().optional(),
  /** pino log level. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Key encrypting secrets at rest: 32 bytes as 64 hex digits or base64; else `<dataDir>/secret.key` (checked by src/secrets/key.ts). */
  secretKey: z.string().optional(),
  /** docker CLI used for builds with build secrets (BuildKit); found automatically when unset. */
  dockerCli: z.string().min(1).optional(),
});

/** The validated configuration. Paths are absolute. */
export type PitlaneConfig = z.infer<typeof schema> & { pubUrl: string };

/** Environment variable of each configuration key. */
export const CONFIG_ENV: Record<keyof z.infer<typeof schema>, string> = {
  host: 'PITLANE_HOST',
  port: 'PITLANE_PORT',
  dataDir: 'PITLANE_DATA_DIR',
  adminToken: 'PITLANE_ADMIN_TOKEN',
  sessionTtlS: 'PITLANE_SESSION_TTL_S',
  maxTokenTtlS: 'PITLANE_MAX_TOKEN_TTL_S',
  loginRateLimitPerMinute: 'PITLANE_LOGIN_RATE_LIMIT',
  tokenRateLimitPerMinute: 'PITLANE_TOKEN_RATE_LIMIT',
  authPollMs: 'PITLANE_AUTH_POLL_MS',
  dockerAccess: 'PITLANE_DOCKER_ACCESS',
  dockerNetwork: 'PITLANE_DOCKER_NETWORK',
  readyTimeoutS: 'PITLANE_READY_TIMEOUT_S',
  deployConcurrency: 'PITLANE_DEPLOY_CONCURRENCY',
  leaseMs: 'PITLANE_LEASE_MS',
  reconcileIntervalMs: 'PITLANE_RECONCILE_INTERVAL_MS',
  defaultMemoryBytes: 'PITLANE_DEFAULT_MEMORY_BYTES',
  maxMemoryBytes: 'PITLANE_MAX_MEMORY_BYTES',
  defaultCpuCores: 'PITLANE_DEFAULT_CPU_CORES',
  maxCpuCores: 'PITLANE_MAX_CPU_CORES',
  pidsLimit: 'PITLANE_PIDS_LIMIT',
  maxUploadBytes: 'PITLANE_MAX_UPLOAD_BYTES',
  runConcurrency: 'PITLANE_RUN_CONCURRENCY',
  runStopGraceS: 'PITLANE_RUN_STOP_GRACE_S',
  runDefaultTimeoutS: 'PITLANE_RUN_DEFAULT_TIMEOUT_S',
  runMaxTimeoutS: 'PITLANE_RUN_MAX_TIMEOUT_S',
  runHostPaths: 'PITLANE_RUN_HOST_PATHS',
  maxDockerfileBytes: 'PITLANE_MAX_DOCKERFILE_BYTES',
  trustedRegistries: 'PITLANE_TRUSTED_REGISTRIES',
  engineTimeoutS: 'PITLANE_ENGINE_TIMEOUT_S',
  gitTimeoutS: 'PITLANE_GIT_TIMEOUT_S',
  buildTimeoutS: 'PITLANE_BUILD_TIMEOUT_S',
  pullTimeoutS: 'PITLANE_PULL_TIMEOUT_S',
  runResultsMode: 'PITLANE_RUN_RESULTS_MODE',
  pubUrl: 'PITLANE_PUB_URL',
  logLevel: 'PITLANE_LOG_LEVEL',
  secretKey: 'PITLANE_SECRET_KEY',
  dockerCli: 'PITLANE_DOCKER_CLI',
};

/**
 * Builds the configuration from environment variables, with `overrides` (command-line flags) winning.
 * @throws Error listing every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<Record<keyof z.infer<typeof schema>, unknown>> = {}): PitlaneConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(CONFIG_ENV)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const variable = CONFIG_ENV[key as keyof typeof CONFIG_ENV] ?? key;
      return `${variable}: ${issue.message}`;
    });
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  const dataDir = resolve(config.dataDir);
  const pubHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const urlHost = pubHost.includes(':') && !pubHost.startsWith('[') ? `[${pubHost}]` : pubHost;
  return { ...config, dataDir, pubUrl: config.pubUrl ?? `http://${urlHost}:${config.port}/pub` };
}
