import { cpus } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, loadConfig } from '../../../src/config.js';

function configError(env: NodeJS.ProcessEnv, overrides: Parameters<typeof loadConfig>[1] = {}): string {
  try {
    loadConfig(env, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const config = loadConfig({});
    // toMatchObject: other settings may be added next to these.
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 7300,
      dataDir: resolve('.pitlane'),
      dockerAccess: 'network',
      dockerNetwork: 'pitlane',
      readyTimeoutS: 120,
      deployConcurrency: Math.max(1, Math.min(2, cpus().length)),
      leaseMs: 15_000,
      reconcileIntervalMs: 3_000,
      defaultMemoryBytes: 512 * 1024 * 1024,
      maxMemoryBytes: 8 * 1024 * 1024 * 1024,
      defaultCpuCores: 1,
      maxCpuCores: Math.max(1, cpus().length),
      pidsLimit: 512,
      maxUploadBytes: 256 * 1024 * 1024,
      pubUrl: 'http://127.0.0.1:7300/pub',
      logLevel: 'info',
    });
    expect(config.adminToken).toBeUndefined();
  });

  it('reads every environment variable', () => {
    const config = loadConfig({
      PITLANE_HOST: '10.1.2.3',
      PITLANE_PORT: '8080',
      PITLANE_DATA_DIR: '/var/lib/pitlane',
      PITLANE_ADMIN_TOKEN: 'a-sixteen-chars!',
      PITLANE_DOCKER_ACCESS: 'loopback',
      PITLANE_DOCKER_NETWORK: 'my_net.1-x',
      PITLANE_READY_TIMEOUT_S: '2.5',
      PITLANE_DEPLOY_CONCURRENCY: '4',
      PITLANE_LEASE_MS: '1000',
      PITLANE_RECONCILE_INTERVAL_MS: '200',
      PITLANE_DEFAULT_MEMORY_BYTES: '1048576',
      PITLANE_MAX_MEMORY_BYTES: '2097152',
      PITLANE_DEFAULT_CPU_CORES: '0.5',
      PITLANE_MAX_CPU_CORES: '3',
      PITLANE_PIDS_LIMIT: '64',
      PITLANE_MAX_UPLOAD_BYTES: '1000',
      PITLANE_PUB_URL: 'https://gateway.example.com/pub',
      PITLANE_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      host: '10.1.2.3',
      port: 8080,
      dataDir: '/var/lib/pitlane',
      adminToken: 'a-sixteen-chars!',
      dockerAccess: 'loopback',
      dockerNetwork: 'my_net.1-x',
      readyTimeoutS: 2.5,
      deployConcurrency: 4,
      leaseMs: 1000,
      reconcileIntervalMs: 200,
      defaultMemoryBytes: 1048576,
      maxMemoryBytes: 2097152,
      defaultCpuCores: 0.5,
      maxCpuCores: 3,
      pidsLimit: 64,
      maxUploadBytes: 1000,
      pubUrl: 'https://gateway.example.com/pub',
      logLevel: 'debug',
    });
  });

  it('names every environment variable it reads in CONFIG_ENV', () => {
    expect(Object.values(CONFIG_ENV).every((name) => /^PITLANE_[A-Z_]+$/.test(name))).toBe(true);
    expect(new Set(Object.values(CONFIG_ENV)).size).toBe(Object.keys(CONFIG_ENV).length);
  });

  it('ignores empty variables and unrelated ones', () => {
    const config = loadConfig({ PITLANE_PORT: '', PITLANE_HOST: '', PATH: '/usr/bin', PITLANE_UNKNOWN: 'x' });
    expect(config.port).toBe(7300);
    expect(config.host).toBe('127.0.0.1');
  });

  it('lets overrides (command-line flags) win over the environment', () => {
    const config = loadConfig({ PITLANE_PORT: '8080', PITLANE_HOST: '10.0.0.1', PITLANE_LOG_LEVEL: 'warn' }, { port: 9090, host: '0.0.0.0', logLevel: undefined });
    expect(config.port).toBe(9090);
    expect(config.host).toBe('0.0.0.0');
    // An undefined override does not erase the environment's value.
    expect(config.logLevel).toBe('warn');
  });

  it('coerces string overrides like environment values', () => {
    expect(loadConfig({}, { port: '1234' }).port).toBe(1234);
  });

  it('resolves a relative data directory to an absolute path', () => {
    const config = loadConfig({ PITLANE_DATA_DIR: 'some/relative/dir' });
    expect(isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(resolve('some/relative/dir'));
  });

  describe('pubUrl', () => {
    it('derives the pub URL from host and port', () => {
      expect(loadConfig({ PITLANE_HOST: '192.168.1.5', PITLANE_PORT: '8000' }).pubUrl).toBe('http://192.168.1.5:8000/pub');
      expect(loadConfig({ PITLANE_HOST: 'pitlane.local' }).pubUrl).toBe('http://pitlane.local:7300/pub');
    });

    it.each(['0.0.0.0', '::'])('uses 127.0.0.1 when listening on %s', (host) => {
      expect(loadConfig({ PITLANE_HOST: host }).pubUrl).toBe('http://127.0.0.1:7300/pub');
    });

    it('brackets an IPv6 host', () => {
      const pubUrl = loadConfig({ PITLANE_HOST: '::1' }).pubUrl;
      expect(pubUrl).toBe('http://[::1]:7300/pub');
      expect(new URL(pubUrl).port).toBe('7300');
    });

    it('keeps an explicit pub URL', () => {
      expect(loadConfig({ PITLANE_PUB_URL: 'http://host.docker.internal:7300/pub', PITLANE_HOST: '0.0.0.0' }).pubUrl).toBe(
        'http://host.docker.internal:7300/pub',
      );
    });
  });

  describe('invalid values', () => {
    it.each([
      ['PITLANE_PORT', 'abc'],
      ['PITLANE_PORT', '65536'],
      ['PITLANE_PORT', '-1'],
      ['PITLANE_PORT', '80.5'],
      ['PITLANE_ADMIN_TOKEN', 'short'],
      ['PITLANE_DOCKER_ACCESS', 'host'],
      ['PITLANE_DOCKER_NETWORK', 'bad name'],
      ['PITLANE_DOCKER_NETWORK', '-leading'],
      ['PITLANE_READY_TIMEOUT_S', '0'],
      ['PITLANE_READY_TIMEOUT_S', 'soon'],
      ['PITLANE_DEPLOY_CONCURRENCY', '0'],
      ['PITLANE_DEPLOY_CONCURRENCY', '65'],
      ['PITLANE_LEASE_MS', '999'],
      ['PITLANE_RECONCILE_INTERVAL_MS', '100'],
      ['PITLANE_DEFAULT_MEMORY_BYTES', '0'],
      ['PITLANE_MAX_MEMORY_BYTES', '1.5'],
      ['PITLANE_DEFAULT_CPU_CORES', '-1'],
      ['PITLANE_MAX_CPU_CORES', 'many'],
      ['PITLANE_PIDS_LIMIT', '0'],
      ['PITLANE_MAX_UPLOAD_BYTES', 'big'],
      ['PITLANE_PUB_URL', 'not a url'],
      ['PITLANE_LOG_LEVEL', 'verbose'],
    ])('%s=%j names the variable', (variable, value) => {
      const message = configError({ [variable]: value });
      expect(message).toMatch(/^invalid configuration: /);
      expect(message).toContain(`${variable}: `);
    });

    it('lists every invalid variable at once', () => {
      const message = configError({ PITLANE_PORT: 'x', PITLANE_LOG_LEVEL: 'loud', PITLANE_HOST: 'fine' });
      expect(message).toContain('PITLANE_PORT: ');
      expect(message).toContain('PITLANE_LOG_LEVEL: ');
      expect(message).not.toContain('PITLANE_HOST');
    });

    it('explains the admin token rule', () => {
      expect(configError({ PITLANE_ADMIN_TOKEN: 'x'.repeat(15) })).toContain('PITLANE_ADMIN_TOKEN: PITLANE_ADMIN_TOKEN must be at least 16 characters');
      expect(loadConfig({ PITLANE_ADMIN_TOKEN: 'x'.repeat(16) }).adminToken).toBe('x'.repeat(16));
    });

    it('names the variable for an invalid override too', () => {
      expect(configError({}, { port: 70_000 })).toContain('PITLANE_PORT: ');
    });

    it('accepts the boundary values', () => {
      const config = loadConfig({
        PITLANE_PORT: '0',
        PITLANE_LEASE_MS: '1000',
        PITLANE_RECONCILE_INTERVAL_MS: '200',
        PITLANE_DEPLOY_CONCURRENCY: '64',
      });
      expect(config).toMatchObject({ port: 0, leaseMs: 1000, reconcileIntervalMs: 200, deployConcurrency: 64 });
      expect(loadConfig({ PITLANE_PORT: '65535' }).port).toBe(65535);
    });
  });
});
