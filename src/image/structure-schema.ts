/**
 * container-structure-test configuration, schema version 2.0.0 (pure logic): parsing and
 * validation with errors that name the field (and its line, when parsed from YAML text).
 *
 * Sources: GoogleContainerTools/container-structure-test `pkg/types/v2/structure.go`,
 * `command.go`, `file_existence.go` (`shouldExist` defaults to true, `uid`/`gid` unset = not
 * checked), `file_content.go`, `metadata.go`, `licenses.go`, `pkg/types/unversioned/types.go`
 * and the README ("Command Tests", "File Existence Tests", "Metadata Test", "Additional Options").
 */
import { Document, LineCounter, parseDocument } from 'yaml';
import type { ErrorDetail } from '../errors.js';
import { configError } from './errors.js';
import { compileGoRegex } from './go-compat.js';

/** An environment variable or label expectation. */
export interface EnvVar {
  /** Variable (or label) name. */
  key: string;
  /** Expected value; `$VAR` / `${VAR}` are expanded from the image environment. */
  value: string;
  /** Treat `value` as a Go (RE2) regular expression (metadata tests only). */
  isRegex: boolean;
}

/** `commandTests[]` (`pkg/types/v2/command.go`). */
export interface CommandTest {
  name: string;
  /** Commands run first, each in its own container committed as the new base. */
  setup: string[][];
  /** Commands run after the test, each in its own container. */
  teardown: string[][];
  envVars: EnvVar[];
  /** The program to run (the image's entrypoint is overridden). */
  command: string;
  args: string[];
  /** Regexes stdout must match. */
  expectedOutput: string[];
  /** Regexes stdout must not match. */
  excludedOutput: string[];
  /** Regexes stderr must match. */
  expectedError: string[];
  /** Regexes stderr must not match. */
  excludedError: string[];
  /** Expected exit code (default 0, compared exactly). */
  exitCode: number;
}

/** `fileExistenceTests[]` (`pkg/types/v2/file_existence.go`). */
export interface FileExistenceTest {
  name: string;
  path: string;
  /** Default true. */
  shouldExist: boolean;
  /** Go `os.FileMode.String()` form, e.g. `-rw-r--r--`, `drwxr-xr-x`. */
  permissions: string | null;
  /** Expected owner uid, `null` = not checked. */
  uid: number | null;
  /** Expected owner gid, `null` = not checked. */
  gid: number | null;
  isExecutableBy: 'owner' | 'group' | 'other' | 'any' | null;
}

/** `fileContentTests[]` (`pkg/types/v2/file_content.go`). */
export interface FileContentTest {
  name: string;
  path: string;
  expectedContents: string[];
  excludedContents: string[];
}

/** `metadataTest` (`pkg/types/v2/metadata.go`); `null`/absent fields are not checked. */
export interface MetadataTest {
  envVars: EnvVar[];
  unboundEnvVars: string[];
  exposedPorts: string[];
  unexposedPorts: string[];
  /** `[]` means "must be empty"; `null` means unchecked. */
  entrypoint: string[] | null;
  cmd: string[] | null;
  workdir: string | null;
  volumes: string[];
  unmountedVolumes: string[];
  labels: EnvVar[];
  user: string | null;
}

/** `licenseTests[]` (accepted; not run by Pitlane - reported as skipped). */
export interface LicenseTest {
  debian: boolean;
  files: string[];
}

/** `containerRunOptions` (docker driver only). */
export interface ContainerRunOptions {
  user: string | null;
  privileged: boolean;
  allocateTty: boolean;
  /** Names of host environment variables passed through. */
  envVars: string[];
  envFile: string | null;
  capabilities: string[];
  /** `host:container[:opts]` bind mounts. */
  bindMounts: string[];
}

/** A validated structure-test file. */
export interface StructureTestConfig {
  schemaVersion: '2.0.0';
  globalEnvVars: EnvVar[];
  commandTests: CommandTest[];
  fileExistenceTests: FileExistenceTest[];
  fileContentTests: FileContentTest[];
  /** `null` when the file has no `metadataTest`. */
  metadataTest: MetadataTest | null;
  licenseTests: LicenseTest[];
  containerRunOptions: ContainerRunOptions | null;
}

type Path = Array<string | number>;

class Checker {
  readonly details: ErrorDetail[] = [];
  constructor(private readonly lineOf: (path: Path) => number | undefined) {}

  fail(path: Path, message: string): void {
    const line = this.lineOf(path);
    this.details.push({ path: fmtPath(path), ...(line !== undefined ? { line } : {}), message });
  }

  obj(v: unknown, path: Path, allowed: string[]): Record<string, unknown> | null {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.fail(path, 'must be a mapping');
      return null;
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown field '${k}' (allowed: ${allowed.join(', ')})`);
    }
    return v as Record<string, unknown>;
  }

  list(v: unknown, path: Path): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, 'must be a list');
      return [];
    }
    return v;
  }

  str(v: unknown, path: Path, required: boolean): string | null {
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'is required');
      return null;
    }
    if (typeof v === 'string') {
      if (required && v === '') this.fail(path, 'must not be empty');
      return v;
    }
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.fail(path, 'must be a string');
    return null;
  }

  strings(v: unknown, path: Path): string[] {
    return this.list(v, path)
      .map((x, i) => this.str(x, [...path, i], true))
      .filter((x): x is string => x !== null);
  }

  regexes(v: unknown, path: Path): string[] {
    const out = this.strings(v, path);
    out.forEach((re, i) => {
      try {
        compileGoRegex(re);
      } catch (err) {
        this.fail([...path, i], `is not a valid regular expression: ${(err as Error).message}`);
      }
    });
    return out;
  }

  bool(v: unknown, path: Path, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    this.fail(path, 'must be true or false');
    return dflt;
  }

  int(v: unknown, path: Path): number | null {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
    this.fail(path, 'must be an integer');
    return null;
  }

  envVars(v: unknown, path: Path, opts: { regex: boolean; requireValue: boolean }): EnvVar[] {
    const out: EnvVar[] = [];
    this.list(v, path).forEach((item, i) => {
      const p = [...path, i];
      const o = this.obj(item, p, opts.regex ? ['key', 'value', 'isRegex'] : ['key', 'value']);
      if (!o) return;
      const key = this.str(o['key'], [...p, 'key'], true);
      const value = this.str(o['value'], [...p, 'value'], opts.requireValue);
      const isRegex = this.bool(o['isRegex'], [...p, 'isRegex'], false);
      if (isRegex && value !== null) {
        try {
          compileGoRegex(value);
        } catch (err) {
          this.fail([...p, 'value'], `is not a valid regular expression: ${(err as Error).message}`);
        }
      }
      if (key !== null) out.push({ key, value: value ?? '', isRegex });
    });
    return out;
  }

  argvs(v: unknown, path: Path): string[][] {
    return this.list(v, path).map((cmd, i) => {
      const argv = this.strings(cmd, [...path, i]);
      if (Array.isArray(cmd) && cmd.length === 0) this.fail([...path, i], 'must not be an empty command');
      return argv;
    });
  }
}

function fmtPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const TOP_KEYS = ['schemaVersion', 'globalEnvVars', 'commandTests', 'fileExistenceTests', 'fileContentTests', 'metadataTest', 'licenseTests', 'containerRunOptions'];
const PERMISSION_RE = /^[dalTLDpSugct?-]+[r-][w-][xsStT-][r-][w-][xsStT-][r-][w-][xsStT-]$/;

/**
 * Parses and validates a container-structure-test file (schema 2.0.0) given as YAML/JSON text or
 * as an already parsed object (e.g. the manifest's `structure_tests:`). Defaults are applied
 * (`shouldExist: true`, `exitCode: 0`). Throws 400 `STRUCTURE_TESTS_INVALID` listing every problem
 * with its field path (`commandTests[0].command`) and, for text input, its line.
 */
export function parseStructureTests(input: string | object): StructureTestConfig {
  let raw: unknown;
  let lineOf: (path: Path) => number | undefined = () => undefined;
  if (typeof input === 'string') {
    const lineCounter = new LineCounter();
    let doc: Document.Parsed;
    try {
      doc = parseDocument(input, { lineCounter, prettyErrors: false, uniqueKeys: true });
    } catch (err) {
      throw configError('STRUCTURE_TESTS_INVALID', `structure tests are not valid YAML: ${(err as Error).message}`);
    }
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      throw configError('STRUCTURE_TESTS_INVALID', `structure tests are not valid YAML: ${e.message.split('\n')[0]}`, [
        { path: '(document)', line, message: e.message.split('\n')[0]! },
      ]);
    }
    raw = doc.toJS({ maxAliasCount: 100 });
    lineOf = (path) => {
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    };
  } else {
    raw = input;
  }

  const c = new Checker(lineOf);
  const top = c.obj(raw, [], TOP_KEYS);
  if (!top) {
    throw configError('STRUCTURE_TESTS_INVALID', 'structure tests must be a mapping with schemaVersion "2.0.0"', c.details);
  }
  const version = c.str(top['schemaVersion'], ['schemaVersion'], true);
  if (version !== null && version !== '2.0.0') c.fail(['schemaVersion'], `must be "2.0.0" (the only version container-structure-test registers), got "${version}"`);

  const config: StructureTestConfig = {
    schemaVersion: '2.0.0',
    globalEnvVars: c.envVars(top['globalEnvVars'], ['globalEnvVars'], { regex: false, requireValue: true }),
    commandTests: [],
    fileExistenceTests: [],
    fileContentTests: [],
    metadataTest: null,
    licenseTests: [],
    containerRunOptions: null,
  };

  c.list(top['commandTests'], ['commandTests']).forEach((t, i) => {
    const p: Path = ['commandTests', i];
    const o = c.obj(t, p, ['name', 'setup', 'teardown', 'envVars', 'command', 'args', 'expectedOutput', 'excludedOutput', 'expectedError', 'excludedError', 'exitCode']);
    if (!o) return;
    config.commandTests.push({
      name: c.str(o['name'], [...p, 'name'], true) ?? '',
      setup: c.argvs(o['setup'], [...p, 'setup']),
      teardown: c.argvs(o['teardown'], [...p, 'teardown']),
      envVars: c.envVars(o['envVars'], [...p, 'envVars'], { regex: false, requireValue: true }),
      command: c.str(o['command'], [...p, 'command'], true) ?? '',
      args: c.strings(o['args'], [...p, 'args']),
      expectedOutput: c.regexes(o['expectedOutput'], [...p, 'expectedOutput']),
      excludedOutput: c.regexes(o['excludedOutput'], [...p, 'excludedOutput']),
      expectedError: c.regexes(o['expectedError'], [...p, 'expectedError']),
      excludedError: c.regexes(o['excludedError'], [...p, 'excludedError']),
      exitCode: c.int(o['exitCode'], [...p, 'exitCode']) ?? 0,
    });
  });

  c.list(top['fileExistenceTests'], ['fileExistenceTests']).forEach((t, i) => {
    const p: Path = ['fileExistenceTests', i];
    const o = c.obj(t, p, ['name', 'path', 'shouldExist', 'permissions', 'uid', 'gid', 'isExecutableBy']);
    if (!o) return;
    const permissions = c.str(o['permissions'], [...p, 'permissions'], false);
    if (permissions !== null && permissions !== '' && !PERMISSION_RE.test(permissions)) {
      c.fail([...p, 'permissions'], `'${permissions}' is not a Unix permission string such as -rw-r--r-- or drwxr-xr-x`);
    }
    const exec = c.str(o['isExecutableBy'], [...p, 'isExecutableBy'], false);
    if (exec !== null && exec !== '' && !['owner', 'group', 'other', 'any'].includes(exec)) {
      c.fail([...p, 'isExecutableBy'], `must be one of owner, group, other, any (got '${exec}')`);
    }
    const uid = c.int(o['uid'], [...p, 'uid']);
    const gid = c.int(o['gid'], [...p, 'gid']);
    config.fileExistenceTests.push({
      name: c.str(o['name'], [...p, 'name'], true) ?? '',
      path: c.str(o['path'], [...p, 'path'], true) ?? '',
      shouldExist: c.bool(o['shouldExist'], [...p, 'shouldExist'], true),
      permissions: permissions === '' ? null : permissions,
      uid: uid === -1 ? null : uid,
      gid: gid === -1 ? null : gid,
      isExecutableBy: exec === '' || exec === null ? null : (exec as FileExistenceTest['isExecutableBy']),
    });
  });

  c.list(top['fileContentTests'], ['fileContentTests']).forEach((t, i) => {
    const p: Path = ['fileContentTests', i];
    const o = c.obj(t, p, ['name', 'path', 'expectedContents', 'excludedContents']);
    if (!o) return;
    config.fileContentTests.push({
      name: c.str(o['name'], [...p, 'name'], true) ?? '',
      path: c.str(o['path'], [...p, 'path'], true) ?? '',
      expectedContents: c.regexes(o['expectedContents'], [...p, 'expectedContents']),
      excludedContents: c.regexes(o['excludedContents'], [...p, 'excludedContents']),
    });
  });

  if (top['metadataTest'] !== undefined && top['metadataTest'] !== null) {
    const p: Path = ['metadataTest'];
    const o = c.obj(top['metadataTest'], p, ['env', 'envVars', 'unboundEnvVars', 'exposedPorts', 'unexposedPorts', 'entrypoint', 'cmd', 'workdir', 'volumes', 'unmountedVolumes', 'labels', 'user']);
    if (o) {
      const optionalList = (key: string): string[] | null => (o[key] === undefined || o[key] === null ? null : c.strings(o[key], [...p, key]));
      config.metadataTest = {
        envVars: [...c.envVars(o['env'], [...p, 'env'], { regex: true, requireValue: false }), ...c.envVars(o['envVars'], [...p, 'envVars'], { regex: true, requireValue: false })],
        unboundEnvVars: c
          .list(o['unboundEnvVars'], [...p, 'unboundEnvVars'])
          .map((item, i) => {
            const q = [...p, 'unboundEnvVars', i];
            if (typeof item === 'string') return item;
            const e = c.obj(item, q, ['key', 'value', 'isRegex']);
            return e ? c.str(e['key'], [...q, 'key'], true) : null;
          })
          .filter((x): x is string => x !== null),
        exposedPorts: c.strings(o['exposedPorts'], [...p, 'exposedPorts']),
        unexposedPorts: c.strings(o['unexposedPorts'], [...p, 'unexposedPorts']),
        entrypoint: optionalList('entrypoint'),
        cmd: optionalList('cmd'),
        workdir: c.str(o['workdir'], [...p, 'workdir'], false),
        volumes: c.strings(o['volumes'], [...p, 'volumes']),
        unmountedVolumes: c.strings(o['unmountedVolumes'], [...p, 'unmountedVolumes']),
        labels: c.envVars(o['labels'], [...p, 'labels'], { regex: true, requireValue: false }),
        user: c.str(o['user'], [...p, 'user'], false),
      };
    }
  }

  c.list(top['licenseTests'], ['licenseTests']).forEach((t, i) => {
    const p: Path = ['licenseTests', i];
    const o = c.obj(t, p, ['debian', 'files']);
    if (!o) return;
    config.licenseTests.push({ debian: c.bool(o['debian'], [...p, 'debian'], false), files: c.strings(o['files'], [...p, 'files']) });
  });

  if (top['containerRunOptions'] !== undefined && top['containerRunOptions'] !== null) {
    const p: Path = ['containerRunOptions'];
    const o = c.obj(top['containerRunOptions'], p, ['user', 'privileged', 'allocateTty', 'envVars', 'envFile', 'capabilities', 'bindMounts']);
    if (o) {
      config.containerRunOptions = {
        user: c.str(o['user'], [...p, 'user'], false),
        privileged: c.bool(o['privileged'], [...p, 'privileged'], false),
        allocateTty: c.bool(o['allocateTty'], [...p, 'allocateTty'], false),
        envVars: c.strings(o['envVars'], [...p, 'envVars']),
        envFile: c.str(o['envFile'], [...p, 'envFile'], false),
        capabilities: c.strings(o['capabilities'], [...p, 'capabilities']),
        bindMounts: c.strings(o['bindMounts'], [...p, 'bindMounts']),
      };
    }
  }

  const total = config.commandTests.length + config.fileExistenceTests.length + config.fileContentTests.length + config.licenseTests.length + (config.metadataTest ? 1 : 0);
  if (c.details.length === 0 && total === 0) {
    c.fail([], 'declares no tests (commandTests, fileExistenceTests, fileContentTests, metadataTest)');
  }
  if (c.details.length > 0) {
    const first = c.details[0]!;
    const more = c.details.length > 1 ? ` (and ${c.details.length - 1} more)` : '';
    throw configError('STRUCTURE_TESTS_INVALID', `invalid structure tests: ${first.path || '(document)'} ${first.message}${more}`, c.details);
  }
  return config;
}
