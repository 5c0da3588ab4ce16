/**
 * Request body limits per route. Every route gets a small limit unless it takes an upload: only
 * the routes that carry a base64 build context (deploy, runs) get the upload limit, the linter a
 * limit sized for a Dockerfile, wheel builds one sized for a requirements file. A route that
 * declares its own `bodyLimit` keeps it. Multipart bodies are bounded separately, per part, by
 * `@fastify/multipart`'s limits (file size, number of files and fields).
 */
import type { RouteOptions } from 'fastify';

/** Limit of routes without an upload: JSON bodies such as tokens, grants, cancellations (64 KiB). */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Sizes the per-route limits derive from. */
export interface BodyLimitSizes {
  /** Largest build context upload, in bytes (`PITLANE_MAX_UPLOAD_BYTES`). */
  uploadBytes: number;
  /** Largest Dockerfile, in bytes (`PITLANE_MAX_DOCKERFILE_BYTES`). */
  dockerfileBytes: number;
}

/**
 * The body limit of one route in bytes (pure).
 * - `POST /api/v1/deploy`, `/api/v1/runs`, `/run`: the upload base64-encoded (4/3) plus 1 MiB of JSON;
 * - `POST /api/v1/lint`: twice the Dockerfile limit (JSON escaping) plus 64 KiB of settings;
 * - `POST /api/v1/wheels/build`: 2 MiB (a requirements text is at most 1 MiB);
 * - every other route: {@link DEFAULT_BODY_LIMIT}.
 */
export function bodyLimitFor(method: string | string[], url: string, sizes: BodyLimitSizes): number {
  const methods = Array.isArray(method) ? method : [method];
  if (!methods.includes('POST')) return DEFAULT_BODY_LIMIT;
  if (url === '/api/v1/deploy' || url === '/api/v1/runs' || url === '/run') return Math.ceil((sizes.uploadBytes * 4) / 3) + 1024 * 1024;
  if (url === '/api/v1/lint') return sizes.dockerfileBytes * 2 + DEFAULT_BODY_LIMIT;
  if (url === '/api/v1/wheels/build') return 2 * 1024 * 1024;
  return DEFAULT_BODY_LIMIT;
}

/**
 * An `onRoute` hook giving each route the limit of {@link bodyLimitFor} unless it declares one.
 * Register it before the routes.
 */
export function bodyLimitHook(sizes: BodyLimitSizes): (route: RouteOptions) => void {
  return (route) => {
    if (route.bodyLimit !== undefined) return;
    route.bodyLimit = bodyLimitFor(route.method, route.url, sizes);
  };
}
