/**
 * Running container-structure-test checks (pure logic over an injected runner).
 *
 * Semantics follow GoogleContainerTools/container-structure-test `pkg/types/v2/command.go`
 * (`CheckOutput`: unanchored regex search on stdout/stderr, exact exit code),
 * `file_existence.go` (existence, `os.FileMode.String()` permissions, `isExecutableBy`, uid/gid),
 * `file_content.go` (regexes on the whole file), `metadata.go` and `pkg/drivers/docker_driver.go`
 * (entrypoint overridden, env = image env + `globalEnvVars` + test `envVars` with `$VAR`
 * expansion from the image env; exposed ports compared by port number). Tests run in CST's order:
 * command, file existence, file content, license (skipped: not supported), metadata.
 */
import { compileGoRegex, goFileModeFromTar, goFileModeString } from './go-compat.js';
import type { ContainerRunOptions, EnvVar, StructureTestConfig } from './structure-schema.js';

/** How the runner should run one command test. */
export interface CommandSpec {
  /** `[command, ...args]`; the image entrypoint must be overridden (empty). */
  argv: string[];
  /** Variables to set on top of the image's environment, already expanded. */
  env: Array<{ key: string; value: string }>;
  /** Setup commands: each runs in its own container whose result becomes the base for the next step. */
  setup: string[][];
  /** Teardown commands, run after the test. */
  teardown: string[][];
  /** The file's `containerRunOptions`, if any. */
  runOptions: ContainerRunOptions | null;
}

/** What a command produced. */
export interface CommandOutcome {
  /** Everything the command wrote to stdout (UTF-8). */
  stdout: string;
  /** Everything the command wrote to stderr (UTF-8; empty when a TTY was allocated). */
  stderr: string;
  /** The container's exit status (0-255; 137 when killed). */
  exitCode: number;
}

/** A path's metadata, without following a final symlink. */
export interface FileStat {
  /** Entry kind. */
  type: 'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket' | 'other';
  /** Permission bits with setuid/setgid/sticky (`mode & 0o7777`), e.g. `0o755`. */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Size in bytes. */
  size: number;
}

/** The image configuration fields metadata tests look at. */
export interface ImageConfigView {
  /** `KEY=value` strings. */
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  workdir: string;
  user: string;
  labels: Record<string, string>;
  /** Keys as Docker stores them, e.g. `8080/tcp`. */
  exposedPorts: string[];
  volumes: string[];
}

/**
 * What `runStructureTests` needs from the outside world. `docker-structure-runner.ts` implements
 * it with the Docker engine; tests use an in-memory fake.
 */
export interface StructureTestRunner {
  /** Runs a command in a fresh container from the image (after `setup`) and returns its output and exit code. */
  runCommand(spec: CommandSpec): Promise<CommandOutcome>;
  /** Stats a path in the image's filesystem; `null` when it does not exist. */
  statFile(path: string): Promise<FileStat | null>;
  /** Reads a regular file (following symlinks); `null` when it does not exist. Throws when it is not a regular file. */
  readFile(path: string): Promise<Buffer | null>;
  /** The image config. */
  getImageConfig(): Promise<ImageConfigView>;
}

/** One test's outcome. */
export interface StructureTestResult {
  /** CST's name: `Command Test: NAME`, `File Existence Test: NAME`, `File Content Test: NAME`, `Metadata Test`, `License Test`. */
  name: string;
  kind: 'command' | 'fileExistence' | 'fileContent' | 'metadata' | 'license';
  pass: boolean;
  /** True for tests Pitlane does not run (license tests); they do not fail the run. */
  skipped: boolean;
  /** Why it failed (CST's wording), or why it was skipped. */
  errors: string[];
  /** Command tests: captured stdout / stderr and exit code. */
  stdout?: string;
  stderr?: string;
  exit_code?: number;
  /** Wall time in milliseconds. */
  duration_ms: number;
}

/** The outcome of a structure-test run. */
export interface StructureTestReport {
  /** True when no test failed. */
  pass: boolean;
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  /** Wall time in milliseconds. */
  duration_ms: number;
  results: StructureTestResult[];
}

/** Options of {@link runStructureTests}. */
export interface RunStructureTestsOptions {
  /** Clock in milliseconds (tests inject a fake). */
  now?: () => number;
}

/** Splits `KEY=value` strings into a map (later entries win). */
function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
    else if (eq < 0 && e !== '') m.set(e, '');
  }
  return m;
}

/** Go `os.Expand` with `$NAME` and `${NAME}` looked up in `vars` (missing = empty). */
export function expandEnv(value: string, vars: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g, (_m, braced: string | undefined, bare: string | undefined) => vars.get((braced ?? bare)!) ?? '');
}

function regexMatches(pattern: string, text: string): boolean {
  return compileGoRegex(pattern).test(text);
}

const FILE_TYPE_FLAG: Record<FileStat['type'], number> = {
  file: 0x30,
  directory: 0x35,
  symlink: 0x32,
  'char-device': 0x33,
  'block-device': 0x34,
  fifo: 0x36,
  socket: 0x30,
  other: 0x30,
};

/** Go `os.FileMode.String()` of a {@link FileStat}, e.g. `-rwxr-xr-x`. */
export function fileStatModeString(stat: FileStat): string {
  let m = goFileModeFromTar(stat.mode & 0o7777, FILE_TYPE_FLAG[stat.type]);
  if (stat.type === 'socket') m += 2 ** 24;
  return goFileModeString(m);
}

/**
 * Runs every test of `config` against `runner` and reports each result. Runner failures
 * (exceptions) fail the test concerned with the error message; nothing throws.
 */
export async function runStructureTests(config: StructureTestConfig, runner: StructureTestRunner, options: RunStructureTestsOptions = {}): Promise<StructureTestReport> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const results: StructureTestResult[] = [];
  let configCache: Promise<ImageConfigView> | null = null;
  const imageConfig = (): Promise<ImageConfigView> => (configCache ??= runner.getImageConfig());

  const timed = async (name: string, kind: StructureTestResult['kind'], body: (r: StructureTestResult) => Promise<void>): Promise<void> => {
    const t0 = now();
    const r: StructureTestResult = { name, kind, pass: true, skipped: false, errors: [], duration_ms: 0 };
    try {
      await body(r);
    } catch (err) {
      r.pass = false;
      r.errors.push(err instanceof Error ? err.message : String(err));
    }
    if (r.errors.length > 0 && !r.skipped) r.pass = false;
    r.duration_ms = Math.max(0, now() - t0);
    results.push(r);
  };

  for (const t of config.commandTests) {
    await timed(`Command Test: ${t.name}`, 'command', async (r) => {
      let imageEnv = new Map<string, string>();
      const vars = [...config.globalEnvVars, ...t.envVars];
      if (vars.some((v) => v.value.includes('$'))) imageEnv = envMap((await imageConfig()).env);
      const scope = new Map(imageEnv);
      const env = vars.map((v) => {
        const value = expandEnv(v.value, scope);
        scope.set(v.key, value);
        return { key: v.key, value };
      });
      const out = await runner.runCommand({ argv: [t.command, ...t.args], env, setup: t.setup, teardown: t.teardown, runOptions: config.containerRunOptions });
      r.stdout = out.stdout;
      r.stderr = out.stderr;
      r.exit_code = out.exitCode;
      for (const re of t.expectedError) if (!regexMatches(re, out.stderr)) r.errors.push(`Expected string '${re}' not found in error`);
      for (const re of t.excludedError) if (regexMatches(re, out.stderr)) r.errors.push(`Excluded string '${re}' found in error`);
      for (const re of t.expectedOutput) if (!regexMatches(re, out.stdout)) r.errors.push(`Expected string '${re}' not found in output`);
      for (const re of t.excludedOutput) if (regexMatches(re, out.stdout)) r.errors.push(`Excluded string '${re}' found in output`);
      if (t.exitCode !== out.exitCode) r.errors.push(`Test '${t.name}' exited with incorrect error code. Expected: ${t.exitCode}, Actual: ${out.exitCode}`);
    });
  }

  for (const t of config.fileExistenceTests) {
    await timed(`File Existence Test: ${t.name}`, 'fileExistence', async (r) => {
      const path = t.path.includes('$') ? expandEnv(t.path, envMap((await imageConfig()).env)) : t.path;
      const stat = await runner.statFile(path);
      if (stat === null) {
        if (t.shouldExist) r.errors.push(`File ${path} should exist but does not`);
        return;
      }
      if (!t.shouldExist) {
        r.errors.push(`File ${path} should not exist but does`);
        return;
      }
      const modeString = fileStatModeString(stat);
      if (t.permissions !== null && modeString !== t.permissions) {
        r.errors.push(`${path} has incorrect permissions. Expected: ${t.permissions}, Actual: ${modeString}`);
      }
      if (t.isExecutableBy !== null) {
        const bit = { any: 0o111, owner: 0o100, group: 0o010, other: 0o001 }[t.isExecutableBy];
        if ((stat.mode & bit) === 0) r.errors.push(`${path} has incorrect executable bit. Expected to be executable by ${t.isExecutableBy}, Actual: ${modeString}`);
      }
      if (t.uid !== null && stat.uid !== t.uid) r.errors.push(`${path} has incorrect user ownership. Expected: ${t.uid}, Actual: ${stat.uid}`);
      if (t.gid !== null && stat.gid !== t.gid) r.errors.push(`${path} has incorrect group ownership. Expected: ${t.gid}, Actual: ${stat.gid}`);
    });
  }

  for (const t of config.fileContentTests) {
    await timed(`File Content Test: ${t.name}`, 'fileContent', async (r) => {
      const path = t.path.includes('$') ? expandEnv(t.path, envMap((await imageConfig()).env)) : t.path;
      let content: Buffer | null;
      try {
        content = await runner.readFile(path);
      } catch (err) {
        r.errors.push(`Failed to open ${path}. Error: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (content === null) {
        r.errors.push(`Failed to open ${path}. Error: no such file`);
        return;
      }
      const text = content.toString('utf8');
      const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
      for (const re of t.expectedContents) if (!regexMatches(re, text)) r.errors.push(`Expected string '${re}' not found in file content string '${shown}'`);
      for (const re of t.excludedContents) if (regexMatches(re, text)) r.errors.push(`Excluded string '${re}' found in file content string '${shown}'`);
    });
  }

  for (const t of config.licenseTests) {
    await timed('License Test', 'license', async (r) => {
      r.skipped = true;
      r.errors.push(`license tests are not supported by Pitlane (debian: ${t.debian}, files: ${t.files.length}); skipped`);
    });
  }

  if (config.metadataTest !== null) {
    const mt = config.metadataTest;
    await timed('Metadata Test', 'metadata', async (r) => {
      const cfg = await imageConfig();
      const env = envMap(cfg.env);
      const expectValue = (what: string, have: Map<string, string>, pair: EnvVar): void => {
        const actual = have.get(pair.key);
        if (actual === undefined) {
          r.errors.push(`${what} ${pair.key} not found in image ${what === 'variable' ? 'env' : 'labels'}`);
          return;
        }
        if (pair.isRegex) {
          if (!regexMatches(pair.value, actual)) r.errors.push(`${what} ${pair.key} value ${actual} does not match expected pattern ${pair.value}`);
        } else {
          const expected = expandEnv(pair.value, env);
          if (actual !== expected) r.errors.push(`${what === 'variable' ? 'env var' : 'label'} ${pair.key} value ${actual} does not match expected value: ${expected}`);
        }
      };
      for (const pair of mt.envVars) expectValue('variable', env, pair);
      for (const key of mt.unboundEnvVars) if (env.has(key)) r.errors.push(`env var ${key} should not be set but is (${env.get(key)})`);
      const labels = new Map(Object.entries(cfg.labels));
      for (const pair of mt.labels) expectValue('label', labels, pair);
      const sameList = (a: string[], b: string[] | null): boolean => {
        const bb = b ?? [];
        return a.length === bb.length && a.every((x, i) => x === bb[i]);
      };
      if (mt.entrypoint !== null && !sameList(mt.entrypoint, cfg.entrypoint)) {
        r.errors.push(`Image entrypoint ${JSON.stringify(cfg.entrypoint ?? [])} does not match expected entrypoint: ${JSON.stringify(mt.entrypoint)}`);
      }
      if (mt.cmd !== null && !sameList(mt.cmd, cfg.cmd)) {
        r.errors.push(`Image Cmd ${JSON.stringify(cfg.cmd ?? [])} does not match expected Cmd: ${JSON.stringify(mt.cmd)}`);
      }
      if (mt.workdir !== null && mt.workdir !== '' && mt.workdir !== cfg.workdir) {
        r.errors.push(`Image workdir ${cfg.workdir} does not match config workdir: ${mt.workdir}`);
      }
      if (mt.user !== null && mt.user !== '' && mt.user !== cfg.user) r.errors.push(`Image user ${cfg.user} does not match config user: ${mt.user}`);
      const portMatch = (want: string): boolean => cfg.exposedPorts.some((p) => p === want || p.split('/')[0] === want);
      for (const port of mt.exposedPorts) if (!portMatch(port)) r.errors.push(`Port ${port} not found in config`);
      for (const port of mt.unexposedPorts) if (portMatch(port)) r.errors.push(`Port ${port} should not be exposed but is`);
      for (const v of mt.volumes) if (!cfg.volumes.includes(v)) r.errors.push(`Volume ${v} not found in config`);
      for (const v of mt.unmountedVolumes) if (cfg.volumes.includes(v)) r.errors.push(`Volume ${v} should not be mounted but is`);
    });
  }

  const passed = results.filter((r) => r.pass && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  const failed = results.filter((r) => !r.pass).length;
  return { pass: failed === 0, passed, failed, skipped, total: results.length, duration_ms: Math.max(0, now() - started), results };
}

/** The report in container-structure-test's JSON output shape (`{"Pass","Fail","Total","Duration","Results"}`, durations in nanoseconds). */
export function toStructureTestJson(report: StructureTestReport): {
  Pass: number;
  Fail: number;
  Total: number;
  Duration: number;
  Results: Array<{ Name: string; Pass: boolean; Duration: number; Errors?: string[] }>;
} {
  return {
    Pass: report.passed,
    Fail: report.failed,
    Total: report.total,
    Duration: Math.round(report.duration_ms * 1e6),
    Results: report.results.map((r) => ({ Name: r.name, Pass: r.pass, Duration: Math.round(r.duration_ms * 1e6), ...(r.errors.length ? { Errors: r.errors } : {}) })),
  };
}
