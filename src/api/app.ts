/**
 * The HTTP application: the fastify API plus the gateway on one server. Gateway URLs (`/pub/...`)
 * go straight to the gateway's raw handler (no framework on the hot path); everything else to
 * fastify. Only `/live`, `/ready` and `/health` are open; every other route needs the admin token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { AdminTokenVerifier } from '../auth/index.js';
import { NO_PERMISSIONS } from '../auth/request-auth.js';
import type { DeploymentService } from '../deploy/index.js';
import type { AuditRecorder } from '../audit/index.js';
import type { Gateway } from '../gateway/index.js';
import type { InfrastructureTarget } from '../infra/index.js';
import type { DeploymentRepository, JobRepository } from '../store/index.js';
import { registerDeployRoutes } from './deploy-routes.js';
import { errorHandler } from './errors.js';
import { registerJobRoutes } from './job-routes.js';
import { registerSecretRoutes } from './secret-routes.js';
import type { SecretService } from '../secrets/index.js';
import { registerRunRoutes } from './run-routes.js';
import { registerLintRoutes } from './lint-routes.js';
import { registerImageRoutes } from './image-routes.js';
import { isOpenWheelPath, registerWheelRoutes } from './wheel-routes.js';
import type { Wheelhouse, WheelBuildService } from '../wheelhouse/index.js';
import type { ImageChecker } from '../deploy/index.js';
import type { RunEvents, RunService } from '../runs/index.js';
import type { RunRepository } from '../store/index.js';

/** Everything the API needs. */
export interface ApiDependencies {
  service: DeploymentService;
  deployments: DeploymentRepository;
  jobs: JobRepository;
  target: InfrastructureTarget;
  gateway: Gateway;
  runService: RunService;
  runs: RunRepository;
  runEvents: RunEvents;
  imageChecker: ImageChecker;
  wheelhouse: Wheelhouse;
  wheelBuilds: WheelBuildService;
  /** Job secrets (values never leave through the API). */
  secrets: SecretService;
  /** Where changes are recorded (secret.set, secret.delete...). */
  audit: AuditRecorder;
  /** Largest Dockerfile accepted for a run, in bytes. */
  maxDockerfileBytes: number;
  verifier: AdminTokenVerifier;
  /** Largest request body in bytes (uploads). */
  maxUploadBytes: number;
  /** Readiness of Pitlane itself (database reachable, start-up reconciliation done). */
  isReady: () => boolean;
  logger: import('pino').Logger;
  version: string;
}

const OPEN_PATHS = new Set(['/live', '/ready', '/health']);

/** Creates the fastify app with the gateway mounted in front. Call `listen` on the result. */
export function createApp(deps: ApiDependencies): FastifyInstance {
  const app = fastify({
    loggerInstance: deps.logger,
    bodyLimit: Math.ceil(deps.maxUploadBytes * 1.4) + 1024 * 1024,
    requestIdHeader: 'x-request-id',
    serverFactory: (handler) =>
      createServer({ keepAliveTimeout: 65_000 }, (req: IncomingMessage, res: ServerResponse) => {
        if (req.url?.startsWith('/pub/')) deps.gateway.handle(req, res);
        else handler(req, res);
      }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [] } });
  });
  void app.register(swagger, {
    openapi: {
      info: { title: 'Pitlane API', version: deps.version, description: 'Deploy, call and observe container jobs.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  void app.register(multipart, { limits: { fileSize: deps.maxUploadBytes, files: 2, fields: 20, fieldSize: 2 * 1024 * 1024 } });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('permissions', NO_PERMISSIONS);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // The wheel index is read-only and open: pip cannot send Pitlane's bearer token.
    if (OPEN_PATHS.has(path) || isOpenWheelPath(request.method, path)) return;
    if (deps.verifier.verifyHeaders(request.headers)) {
      // Bridge until identities land: the admin token is the admin user with every scope.
      request.principal = { identityId: 'admin', kind: 'user', name: 'admin', tokenId: 'bootstrap', viaCookie: false };
      request.permissions = { can: () => true, canOnJob: () => true };
    } else {
      await reply.status(401).send({
        error: { code: 'UNAUTHENTICATED', message: 'a valid token is required (Authorization: Bearer <token> or X-Racetrack-Auth)', details: [] },
      });
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.get('/live', { schema: { description: 'Liveness: the process answers.' } }, async () => ({ live: true }));
  app.get('/ready', { schema: { description: 'Readiness: start-up done and the database answers.' } }, async (_request, reply) => {
    const ready = deps.isReady();
    return reply.status(ready ? 200 : 503).send({ ready });
  });
  app.get('/health', { schema: { description: 'Service name, version and status.' } }, async () => ({
    service: 'pitlane',
    version: deps.version,
    status: deps.isReady() ? 'pass' : 'starting',
  }));

  app.register(async (scope) => {
    registerDeployRoutes(scope, { service: deps.service, deployments: deps.deployments });
    registerJobRoutes(scope, { service: deps.service, jobs: deps.jobs, target: deps.target });
    registerSecretRoutes(scope, { secrets: deps.secrets, audit: deps.audit });
    registerLintRoutes(scope, deps.maxDockerfileBytes);
    registerImageRoutes(scope, deps.imageChecker);
    registerWheelRoutes(scope, { wheelhouse: deps.wheelhouse, builds: deps.wheelBuilds, maxSourceBytes: deps.maxUploadBytes });
    registerRunRoutes(scope, { service: deps.runService, runs: deps.runs, events: deps.runEvents, maxDockerfileBytes: deps.maxDockerfileBytes });
  });
  return app as unknown as FastifyInstance;
}
