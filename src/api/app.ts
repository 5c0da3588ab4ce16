/**
 * The HTTP application: the fastify API plus the gateway on one server. Gateway URLs (`/pub/...`)
 * go straight to the gateway's raw handler (no framework on the hot path); everything else to
 * fastify. Only `/live`, `/ready` and `/health` are open; every other route needs the admin token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import { credentialFromHeaders, hasScopeAnywhere, NO_PERMISSIONS, type AuthDirectory, type AuthService, type PrincipalPermissions, type RouteAuth } from '../auth/index.js';
import type { AuditLog } from '../audit/index.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerIdentityRoutes } from './identity-routes.js';
import type { DeploymentService } from '../deploy/index.js';
import type { Gateway } from '../gateway/index.js';
import type { InfrastructureTarget } from '../infra/index.js';
import type { DeploymentRepository, JobRepository } from '../store/index.js';
import { registerDeployRoutes } from './deploy-routes.js';
import { bodyLimitHook } from './body-limits.js';
import { clientErrorHandler, frameworkErrorHandler } from './client-errors.js';
import { strictBodyTypes } from './validation.js';
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
  /** Largest Dockerfile accepted for a run, in bytes. */
  maxDockerfileBytes: number;
  /** The permission cache every request is checked against. */
  authDirectory: AuthDirectory;
  auth: AuthService;
  audit: AuditLog;
  /** Login attempts per client address per minute. */
  loginRateLimitPerMinute: number;
  /** Token creations per client address per minute. */
  tokenRateLimitPerMinute: number;
  /** Session lifetime in seconds. */
  sessionTtlS: number;
  /** Session cookies are always Secure (the public URL is https://). */
  secureCookies: boolean;
  /** Largest request body in bytes (uploads). */
  maxUploadBytes: number;
  /** Readiness of Pitlane itself (database reachable, start-up reconciliation done). */
  isReady: () => boolean;
  logger: import('pino').Logger;
  version: string;
}

/** Routes without `config.auth` are closed: admin only. */
const DEFAULT_ROUTE_AUTH: RouteAuth = { scope: 'admin' };

const UNAUTHENTICATED_MESSAGES: Record<string, string> = {
  missing: 'a valid token is required (Authorization: Bearer <token>, X-Racetrack-Auth or the session cookie)',
  unknown: 'the token is not valid (unknown or revoked)',
  expired: 'the token has expired',
  disabled: 'the identity of this token is disabled',
};

/** Creates the fastify app with the gateway mounted in front. Call `listen` on the result. */
export function createApp(deps: ApiDependencies): FastifyInstance {
  const app = fastify({
    loggerInstance: deps.logger,
    bodyLimit: Math.ceil(deps.maxUploadBytes * 1.4) + 1024 * 1024,
    requestIdHeader: 'x-request-id',
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
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
      openapi: '3.1.0',
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (pitlane_...) in Authorization: Bearer, X-Racetrack-Auth, or the pitlane_session cookie. Each operation lists the scope it needs; an empty list means any identity.' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/api/v1/openapi.json', { config: { auth: { public: true } }, schema: { hide: true } }, async () => app.swagger());
  void app.register(rateLimit, { global: false });
  void app.register(multipart, { limits: { fileSize: deps.maxUploadBytes, files: 2, fields: 20, fieldSize: 2 * 1024 * 1024 } });
  // Body limits per route: small unless the route takes an upload (body-limits.ts).
  app.addHook('onRoute', bodyLimitHook({ uploadBytes: deps.maxUploadBytes, dockerfileBytes: deps.maxDockerfileBytes }));
  // JSON bodies must already have the types their schema declares (ajv would coerce them).
  app.addHook('preValidation', strictBodyTypes);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('permissions', null as unknown as PrincipalPermissions);
  // Publish each route's rule in OpenAPI (3.1 allows role names for bearer schemes): public
  // routes have `security: []`, others `[{bearer: [SCOPE]}]` or `[{bearer: []}]` (any identity).
  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth ?? DEFAULT_ROUTE_AUTH;
    const security = 'public' in auth ? [] : [{ bearer: 'scope' in auth ? [auth.scope] : [] }];
    route.schema = { ...(route.schema ?? {}), security };
  });
  app.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config?.auth ?? DEFAULT_ROUTE_AUTH;
    const result = deps.authDirectory.authenticate(credentialFromHeaders(request.headers));
    request.permissions = NO_PERMISSIONS;
    if (result.ok) {
      request.principal = result.principal;
      request.permissions = deps.authDirectory.permissionsOf(result.principal.identityId);
    }
    if ('public' in auth) return;
    if (!result.ok) {
      await reply.status(401).send({ error: { code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGES[result.reason], details: [] } });
      return;
    }
    if ('scope' in auth && !hasScopeAnywhere(deps.authDirectory.grantsOf(result.principal.identityId), auth.scope)) {
      await reply.status(403).send({
        error: { code: 'FORBIDDEN', message: `${result.principal.kind} "${result.principal.name}" lacks scope ${auth.scope}`, details: [] },
      });
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.register(async (scope) => {
    scope.get('/live', { config: { auth: { public: true } }, schema: { description: 'Liveness: the process answers.' } }, async () => ({ live: true }));
    scope.get('/ready', { config: { auth: { public: true } }, schema: { description: 'Readiness: start-up done and the database answers.' } }, async (_request, reply) => {
      const ready = deps.isReady();
      return reply.status(ready ? 200 : 503).send({ ready });
    });
    scope.get('/health', { config: { auth: { public: true } }, schema: { description: 'Service name, version and status.' } }, async () => ({
      service: 'pitlane',
      version: deps.version,
      status: deps.isReady() ? 'pass' : 'starting',
    }));
    registerAuthRoutes(scope, { auth: deps.auth, loginRateLimitPerMinute: deps.loginRateLimitPerMinute, tokenRateLimitPerMinute: deps.tokenRateLimitPerMinute, sessionTtlS: deps.sessionTtlS, secureCookies: deps.secureCookies });
    registerIdentityRoutes(scope, { auth: deps.auth, audit: deps.audit });
    registerDeployRoutes(scope, { service: deps.service, deployments: deps.deployments, auth: deps.auth });
    registerJobRoutes(scope, { service: deps.service, jobs: deps.jobs, target: deps.target, auth: deps.auth });
    registerSecretRoutes(scope, { secrets: deps.secrets, audit: deps.audit });
    registerLintRoutes(scope, deps.maxDockerfileBytes);
    registerImageRoutes(scope, deps.imageChecker);
    registerWheelRoutes(scope, { wheelhouse: deps.wheelhouse, builds: deps.wheelBuilds, maxSourceBytes: deps.maxUploadBytes });
    registerRunRoutes(scope, { service: deps.runService, runs: deps.runs, events: deps.runEvents, maxDockerfileBytes: deps.maxDockerfileBytes });
  });
  return app as unknown as FastifyInstance;
}
