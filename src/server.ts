/**
 * The composition root: creates the store, the infrastructure target, the deployment pipeline
 * and workers, the reconciler, the gateway and the API, wires them together and starts them.
 * Nothing else in Pitlane constructs these objects.
 */
import { hkdfSync, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { createApp } from './api/app.js';
import { AuditLog } from './audit/index.js';
import { argon2idHasher, AuthDirectory, AuthService, createGatewayAuthorizer, ensureAdminToken, IdentityRepository } from './auth/index.js';
import { DEFAULT_EXTRACT_LIMITS } from './build/index.js';
import type { PitlaneConfig } from './config.js';
import { createDeploymentWorkers, DockerImageChecker, DeploymentPipeline, DeploymentService, Reconciler, type ResourcePolicy } from './deploy/index.js';
import { Gateway, RoutingTable } from './gateway/index.js';
import { composeRuntimeEnvironment, DockerTarget, guardEngine, withRuntimeEnvironment } from './infra/index.js';
import { loadSecretKey, SecretRepository, SecretService, verifySecretKey } from './secrets/index.js';
import { parseManifestText, parseTrustedRegistries } from './manifest/index.js';
import { DeploymentRepository, JobRepository, openDatabase, RunRepository, SettingsRepository, TERMINAL_RUN_STATUSES, type RunRecord } from './store/index.js';
import { LeaseWorkers } from './queue/index.js';
import { pitlaneVersion } from './version.js';
import { python3Builder } from './jobtypes/python3/index.js';
import { nodeBuilder } from './jobtypes/node/index.js';
import { DockerWheelBuildEngine, Wheelhouse, WheelBuildService } from './wheelhouse/index.js';

export { pitlaneVersion };
import { RunEngine, RunEvents, RunExecutor, RunService } from './runs/index.js';

/** A running Pitlane server. */
export interface RunningServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:7300`. */
  url: string;
  /** The admin token generated at first start (to print once), else undefined. */
  generatedToken: string | undefined;
  /** Stops accepting work, waits for deployments in flight, closes the server and database. */
  close(): Promise<void>;
}

/**
 * Starts Pitlane with `config`: migrates the database, reconciles containers with records,
 * then serves the API and gateway and starts the deployment workers.
 * @throws Error when the database cannot be opened, the Docker engine does not answer, or the port is taken.
 */
export async function startServer(config: PitlaneConfig, logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secretKey = await loadSecretKey({ configured: config.secretKey, dataDir: config.dataDir });
  const contextsDir = join(config.dataDir, 'contexts');
  const workDir = join(config.dataDir, 'work');
  await mkdir(contextsDir, { recursive: true });
  await mkdir(workDir, { recursive: true });

  const db = await openDatabase(join(config.dataDir, 'pitlane.db'));
  const settings = new SettingsRepository(db);
  const deployments = new DeploymentRepository(db);
  const jobs = new JobRepository(db);
  const runs = new RunRepository(db);
  const secretRepository = new SecretRepository(db);
  await verifySecretKey(settings, secretRepository, secretKey.key, secretKey.path ?? 'PITLANE_SECRET_KEY').catch(async (error: unknown) => {
    await db.destroy();
    throw error;
  });
  const secrets = new SecretService({ repository: secretRepository, key: secretKey.key });
  const audit = new AuditLog(db);
  const runsDir = join(config.dataDir, 'runs');
  await mkdir(runsDir, { recursive: true });

  let installationId = await settings.get('installation_id');
  if (!installationId) {
    installationId = randomUUID();
    await settings.set('installation_id', installationId);
  }
  const { hash, generated } = await ensureAdminToken(settings, config.adminToken);
  const identities = new IdentityRepository(db);
  const authDirectory = new AuthDirectory(identities, {
    pollMs: config.authPollMs,
    log: (error) => logger.error({ err: error }, 'permission cache refresh failed'),
  });
  const auth = new AuthService({
    repository: identities,
    directory: authDirectory,
    audit,
    passwords: argon2idHasher,
    // A key of its own for job identity tokens, derived from the secret key (HKDF-SHA256), so the
    // secrets' encryption key is never used for anything else.
    jobTokenKey: Buffer.from(hkdfSync('sha256', secretKey.key, Buffer.alloc(0), 'pitlane job identity tokens v1', 32)),
    sessionTtlS: config.sessionTtlS,
    maxTokenTtlS: config.maxTokenTtlS,
  });
  await authDirectory.start();
  await auth.bootstrap(hash);

  const docker = new Docker();
  guardEngine(docker, { requestMs: config.engineTimeoutS * 1000 });
  try {
    await docker.ping();
  } catch (error) {
    await db.destroy();
    throw new Error(`the Docker engine does not answer (${(error as Error).message}); run scripts/setup/ensure-docker.sh`);
  }
  const wheelhouse = new Wheelhouse(join(config.dataDir, 'wheelhouse'), { maxWheelBytes: config.maxUploadBytes, log: (m) => logger.warn(m) });
  await wheelhouse.init();
  const wheelBuilds = new WheelBuildService({ wheelhouse, engine: new DockerWheelBuildEngine({ docker, installationId }), workDir, log: (m) => logger.warn(m) });
  await wheelBuilds.init();
  // Replicas get their job's runtime secrets as environment at creation (never stored in the container spec).
  const target = withRuntimeEnvironment(
    new DockerTarget({ docker, access: config.dockerAccess, networkName: config.dockerNetwork, installationId, dockerCli: config.dockerCli, buildTimeoutMs: config.buildTimeoutS * 1000, pullTimeoutMs: config.pullTimeoutS * 1000 }),
    composeRuntimeEnvironment([
      secrets.environmentProvider(),
      // Each job version's own identity, to call other jobs through the gateway (DESIGN.md).
      async ({ jobName, jobVersion }) => ({ AUTH_TOKEN: await auth.jobIdentityToken(jobName, jobVersion) }),
    ]),
  );

  const imageChecker = new DockerImageChecker(docker, { memoryBytes: config.defaultMemoryBytes, cpuCores: config.defaultCpuCores, pidsLimit: config.pidsLimit });
  const routes = new RoutingTable(jobs);
  const onJobsChanged = (): Promise<void> => routes.reload();
  const policy: ResourcePolicy = {
    defaultMemoryBytes: config.defaultMemoryBytes,
    maxMemoryBytes: config.maxMemoryBytes,
    defaultCpuCores: config.defaultCpuCores,
    maxCpuCores: config.maxCpuCores,
    pidsLimit: config.pidsLimit,
  };
  const reconciler = new Reconciler({
    jobs,
    deployments,
    target,
    onJobsChanged,
    onReplicaState: (containerId, running) => routes.setReplicaRunning(containerId, running),
    log: logger,
  });
  const pipeline = new DeploymentPipeline({
    deployments,
    jobs,
    target,
    workDir,
    policy,
    pubUrl: config.pubUrl,
    readyTimeoutMs: config.readyTimeoutS * 1000,
    gitTimeoutMs: config.gitTimeoutS * 1000,
    imageChecker,
    buildSecrets: (jobName, keys) => secrets.buildSecrets(jobName, keys),
    jobTypes: { python3: python3Builder, node: nodeBuilder },
    jobTypeSettings: { baseImages: {}, wheelhouseDir: wheelhouse.dir },
    onJobsChanged,
    log: logger,
  });
  const owner = `${installationId}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const workers = createDeploymentWorkers({
    deployments,
    run: (deployment) => pipeline.run(deployment),
    owner,
    concurrency: config.deployConcurrency,
    leaseMs: config.leaseMs,
    pollMs: 1000,
    log: logger,
  });
  const service = new DeploymentService({
    deployments,
    jobs,
    target,
    policy,
    contextsDir,
    uploadLimits: { ...DEFAULT_EXTRACT_LIMITS, maxBytes: Math.max(config.maxUploadBytes * 4, DEFAULT_EXTRACT_LIMITS.maxBytes) },
    onQueued: () => workers.wake(),
    onJobsChanged,
    parseManifestText: (text) => parseManifestText(text),
    trustedRegistries: parseTrustedRegistries(config.trustedRegistries),
  });
  const runEngine = new RunEngine(docker, installationId);
  const runEvents = new RunEvents();
  const runExecutor = new RunExecutor({
    runs,
    engine: runEngine,
    target,
    runsDir,
    stopGraceSeconds: config.runStopGraceS,
    resultLimits: { maxBytes: 1024 * 1024 * 1024, maxEntries: 100_000 },
    events: runEvents,
    resultsMode: config.runResultsMode,
    log: logger,
  });
  const runWorkers = new LeaseWorkers<RunRecord>({
    claim: (workerOwner, leaseMs) => runs.claimNext(workerOwner, leaseMs),
    renew: (id, workerOwner, leaseMs) => runs.renewLease(id, workerOwner, leaseMs),
    run: (run) => runExecutor.execute(run),
    owner: `${owner}:runs`,
    concurrency: config.runConcurrency,
    leaseMs: config.leaseMs,
    pollMs: 500,
    log: logger,
  });
  const runService = new RunService({
    runs,
    runsDir,
    policy: {
      defaultMemoryBytes: config.defaultMemoryBytes,
      maxMemoryBytes: config.maxMemoryBytes,
      defaultCpuCores: config.defaultCpuCores,
      maxCpuCores: config.maxCpuCores,
      pidsLimit: config.pidsLimit,
      defaultTimeoutS: config.runDefaultTimeoutS,
      maxTimeoutS: config.runMaxTimeoutS,
      allowedHostPaths: config.runHostPaths.split(':').filter((p) => p.startsWith('/')),
      trustedRegistries: parseTrustedRegistries(config.trustedRegistries),
    },
    uploadLimits: { ...DEFAULT_EXTRACT_LIMITS, maxBytes: Math.max(config.maxUploadBytes * 4, DEFAULT_EXTRACT_LIMITS.maxBytes) },
    onQueued: () => runWorkers.wake(),
    onCancel: (runId) => runExecutor.cancelLocally(runId),
  });
  /** Removes run containers whose run ended or does not exist (left by a crash between finish and removal). */
  const removeFinishedRunContainers = async (): Promise<void> => {
    for (const container of await runEngine.listRunContainers()) {
      const run = await runs.get(container.runId);
      if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) await runEngine.remove(container.id);
    }
  };
  let reconcileSoon: NodeJS.Timeout | undefined;
  const gateway = new Gateway({
    routes,
    authorize: createGatewayAuthorizer(authDirectory),
    onReplicaUnreachable: (containerId) => {
      routes.setReplicaRunning(containerId, false);
      reconcileSoon ??= setTimeout(() => {
        reconcileSoon = undefined;
        void reconciler.reconcile().catch((error: unknown) => logger.error({ err: error }, 'reconciliation failed'));
      }, 200);
    },
  });

  let ready = false;
  const app = createApp({
    service,
    deployments,
    jobs,
    target,
    gateway,
    runService,
    runs,
    runEvents,
    imageChecker,
    wheelhouse,
    wheelBuilds,
    secrets,
    audit,
    maxDockerfileBytes: config.maxDockerfileBytes,
    authDirectory,
    auth,
    loginRateLimitPerMinute: config.loginRateLimitPerMinute,
    tokenRateLimitPerMinute: config.tokenRateLimitPerMinute,
    sessionTtlS: config.sessionTtlS,
    secureCookies: config.pubUrl.startsWith('https://'),
    maxUploadBytes: config.maxUploadBytes,
    isReady: () => ready,
    logger,
    version: pitlaneVersion(),
  });

  await routes.reload();
  const summary = await reconciler.reconcile();
  if (summary.removedOrphans.length + summary.recreatedReplicas.length > 0) {
    logger.info(summary, 'start-up reconciliation');
  }
  await removeFinishedRunContainers();
  const runJanitor = setInterval(() => {
    void removeFinishedRunContainers().catch((error: unknown) => logger.error({ err: error }, 'run container clean-up failed'));
  }, Math.max(config.reconcileIntervalMs, 5000));
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  workers.start();
  runWorkers.start();
  reconciler.start(config.reconcileIntervalMs);
  ready = true;

  return {
    url: `http://${host}:${port}`,
    generatedToken: generated,
    async close() {
      ready = false;
      reconciler.stop();
      if (reconcileSoon) clearTimeout(reconcileSoon);
      clearInterval(runJanitor);
      runExecutor.detachAll();
      await Promise.all([workers.stop(), runWorkers.stop()]);
      await wheelBuilds.close();
      await app.close();
      await gateway.close();
      await authDirectory.stop();
      await db.destroy();
    },
  };
}
