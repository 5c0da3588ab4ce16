import { describe, expect, it } from 'vitest';
import {
  parseStructureTests,
  runStructureTests,
  toStructureTestJson,
  type CommandSpec,
  type FileStat,
  type ImageConfigView,
  type StructureTestRunner,
} from '../../../src/image/index.js';
import { goFileModeFromUnix, goFileModeString, compileGoRegex } from '../../../src/image/go-compat.js';
import { expandEnv, fileStatModeString } from '../../../src/image/structure-run.js';
import { demux } from '../../../src/image/docker-structure-runner.js';

const FULL = `
schemaVersion: "2.0.0"
globalEnvVars:
  - key: VIRTUAL_ENV
    value: /env
  - key: PATH
    value: "/env/bin:$PATH"
commandTests:
  - name: "say hello"
    command: "sh"
    args: ["-c", "echo hello $VIRTUAL_ENV; echo oops >&2"]
    expectedOutput: ["hello /env"]
    excludedOutput: ["goodbye"]
    expectedError: ["oops"]
  - name: "exit code"
    setup: [["touch", "/x"]]
    teardown: [["rm", "/x"]]
    command: "false"
    exitCode: 1
fileExistenceTests:
  - name: 'busybox'
    path: '/bin/busybox'
    permissions: '-rwxr-xr-x'
    uid: 0
    gid: 0
    isExecutableBy: 'any'
  - name: 'no secrets'
    path: '/root/.ssh/id_rsa'
    shouldExist: false
fileContentTests:
  - name: 'hosts'
    path: '/etc/hosts'
    expectedContents: ['localhost']
    excludedContents: ['(?i)EVIL']
metadataTest:
  envVars:
    - key: PATH
      value: '/usr/bin'
      isRegex: true
  unboundEnvVars:
    - key: SECRET
  labels:
    - key: 'org.opencontainers.image.version'
      value: '^\\d+\\.\\d+$'
      isRegex: true
  exposedPorts: ["8080"]
  unexposedPorts: [22]
  entrypoint: []
  cmd: ["/bin/sh"]
  workdir: "/app"
  volumes: ["/data"]
  unmountedVolumes: ["/tmp"]
  user: "app"
licenseTests:
  - debian: true
    files: ["/usr/share/doc/x/copyright"]
`;

/** An in-memory image for the fake runner. */
class FakeRunner implements StructureTestRunner {
  calls: CommandSpec[] = [];
  files = new Map<string, { stat: FileStat; content?: string }>([
    ['/bin/busybox', { stat: { type: 'file', mode: 0o755, uid: 0, gid: 0, size: 10 } }],
    ['/etc/hosts', { stat: { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 20 }, content: '127.0.0.1 localhost\n' }],
    ['/tmp', { stat: { type: 'directory', mode: 0o1777, uid: 0, gid: 0, size: 0 } }],
  ]);
  config: ImageConfigView = {
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root'],
    entrypoint: null,
    cmd: ['/bin/sh'],
    workdir: '/app',
    user: 'app',
    labels: { 'org.opencontainers.image.version': '1.2' },
    exposedPorts: ['8080/tcp'],
    volumes: ['/data'],
  };
  async runCommand(spec: CommandSpec) {
    this.calls.push(spec);
    if (spec.argv[0] === 'false') return { stdout: '', stderr: '', exitCode: 1 };
    if (spec.argv[0] === 'explode') throw new Error('engine unavailable');
    const env = Object.fromEntries(spec.env.map((e) => [e.key, e.value]));
    return { stdout: `hello ${env['VIRTUAL_ENV'] ?? ''}\n`, stderr: 'oops\n', exitCode: 0 };
  }
  async statFile(path: string) {
    return this.files.get(path)?.stat ?? null;
  }
  async readFile(path: string) {
    const f = this.files.get(path);
    if (!f) return null;
    if (f.stat.type === 'directory') throw new Error(`${path} is a directory`);
    return Buffer.from(f.content ?? '');
  }
  async getImageConfig() {
    return this.config;
  }
}

describe('parseStructureTests (schema 2.0.0)', () => {
  it('parses every section and applies defaults', () => {
    const c = parseStructureTests(FULL);
    expect(c.commandTests).toHaveLength(2);
    expect(c.commandTests[0]).toMatchObject({ name: 'say hello', exitCode: 0, setup: [], args: ['-c', 'echo hello $VIRTUAL_ENV; echo oops >&2'] });
    expect(c.commandTests[1]).toMatchObject({ setup: [['touch', '/x']], teardown: [['rm', '/x']], exitCode: 1 });
    expect(c.fileExistenceTests[0]).toMatchObject({ shouldExist: true, permissions: '-rwxr-xr-x', uid: 0, gid: 0, isExecutableBy: 'any' });
    expect(c.fileExistenceTests[1]).toMatchObject({ shouldExist: false, uid: null, gid: null, permissions: null });
    expect(c.metadataTest).toMatchObject({ entrypoint: [], cmd: ['/bin/sh'], unexposedPorts: ['22'], unboundEnvVars: ['SECRET'], user: 'app' });
    expect(c.licenseTests).toEqual([{ debian: true, files: ['/usr/share/doc/x/copyright'] }]);
  });

  it('accepts an object (the manifest structure_tests: section) and JSON text', () => {
    const obj = { schemaVersion: '2.0.0', fileExistenceTests: [{ name: 'sh', path: '/bin/sh' }] };
    expect(parseStructureTests(obj).fileExistenceTests[0]!.shouldExist).toBe(true);
    expect(parseStructureTests(JSON.stringify(obj)).fileExistenceTests).toHaveLength(1);
    expect(parseStructureTests({ ...obj, metadataTest: { cmd: null } }).metadataTest!.cmd).toBeNull();
  });

  it('names every invalid field, with its line', () => {
    const text = [
      'schemaVersion: "1.0.0"', // 1
      'commandTests:', // 2
      '  - name: ""', // 3
      '    command: ls', // 4
      '    expectedOutput: ["(unclosed"]', // 5
      '    setup: [[]]', // 6
      'fileExistenceTests:', // 7
      '  - name: x', // 8
      '    path: /x', // 9
      '    isExecutableBy: everyone', // 10
      '    permissions: rwx', // 11
      '    shouldExsit: true', // 12
      'metadataTest:', // 13
      '  envVars: [{key: A}]', // 14
      '  exposedPorts: 8080', // 15
    ].join('\n');
    try {
      parseStructureTests(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ status: 400, code: 'STRUCTURE_TESTS_INVALID' });
      const details = (err as { details: Array<{ path: string; line?: number; message: string }> }).details;
      const byPath = Object.fromEntries(details.map((d) => [d.path, d]));
      expect(byPath['schemaVersion']).toMatchObject({ line: 1, message: expect.stringContaining('"2.0.0"') });
      expect(byPath['commandTests[0].name']).toMatchObject({ line: 3, message: 'must not be empty' });
      expect(byPath['commandTests[0].expectedOutput[0]']).toMatchObject({ line: 5, message: expect.stringContaining('regular expression') });
      expect(byPath['commandTests[0].setup[0]']).toMatchObject({ line: 6 });
      expect(byPath['fileExistenceTests[0].isExecutableBy']).toMatchObject({ line: 10 });
      expect(byPath['fileExistenceTests[0].permissions']).toMatchObject({ line: 11 });
      expect(byPath['fileExistenceTests[0].shouldExsit']).toMatchObject({ line: 12, message: expect.stringContaining('unknown field') });
      expect(byPath['metadataTest.exposedPorts']).toMatchObject({ line: 15, message: 'must be a list' });
      expect(details.length).toBe(8);
    }
  });

  it('requires schemaVersion, name, path and command', () => {
    expect(() => parseStructureTests({ commandTests: [{ name: 'x' }] })).toThrow(/schemaVersion is required/);
    expect(() => parseStructureTests({ schemaVersion: '2.0.0', commandTests: [{ name: 'x' }] })).toThrow(/commandTests\[0\]\.command is required/);
    expect(() => parseStructureTests({ schemaVersion: '2.0.0', fileContentTests: [{ name: 'x' }] })).toThrow(/fileContentTests\[0\]\.path is required/);
    expect(() => parseStructureTests({ schemaVersion: '2.0.0' })).toThrow(/declares no tests/);
    expect(() => parseStructureTests('schemaVersion: [')).toThrow(expect.objectContaining({ code: 'STRUCTURE_TESTS_INVALID' }));
    expect(() => parseStructureTests(['x'])).toThrow(/must be a mapping/);
  });
});

describe('runStructureTests with an in-memory runner', () => {
  it('passes the full example and reports every test', async () => {
    const runner = new FakeRunner();
    const report = await runStructureTests(parseStructureTests(FULL), runner);
    const failures = report.results.filter((r) => !r.pass);
    expect(failures).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual([
      'Command Test: say hello',
      'Command Test: exit code',
      'File Existence Test: busybox',
      'File Existence Test: no secrets',
      'File Content Test: hosts',
      'License Test',
      'Metadata Test',
    ]);
    expect(report).toMatchObject({ pass: true, passed: 6, failed: 0, skipped: 1, total: 7 });
    // env: globals then test vars, $PATH expanded from the image env; entrypoint handled by the runner
    expect(runner.calls[0]!.env).toEqual([
      { key: 'VIRTUAL_ENV', value: '/env' },
      { key: 'PATH', value: '/env/bin:/usr/local/bin:/usr/bin:/bin' },
    ]);
    expect(runner.calls[0]!.argv).toEqual(['sh', '-c', 'echo hello $VIRTUAL_ENV; echo oops >&2']);
    expect(runner.calls[1]!.setup).toEqual([['touch', '/x']]);
    const json = toStructureTestJson(report);
    expect(json).toMatchObject({ Pass: 6, Fail: 0, Total: 7 });
    expect(json.Results[0]).toMatchObject({ Name: 'Command Test: say hello', Pass: true });
  });

  it('fails with container-structure-test wording', async () => {
    const runner = new FakeRunner();
    runner.config = { ...runner.config, env: ['PATH=/bin', 'SECRET=x'], exposedPorts: ['22/tcp'], entrypoint: ['/entry'], workdir: '/', labels: {} };
    runner.files.set('/bin/busybox', { stat: { type: 'file', mode: 0o600, uid: 1000, gid: 1000, size: 1 } });
    runner.files.set('/root/.ssh/id_rsa', { stat: { type: 'file', mode: 0o600, uid: 0, gid: 0, size: 1 } });
    runner.files.set('/etc/hosts', { stat: { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1 }, content: 'evil things' });
    const config = parseStructureTests(FULL);
    config.commandTests[0]!.expectedOutput = ['goodbye'];
    config.commandTests[1]!.exitCode = 0;
    const report = await runStructureTests(config, runner);
    expect(report.pass).toBe(false);
    const errors = Object.fromEntries(report.results.map((r) => [r.name, r.errors]));
    expect(errors['Command Test: say hello']).toEqual(["Expected string 'goodbye' not found in output"]);
    expect(errors['Command Test: exit code']).toEqual(["Test 'exit code' exited with incorrect error code. Expected: 0, Actual: 1"]);
    expect(errors['File Existence Test: busybox']).toEqual([
      '/bin/busybox has incorrect permissions. Expected: -rwxr-xr-x, Actual: -rw-------',
      '/bin/busybox has incorrect executable bit. Expected to be executable by any, Actual: -rw-------',
      '/bin/busybox has incorrect user ownership. Expected: 0, Actual: 1000',
      '/bin/busybox has incorrect group ownership. Expected: 0, Actual: 1000',
    ]);
    expect(errors['File Existence Test: no secrets']).toEqual(['File /root/.ssh/id_rsa should not exist but does']);
    expect(errors['File Content Test: hosts']).toEqual([
      "Expected string 'localhost' not found in file content string 'evil things'",
      "Excluded string '(?i)EVIL' found in file content string 'evil things'",
    ]);
    expect(errors['Metadata Test']).toEqual(
      expect.arrayContaining([
        'variable PATH value /bin does not match expected pattern /usr/bin',
        'env var SECRET should not be set but is (x)',
        'label org.opencontainers.image.version not found in image labels',
        'Image entrypoint ["/entry"] does not match expected entrypoint: []',
        'Image workdir / does not match config workdir: /app',
        'Port 8080 not found in config',
        'Port 22 should not be exposed but is',
      ]),
    );
    expect(report.failed).toBe(6);
  });

  it('turns runner exceptions and unreadable files into failures, never throws', async () => {
    const runner = new FakeRunner();
    const config = parseStructureTests({
      schemaVersion: '2.0.0',
      commandTests: [{ name: 'boom', command: 'explode' }],
      fileContentTests: [
        { name: 'dir', path: '/tmp', expectedContents: ['x'] },
        { name: 'missing', path: '/nope' },
      ],
      fileExistenceTests: [{ name: 'home', path: '$HOME/.profile' }],
    });
    const report = await runStructureTests(config, runner);
    expect(report.results.map((r) => [r.name, r.pass, r.errors[0]])).toEqual([
      ['Command Test: boom', false, 'engine unavailable'],
      ['File Existence Test: home', false, 'File /root/.profile should exist but does not'],
      ['File Content Test: dir', false, 'Failed to open /tmp. Error: /tmp is a directory'],
      ['File Content Test: missing', false, 'Failed to open /nope. Error: no such file'],
    ]);
  });
});

describe('Go compatibility helpers', () => {
  it("formats modes like Go's os.FileMode.String()", () => {
    expect(goFileModeString(goFileModeFromUnix(0o100644))).toBe('-rw-r--r--');
    expect(goFileModeString(goFileModeFromUnix(0o040755))).toBe('drwxr-xr-x');
    expect(goFileModeString(goFileModeFromUnix(0o041777))).toBe('dtrwxrwxrwx');
    expect(goFileModeString(goFileModeFromUnix(0o120777))).toBe('Lrwxrwxrwx');
    expect(goFileModeString(goFileModeFromUnix(0o104755))).toBe('urwxr-xr-x');
    expect(goFileModeString(goFileModeFromUnix(0o020666))).toBe('Dcrw-rw-rw-');
    expect(fileStatModeString({ type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0 })).toBe('drwxr-xr-x');
  });

  it('translates Go regexp flags', () => {
    expect(compileGoRegex('(?i)hello').test('HELLO')).toBe(true);
    expect(compileGoRegex('(?s)a.b').test('a\nb')).toBe(true);
    expect(compileGoRegex('\\Afoo\\z').test('foo')).toBe(true);
    expect(compileGoRegex('\\Afoo\\z').test('foo\n')).toBe(false);
    expect(() => compileGoRegex('(?U)x')).toThrow(SyntaxError);
  });

  it('expands $VAR and ${VAR} like os.Expand', () => {
    const vars = new Map([['A', '1'], ['B_2', 'two']]);
    expect(expandEnv('$A-${B_2}-$MISSING-x', vars)).toBe('1-two--x');
  });

  it("splits Docker's multiplexed log frames", () => {
    const frame = (kind: number, text: string) => {
      const h = Buffer.alloc(8);
      h[0] = kind;
      h.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([h, Buffer.from(text)]);
    };
    expect(demux(Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2')]))).toEqual({ stdout: 'out1 out2', stderr: 'err' });
  });
});
