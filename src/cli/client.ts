/**
 * The HTTP client the CLI uses to talk to a Pitlane server. The server URL comes from
 * `PITLANE_URL` (default `http://127.0.0.1:7300`), the token from `PITLANE_TOKEN`, or else from
 * the config file `$XDG_CONFIG_HOME/pitlane/config.json` (`{"url": ..., "token": ...}`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';

/** Where the CLI finds the server. */
export interface ClientSettings {
  url: string;
  token: string | undefined;
}

/** Path of the CLI config file. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'pitlane', 'config.json');
}

/** Resolves the server URL and token from the environment and the config file. */
export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  let file: { url?: string; token?: string } = {};
  try {
    file = JSON.parse(readFileSync(configFilePath(env), 'utf8')) as typeof file;
  } catch {
    file = {};
  }
  const url = (env.PITLANE_URL || file.url || 'http://127.0.0.1:7300').replace(/\/+$/, '');
  return { url, token: env.PITLANE_TOKEN || file.token };
}

/** An error answer from the server, with DESIGN.md's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; line?: number; message: string }[],
  ) {
    super(message);
  }
}

/** Thin JSON client over undici. */
export class PitlaneClient {
  constructor(readonly settings: ClientSettings) {}

  /** Headers carrying the token. */
  authHeaders(): Record<string, string> {
    return this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {};
  }

  /**
   * Sends a request and returns the raw undici response (for streams and gateway calls).
   * @throws Error when the server cannot be reached.
   */
  async raw(method: string, path: string, options: { body?: Dispatcher.DispatchOptions['body']; headers?: Record<string, string> } = {}): Promise<Dispatcher.ResponseData> {
    try {
      return await request(`${this.settings.url}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers: { ...this.authHeaders(), ...options.headers },
        body: options.body,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (error) {
      throw new Error(`cannot reach Pitlane at ${this.settings.url} (${(error as Error).message}); is \`pitlane serve\` running? Set PITLANE_URL otherwise`);
    }
  }

  /**
   * Sends a JSON request and parses the JSON answer.
   * @throws ApiError for 4xx/5xx answers.
   */
  async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.raw(method, path, {
      body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    });
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (response.statusCode >= 400) throw toApiError(response.statusCode, parsed);
    return parsed as T;
  }
}

/** Turns an error answer into an {@link ApiError}. */
export function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string; details?: ApiError['details'] } } | undefined)?.error;
  if (error) return new ApiError(status, error.code ?? 'ERROR', error.message ?? `HTTP ${status}`, error.details ?? []);
  return new ApiError(status, 'ERROR', typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${status}`, []);
}
