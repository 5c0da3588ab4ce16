/**
 * The lean `pitlane exec` entry (src/exec/main.ts, node:util parseArgs) and the commander command
 * (src/cli/exec-command.ts) read the same flags the same way: both are built from EXEC_OPTIONS.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerExecCommand } from '../../../src/cli/exec-command.js';
import { EXEC_OPTIONS, executeExec, type ExecFlags } from '../../../src/exec/command.js';
import { parseExecFlags } from '../../../src/exec/main.js';

/** No engine there: an action that gets past the input checks fails at once (125), creating nothing. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/pitlane-unit-test.sock' };

/** The flags commander parses from `pitlane exec ARGS` (the action then runs, against {@link NO_ENGINE}). */
async function commanderFlags(args: string[]): Promise<{ flags: ExecFlags; code: number; err: string }> {
  const program = new Command().exitOverride();
  let err = '';
  let wait: Promise<number> | undefined;
  registerExecCommand(program, { out: () => {}, err: (text) => (err += text) }, { ...NO_ENGINE }, (w) => (wait = w));
  await program.parseAsync(['node', 'pitlane', 'exec', ...args]);
  const code = (await wait) ?? -1;
  const exec = program.commands.find((c) => c.name() === 'exec');
  return { flags: exec?.opts() as ExecFlags, code, err: err.replace(/\x1b\[\d+m/g, "") };
}

describe('pitlane exec flags', () => {
  const cases: string[][] = [
    [],
    ['--image', 'busybox:latest', '--command', 'sh -c "echo hi"'],
    ['--image=busybox', '-v', '/a:/a', '--volume', '/b:/b:ro', '-e', 'A=1', '--env', 'B', '--init', '--stop-timeout', '3'],
    ['--server', '-e', 'X=1', '-e', 'X=2'],
  ];

  it.each(cases)('parseArgs and commander agree on %j', async (...args) => {
    const parsed = parseExecFlags(args);
    const { flags, code } = await commanderFlags(args);
    expect(parsed).toEqual({ ...flags });
    expect([2, 125]).toContain(code);
  });

  it('defaults --stop-timeout to 10 and collects repeated flags in order', () => {
    expect(parseExecFlags(['-v', '/a:/a', '-v', '/b:/b'])).toEqual({ volume: ['/a:/a', '/b:/b'], stopTimeout: '10' });
  });

  it('refuses unknown flags, missing values and stray arguments (main.ts then hands them to commander)', () => {
    expect(() => parseExecFlags(['--nope'])).toThrow();
    expect(() => parseExecFlags(['--image'])).toThrow();
    expect(() => parseExecFlags(['busybox'])).toThrow();
    expect(() => parseExecFlags(['--init=yes'])).toThrow();
  });

  it('has one long name per flag, each a key of ExecFlags', () => {
    expect(new Set(EXEC_OPTIONS.map((o) => o.long)).size).toBe(EXEC_OPTIONS.length);
    expect(EXEC_OPTIONS.map((o) => o.key).sort()).toEqual(['command', 'env', 'image', 'init', 'server', 'stopTimeout', 'volume']);
  });
});

describe('executeExec input checks (before any engine call)', () => {
  const io = (): { err: string[]; io: Parameters<typeof executeExec>[2] } => {
    const err: string[] = [];
    return { err, io: { stdout: process.stdout, stderr: process.stderr, err: (text) => err.push(text) } };
  };

  // Colours follow picocolors' rule (CI=true turns them on), so compare plain text.
  const plain = (parts: string[]): string => parts.join('').replace(/\x1b\[\d+m/g, '');

  it('exits 2 naming the variable or flag', async () => {
    const noImage = io();
    expect(await executeExec({}, { NO_COLOR: '1' }, noImage.io)).toBe(2);
    expect(plain(noImage.err)).toMatch(/^error: IMAGE: the image to run is required/);
    const badTimeout = io();
    expect(await executeExec({ stopTimeout: 'soon' }, { IMAGE: 'busybox' }, badTimeout.io)).toBe(2);
    expect(plain(badTimeout.err)).toContain('--stop-timeout: "soon" is not a number of seconds');
    const both = io();
    expect(await executeExec({ server: true, init: true }, { IMAGE: 'busybox' }, both.io)).toBe(2);
    expect(plain(both.err)).toContain('--init applies to the local engine only');
  });

  it('commander runs the same behaviour', async () => {
    const { code, err } = await commanderFlags(['--command', 'true']);
    expect(code).toBe(2);
    expect(err).toContain('IMAGE: the image to run is required');
    const noEngine = await commanderFlags(['--image', 'busybox:latest']);
    expect(noEngine.code).toBe(125);
    expect(noEngine.err).toContain('error: cannot create the container: connect ENOENT /nonexistent/pitlane-unit-test.sock');
  });
});
