/** The CLI config file: per-server tokens, backward compatibility with {"url","token"}, mode 0600. */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientSettings } from '../../../src/cli/client.js';
import { normaliseServerUrl, readConfigFile, storedToken, withoutServerToken, withServerToken, writeConfigFile } from '../../../src/cli/config-file.js';

describe('normaliseServerUrl', () => {
  it('lower-cases scheme and host, drops the default port, trailing slashes, query and fragment', () => {
    expect(normaliseServerUrl('HTTP://Pitlane.Example.COM:80/')).toBe('http://pitlane.example.com');
    expect(normaliseServerUrl('https://host:443/prefix//?a=1#x')).toBe('https://host/prefix');
    expect(normaliseServerUrl(' http://127.0.0.1:7300/ ')).toBe('http://127.0.0.1:7300');
  });
  it('leaves a non-URL alone apart from trailing slashes', () => {
    expect(normaliseServerUrl('not a url//')).toBe('not a url');
  });
});

describe('storedToken', () => {
  it('gives the original format\'s token for any server (backward compatible)', () => {
    expect(storedToken({ url: 'http://a:1', token: 't' }, 'http://a:1')).toBe('t');
    expect(storedToken({ url: 'http://a:1', token: 't' }, 'http://b:2')).toBe('t');
    expect(storedToken({ token: 't' }, 'http://b:2')).toBe('t');
    expect(storedToken({}, 'http://b:2')).toBeUndefined();
  });
  it('with servers, gives each server its own token and no token to an unknown server', () => {
    const config = { url: 'http://a:1', token: 'ta', servers: { 'http://a:1': { token: 'ta' }, 'http://b:2': { token: 'tb' } } };
    expect(storedToken(config, 'http://a:1/')).toBe('ta');
    expect(storedToken(config, 'HTTP://B:2')).toBe('tb');
    expect(storedToken(config, 'http://c:3')).toBeUndefined();
  });
  it('falls back to the top-level token only for the default server', () => {
    const config = { url: 'http://a:1', token: 'ta', servers: {} };
    expect(storedToken(config, 'http://a:1')).toBe('ta');
    expect(storedToken(config, 'http://b:2')).toBeUndefined();
  });
});

describe('withServerToken / withoutServerToken', () => {
  it('keeps other servers and unknown fields, and makes the server the default', () => {
    const start = { url: 'http://a:1', token: 'ta', servers: { 'http://a:1': { token: 'ta', note: 'x' } }, editor: 'vim' };
    const next = withServerToken(start, 'http://b:2/', 'tb');
    expect(next).toEqual({
      url: 'http://b:2',
      token: 'tb',
      servers: { 'http://a:1': { token: 'ta', note: 'x' }, 'http://b:2': { token: 'tb' } },
      editor: 'vim',
    });
    expect(start.servers).toEqual({ 'http://a:1': { token: 'ta', note: 'x' } });
    expect(storedToken(next, 'http://a:1')).toBe('ta');
    expect(storedToken(next, 'http://b:2')).toBe('tb');
  });
  it('upgrades the original format', () => {
    expect(withServerToken({ url: 'http://a:1', token: 'old' }, 'http://a:1', 'new')).toEqual({ url: 'http://a:1', token: 'new', servers: { 'http://a:1': { token: 'new' } } });
  });
  it('forgets one server\'s token, and the top-level one only when that server is the default', () => {
    const both = withServerToken(withServerToken({}, 'http://a:1', 'ta'), 'http://b:2', 'tb');
    const withoutA = withoutServerToken(both, 'http://a:1');
    expect(withoutA).toEqual({ url: 'http://b:2', token: 'tb', servers: { 'http://b:2': { token: 'tb' } } });
    const withoutB = withoutServerToken(both, 'http://b:2');
    expect(withoutB).toEqual({ url: 'http://b:2', servers: { 'http://a:1': { token: 'ta' } } });
    expect(storedToken(withoutB, 'http://b:2')).toBeUndefined();
    expect(storedToken(withoutB, 'http://a:1')).toBe('ta');
  });
  it('keeps other fields of a server entry and removes the token of an original-format file', () => {
    expect(withoutServerToken({ servers: { 'http://a:1': { token: 't', note: 'x' } } }, 'http://a:1')).toEqual({ servers: { 'http://a:1': { note: 'x' } } });
    expect(withoutServerToken({ url: 'http://a:1', token: 't' }, 'http://z:9')).toEqual({ url: 'http://a:1' });
  });
});

describe('readConfigFile / writeConfigFile', () => {
  it('writes mode 0600 in a 0700 directory, atomically, and reads it back', () => {
    const base = mkdtempSync(join(tmpdir(), 'pitlane-cli-config-'));
    const path = join(base, 'nested', 'pitlane', 'config.json');
    expect(readConfigFile(path)).toEqual({});
    writeConfigFile(path, { url: 'http://a:1', token: 't' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(base, 'nested', 'pitlane')).mode & 0o777).toBe(0o700);
    expect(readConfigFile(path)).toEqual({ url: 'http://a:1', token: 't' });
    expect(readdirSync(join(base, 'nested', 'pitlane'))).toEqual(['config.json']);
  });
  it('tightens an existing wider file and directory', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pitlane-cli-config-')), 'pitlane');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const path = join(dir, 'config.json');
    writeFileSync(path, '{"url":"http://a:1"}', { mode: 0o644 });
    writeConfigFile(path, withServerToken(readConfigFile(path), 'http://a:1', 'secret'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8')).servers['http://a:1'].token).toBe('secret');
  });
  it('refuses a file that is not a JSON object, naming it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pitlane-cli-config-')), 'config.json');
    writeFileSync(path, '{not json');
    expect(() => readConfigFile(path)).toThrow(path);
    writeFileSync(path, '[1,2]');
    expect(() => readConfigFile(path)).toThrow(/JSON object/);
  });
});

describe('clientSettings', () => {
  function envWith(config: unknown, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const home = mkdtempSync(join(tmpdir(), 'pitlane-cli-home-'));
    mkdirSync(join(home, 'pitlane'));
    writeFileSync(join(home, 'pitlane', 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return { XDG_CONFIG_HOME: home, ...extra };
  }
  it('reads the original format as before', () => {
    expect(clientSettings(envWith({ url: 'http://a:1/', token: 't' }))).toEqual({ url: 'http://a:1', token: 't' });
    expect(clientSettings(envWith({ url: 'http://a:1', token: 't' }, { PITLANE_URL: 'http://b:2' }))).toEqual({ url: 'http://b:2', token: 't' });
  });
  it('picks the token of PITLANE_URL\'s server, and PITLANE_TOKEN wins over everything', () => {
    const config = withServerToken(withServerToken({}, 'http://a:1', 'ta'), 'http://b:2', 'tb');
    expect(clientSettings(envWith(config))).toEqual({ url: 'http://b:2', token: 'tb' });
    expect(clientSettings(envWith(config, { PITLANE_URL: 'http://a:1' }))).toEqual({ url: 'http://a:1', token: 'ta' });
    expect(clientSettings(envWith(config, { PITLANE_URL: 'http://c:3' }))).toEqual({ url: 'http://c:3', token: undefined });
    expect(clientSettings(envWith(config, { PITLANE_TOKEN: 'env' })).token).toBe('env');
  });
  it('ignores a broken or null config file', () => {
    expect(clientSettings(envWith('null'))).toEqual({ url: 'http://127.0.0.1:7300', token: undefined });
    expect(clientSettings(envWith('{broken'))).toEqual({ url: 'http://127.0.0.1:7300', token: undefined });
  });
});
