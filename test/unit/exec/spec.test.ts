import { describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { childEnvironment, parseCommand, parseExecEnvironment, parseVolumes, resolveExecSpec } from '../../../src/exec/spec.js';

/** The PitlaneError `fn` throws. */
function errorOf(fn: () => unknown): PitlaneError {
  try {
    fn();
  } catch (error) {
    if (isPitlaneError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('parseExecEnvironment: seed 003 conventions', () => {
  it('maps the seed example: DB_*_ENV variables reach the child under the same names, nothing else does', () => {
    const spec = parseExecEnvironment({
      IMAGE: 'registry.example.com/myproject/etl:1.4',
      VOLUMES: '["/srv/exports:/data"]',
      DB_NAME_ENV: 'analytics',
      DB_USER_ENV: 'user',
      DB_PWD_ENV: 's3cr3t',
      DB_HOST_ENV: 'db.remote.instance',
      DB_PORT_ENV: '5432',
      PATH: '/usr/bin:/bin',
      HOME: '/home/prefect',
      PREFECT_API_URL: 'http://prefect:4200/api',
      ENV: 'not-a-suffix-match',
      DB_ENVIRONMENT: 'prod',
    });
    expect(spec).toEqual({
      image: 'registry.example.com/myproject/etl:1.4',
      volumes: [{ type: 'bind', source: '/srv/exports', target: '/data', readOnly: false, spec: '/srv/exports:/data' }],
      env: {
        DB_HOST_ENV: 'db.remote.instance',
        DB_NAME_ENV: 'analytics',
        DB_PORT_ENV: '5432',
        DB_PWD_ENV: 's3cr3t',
        DB_USER_ENV: 'user',
      },
    });
    expect(spec.command).toBeUndefined();
  });

  it('keeps empty values, skips unset ones and names that are not valid environment names', () => {
    expect(childEnvironment({ EMPTY_ENV: '', UNSET_ENV: undefined, 'BAD-NAME_ENV': 'x', '1X_ENV': 'y', _ENV: 'z', lower_ENV: 'ok' })).toEqual({
      EMPTY_ENV: '',
      _ENV: 'z',
      lower_ENV: 'ok',
    });
  });

  it('requires IMAGE and says so by name', () => {
    for (const image of [undefined, '', '   ']) {
      const error = errorOf(() => parseExecEnvironment({ IMAGE: image, DB_NAME_ENV: 'analytics' }));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/^IMAGE: /);
      expect(error.message).toContain('required');
      expect(error.details[0]?.path).toBe('IMAGE');
    }
    expect(errorOf(() => parseExecEnvironment({ IMAGE: 'busy box' })).message).toMatch(/^IMAGE: .*blanks/);
  });

  it('trims the image reference', () => {
    expect(parseExecEnvironment({ IMAGE: ' busybox:latest\n' }).image).toBe('busybox:latest');
  });
});

describe('COMMAND', () => {
  it('accepts a JSON array of strings as is', () => {
    expect(parseCommand('["sh", "-c", "echo \\"a b\\"; exit 3"]')).toEqual(['sh', '-c', 'echo "a b"; exit 3']);
    expect(parseCommand('  [ "echo", "$HOME", "*" ]  ')).toEqual(['echo', '$HOME', '*']);
  });

  it('splits a string like a shell would, without expanding anything', () => {
    expect(parseCommand('python -m etl.run --date 2024-01-01')).toEqual(['python', '-m', 'etl.run', '--date', '2024-01-01']);
    expect(parseCommand(`sh -c 'echo "$DB_NAME_ENV" && ls *'`)).toEqual(['sh', '-c', 'echo "$DB_NAME_ENV" && ls *']);
    expect(parseCommand('echo "two words" three\\ four \'\' ""')).toEqual(['echo', 'two words', 'three four', '', '']);
    expect(parseCommand('echo $HOME * ~ a;b | c')).toEqual(['echo', '$HOME', '*', '~', 'a;b', '|', 'c']);
    expect(parseCommand('echo "a \\"q\\" \\\\ \\$x \\n"')).toEqual(['echo', 'a "q" \\ $x \\n']);
    expect(parseCommand("echo 'it''s' x\"y\"z")).toEqual(['echo', 'its', 'xyz']);
    expect(parseCommand('a\tb\n c \\\n d')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats something that only starts with [ as a shell string ([ is a command)', () => {
    expect(parseCommand('[ -f /data/done ]')).toEqual(['[', '-f', '/data/done', ']']);
  });

  it('is absent when unset or blank', () => {
    expect(parseCommand(undefined)).toBeUndefined();
    expect(parseCommand('  ')).toBeUndefined();
    expect(parseExecEnvironment({ IMAGE: 'busybox', COMMAND: '' }).command).toBeUndefined();
  });

  it('reports an unterminated quote with its position', () => {
    const double = errorOf(() => parseExecEnvironment({ IMAGE: 'busybox', COMMAND: 'echo "hello world' }));
    expect(double.message).toBe('COMMAND: unterminated double quote at position 6');
    expect(double.details[0]).toMatchObject({ path: 'COMMAND', column: 6 });
    const single = errorOf(() => parseCommand("  sh -c 'echo hi"));
    expect(single.message).toBe('COMMAND: unterminated single quote at position 9');
    expect(errorOf(() => parseCommand('echo a\\')).message).toBe('COMMAND: backslash at the end (position 7) escapes nothing');
  });

  it('refuses broken JSON arrays and non-string items instead of splitting them', () => {
    expect(errorOf(() => parseCommand('["echo", "hi"')).message).toMatch(/^COMMAND: looks like a JSON array but is not valid JSON/);
    expect(errorOf(() => parseCommand('["sleep", 5]')).message).toBe('COMMAND: item 1 of the JSON array is 5, not a string');
    expect(errorOf(() => parseCommand('[]')).message).toMatch(/^COMMAND: is an empty JSON array/);
  });

  it('names the --command flag when it overrides COMMAND', () => {
    const spec = resolveExecSpec({ IMAGE: 'busybox', COMMAND: 'echo env' }, { command: '["echo", "flag"]' });
    expect(spec.command).toEqual(['echo', 'flag']);
    expect(errorOf(() => resolveExecSpec({ IMAGE: 'busybox' }, { command: "echo 'x" })).message).toMatch(/^--command: unterminated single quote/);
  });
});

describe('VOLUMES', () => {
  it('parses bind mounts, read-only mounts and named volumes', () => {
    expect(parseVolumes('["/host:/container", "/h:/c:ro", "/w:/w:rw", "named-volume:/cache"]')).toEqual([
      { type: 'bind', source: '/host', target: '/container', readOnly: false, spec: '/host:/container' },
      { type: 'bind', source: '/h', target: '/c', readOnly: true, spec: '/h:/c:ro' },
      { type: 'bind', source: '/w', target: '/w', readOnly: false, spec: '/w:/w' },
      { type: 'volume', source: 'named-volume', target: '/cache', readOnly: false, spec: 'named-volume:/cache' },
    ]);
    expect(parseVolumes(undefined)).toEqual([]);
    expect(parseVolumes('')).toEqual([]);
    expect(parseVolumes('[]')).toEqual([]);
  });

  it.each([
    ['/host:/container', 'VOLUMES: must be a JSON list'],
    ['{"a": "/b"}', 'VOLUMES: must be a JSON list'],
    ['["/a:/b", "/x:relative"]', 'VOLUMES[1]: container path "relative" in "/x:relative" must be absolute'],
    ['["/a:/b:rx"]', 'VOLUMES[0]: mode "rx" in "/a:/b:rx" must be ro or rw'],
    ['["/a:/b:ro,z"]', 'VOLUMES[0]: mode "ro,z" in "/a:/b:ro,z" must be ro or rw'],
    ['["/only-one-part"]', 'VOLUMES[0]: "/only-one-part" is not of the form SOURCE:TARGET[:ro|rw]'],
    ['["/a:/b:ro:extra"]', 'VOLUMES[0]: "/a:/b:ro:extra" is not of the form'],
    ['["ok:/ok", ":/c"]', 'VOLUMES[1]: ":/c" has an empty source'],
    ['["/a:"]', 'VOLUMES[0]: "/a:" has an empty container path'],
    ['["/a:/b:"]', 'VOLUMES[0]: "/a:/b:" has an empty mode'],
    ['["./data:/data"]', 'VOLUMES[0]: source "./data" in "./data:/data" must be an absolute host path or a volume name'],
    ['["x:/data"]', 'VOLUMES[0]: source "x" in "x:/data" must be an absolute host path or a volume name'],
    ['["/a:/"]', 'VOLUMES[0]: "/a:/" would mount over the container\'s root'],
    ['["/a:/data", 42]', 'VOLUMES[1]: 42 is not a string'],
    ['["/a:/data", "/b:/data/"]', 'VOLUMES[1]: container path /data/ is already mounted by VOLUMES[0]'],
  ])('refuses %s', (value, message) => {
    const error = errorOf(() => parseExecEnvironment({ IMAGE: 'busybox', VOLUMES: value }));
    expect(error.status).toBe(400);
    expect(error.message.startsWith(message), error.message).toBe(true);
  });

  it('takes -v flags instead of VOLUMES when given, naming them in errors', () => {
    const env = { IMAGE: 'busybox', VOLUMES: '["/from-env:/env"]' };
    expect(resolveExecSpec(env, { volumes: [] }).volumes.map((v) => v.spec)).toEqual(['/from-env:/env']);
    expect(resolveExecSpec(env, { volumes: ['/a:/a:ro', 'vol1:/v'] }).volumes.map((v) => v.spec)).toEqual(['/a:/a:ro', 'vol1:/v']);
    expect(errorOf(() => resolveExecSpec(env, { volumes: ['/a:/a', 'b'] })).message).toMatch(/^--volume #2: "b" is not of the form/);
  });
});

describe('flag overrides', () => {
  it('--image replaces IMAGE; -e adds variables and wins over *_ENV of the same name', () => {
    const spec = resolveExecSpec(
      { IMAGE: 'from-env', DB_NAME_ENV: 'analytics', DB_USER_ENV: 'user', FROM_HERE: 'passed' },
      { image: 'busybox:latest', env: ['DB_USER_ENV=admin', 'PLAIN=1', 'EQUALS=a=b', 'EMPTY=', 'FROM_HERE'] },
    );
    expect(spec.image).toBe('busybox:latest');
    expect(spec.env).toEqual({ DB_NAME_ENV: 'analytics', DB_USER_ENV: 'admin', EMPTY: '', EQUALS: 'a=b', FROM_HERE: 'passed', PLAIN: '1' });
  });

  it('refuses bad -e entries', () => {
    expect(errorOf(() => resolveExecSpec({ IMAGE: 'busybox' }, { env: ['1BAD=x'] })).message).toMatch(/^--env 1BAD: "1BAD" is not a valid environment variable name/);
    expect(errorOf(() => resolveExecSpec({ IMAGE: 'busybox' }, { env: ['=x'] })).message).toMatch(/^--env =x: "" is not a valid/);
    expect(errorOf(() => resolveExecSpec({ IMAGE: 'busybox' }, { env: ['NOT_SET_HERE'] })).message).toBe(
      '--env NOT_SET_HERE: NOT_SET_HERE is not set here; write -e NOT_SET_HERE=VALUE',
    );
  });

  it('names --image when the flag is given empty', () => {
    expect(errorOf(() => resolveExecSpec({ IMAGE: 'busybox' }, { image: '' })).message).toMatch(/^--image: /);
  });
});
