import { describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { contextRelativePath, DEFAULT_PYTHON_VERSION, parsePython3Options, scanRequirements, scanTopLevelClasses } from '../../../src/jobtypes/python3/index.js';

/** The error `parsePython3Options` throws for `extra`, or a failure when it does not throw. */
function errorOf(extra: Record<string, unknown>): PitlaneError {
  try {
    parsePython3Options(extra);
  } catch (e) {
    if (isPitlaneError(e)) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(extra)} to be rejected`);
}

function paths(extra: Record<string, unknown>): string[] {
  return errorOf(extra).details.map((d) => d.path ?? '');
}

describe('parsePython3Options', () => {
  it('defaults everything but entrypoint_path', () => {
    const { options, warnings } = parsePython3Options({ entrypoint_path: 'adder.py', user_module_port: 7004 });
    expect(options).toEqual({
      entrypointPath: 'adder.py',
      entrypointClass: null,
      requirementsPath: null,
      pythonVersion: DEFAULT_PYTHON_VERSION,
      systemDependencies: [],
      checkRequirements: true,
      baseImage: 'slim',
    });
    expect(DEFAULT_PYTHON_VERSION).toBe('3.11');
    expect(warnings).toEqual([]);
  });

  it('takes every key of a full manifest (Racetrack spellings), normalising paths', () => {
    const { options } = parsePython3Options({
      entrypoint_path: './src/./adder.py',
      entrypoint_class: 'AdderModel',
      requirements_path: 'requirements.txt',
      python_version: '3.12',
      system_dependencies: ['libpq5', 'curl=7.88.1-10+deb12u5', 'libpq5'],
      check_requirements: false,
      base_image: 'native',
    });
    expect(options).toEqual({
      entrypointPath: 'src/adder.py',
      entrypointClass: 'AdderModel',
      requirementsPath: 'requirements.txt',
      pythonVersion: '3.12',
      systemDependencies: ['libpq5', 'curl=7.88.1-10+deb12u5'],
      checkRequirements: false,
      baseImage: 'native',
    });
    expect(() => parsePython3Options({ entrypoint_path: 'a.py', base_image: 'huge' })).toThrow(/base_image/);
  });

  it('requires entrypoint_path: 422 JOBTYPE_EXTRA_INVALID naming jobtype_extra.entrypoint_path', () => {
    const e = errorOf({});
    expect(e.status).toBe(422);
    expect(e.code).toBe('JOBTYPE_EXTRA_INVALID');
    expect(e.details).toEqual([{ path: 'jobtype_extra.entrypoint_path', message: expect.stringContaining('is required') }]);
    expect(e.message).toContain('jobtype_extra.entrypoint_path');
  });

  it.each([
    [42, 'must be a string'],
    ['adder.txt', 'ending in `.py`'],
    ['/srv/adder.py', 'not an absolute path'],
    ['../adder.py', 'inside the job directory'],
    ['src/../../adder.py', 'inside the job directory'],
    ['.pitlane/x.py', '.pitlane/'],
    ['my job.py', 'contains " "'],
    ['$HOME.py', 'contains "$"'],
    ['src/', 'must name a file'],
  ])('rejects entrypoint_path %j (%s)', (value, message) => {
    const e = errorOf({ entrypoint_path: value });
    expect(e.details).toHaveLength(1);
    expect(e.details[0]!.path).toBe('jobtype_extra.entrypoint_path');
    expect(e.details[0]!.message).toContain(message);
  });

  it.each([['1Adder'], ['Adder Model'], ['a.b'], [3]])('rejects entrypoint_class %j', (value) => {
    expect(paths({ entrypoint_path: 'a.py', entrypoint_class: value })).toEqual(['jobtype_extra.entrypoint_class']);
  });

  it('rejects requirements_path outside the context or not a string', () => {
    expect(paths({ entrypoint_path: 'a.py', requirements_path: '../requirements.txt' })).toEqual(['jobtype_extra.requirements_path']);
    expect(paths({ entrypoint_path: 'a.py', requirements_path: ['requirements.txt'] })).toEqual(['jobtype_extra.requirements_path']);
  });

  it('python_version: strings and YAML numbers, but not the ambiguous 3.1 or versions the wrapper cannot run on', () => {
    expect(parsePython3Options({ entrypoint_path: 'a.py', python_version: 3.12 }).options.pythonVersion).toBe('3.12');
    expect(parsePython3Options({ entrypoint_path: 'a.py', python_version: '3.9' }).options.pythonVersion).toBe('3.9');
    expect(errorOf({ entrypoint_path: 'a.py', python_version: 3.1 }).details[0]).toEqual({
      path: 'jobtype_extra.python_version',
      message: expect.stringContaining("quote it (`python_version: '3.10'`)"),
    });
    expect(errorOf({ entrypoint_path: 'a.py', python_version: '2.7' }).details[0]!.message).toContain('major.minor');
    expect(errorOf({ entrypoint_path: 'a.py', python_version: '3.7' }).details[0]!.message).toContain('too old');
    expect(paths({ entrypoint_path: 'a.py', python_version: '3.11-slim' })).toEqual(['jobtype_extra.python_version']);
  });

  it('system_dependencies: a list of Debian package names, each problem naming its index', () => {
    expect(paths({ entrypoint_path: 'a.py', system_dependencies: 'libpq5' })).toEqual(['jobtype_extra.system_dependencies']);
    expect(paths({ entrypoint_path: 'a.py', system_dependencies: ['libpq5', 'Bad_Name', 7, 'curl; rm -rf /'] })).toEqual([
      'jobtype_extra.system_dependencies[1]',
      'jobtype_extra.system_dependencies[2]',
      'jobtype_extra.system_dependencies[3]',
    ]);
  });

  it('check_requirements must be a boolean', () => {
    expect(paths({ entrypoint_path: 'a.py', check_requirements: 'yes' })).toEqual(['jobtype_extra.check_requirements']);
  });

  it('reports every problem at once', () => {
    expect(paths({ entrypoint_path: 'a.js', entrypoint_class: '9', python_version: 'x', system_dependencies: [''] })).toEqual([
      'jobtype_extra.entrypoint_path',
      'jobtype_extra.entrypoint_class',
      'jobtype_extra.python_version',
      'jobtype_extra.system_dependencies[0]',
    ]);
  });

  it('warns about Racetrack keys it ignores and unknown keys, without failing', () => {
    const { warnings } = parsePython3Options({ entrypoint_path: 'a.py', max_concurrency: 2, debian_version: 'slim-bullseye', colour: 'red' });
    expect(warnings).toEqual([
      'jobtype_extra.max_concurrency is a Racetrack python3 setting Pitlane does not support; it is ignored',
      'jobtype_extra.debian_version is a Racetrack python3 setting Pitlane does not support; it is ignored',
      'jobtype_extra.colour is not a python3 setting; it is ignored',
    ]);
  });
});

describe('contextRelativePath', () => {
  it('normalises and refuses escapes', () => {
    expect(contextRelativePath('a\\b\\c.py')).toEqual({ path: 'a/b/c.py' });
    expect(contextRelativePath('./x/../y.py')).toEqual({ path: 'y.py' });
    expect(contextRelativePath('C:/x.py')).toHaveProperty('error');
    expect(contextRelativePath('..')).toHaveProperty('error');
    expect(contextRelativePath('')).toHaveProperty('error');
  });
});

describe('scanTopLevelClasses', () => {
  it('finds top-level classes with their lines', () => {
    const src = ['import os', '', 'class AdderModel:', '    pass', '', '@dataclass', 'class Point(Base, metaclass=Meta):', '    x: int'].join('\n');
    expect(scanTopLevelClasses(src)).toEqual([
      { name: 'AdderModel', line: 3 },
      { name: 'Point', line: 7 },
    ]);
  });

  it('ignores nested, indented, commented and string-embedded classes', () => {
    const src = [
      '"""Module doc.',
      'class InDocstring:',
      '"""',
      '# class Commented:',
      'if TYPE_CHECKING:',
      '    class Guarded: ...',
      'class Outer:',
      '    class Inner:',
      "        s = '''",
      'class InString:',
      "'''",
      'x = "class NotOne:"',
      "y = 'a \"\"\" b'  # a triple quote inside a one-line string opens nothing",
      'class Second(object): pass',
      'classy = 1',
    ].join('\n');
    expect(scanTopLevelClasses(src).map((c) => c.name)).toEqual(['Outer', 'Second']);
  });

  it('handles CRLF line ends and a byte-order mark', () => {
    expect(scanTopLevelClasses('\uFEFFclass A:\r\n    pass\r\nclass B:\r\n')).toEqual([
      { name: 'A', line: 1 },
      { name: 'B', line: 3 },
    ]);
  });
});

describe('scanRequirements', () => {
  it('finds included files and local-path requirements, skipping comments and options', () => {
    const text = [
      '# comment',
      'flask==3.0.3  # web',
      '-r base.txt',
      '--requirement=extra/dev.txt',
      '-cconstraints.txt',
      '--index-url https://example.com/simple',
      'numpy>=1.26 \\',
      '  --hash=sha256:abc',
      '-e .',
      './libs/mine',
      'file:///opt/pkg',
      'git+https://example.com/repo.git@v1#egg=repo',
      'requests @ https://example.com/requests.whl',
    ].join('\n');
    expect(scanRequirements(text)).toEqual({
      includes: [
        { path: 'base.txt', line: 3 },
        { path: 'extra/dev.txt', line: 4 },
        { path: 'constraints.txt', line: 5 },
      ],
      localPaths: [
        { text: '-e .', line: 9 },
        { text: './libs/mine', line: 10 },
        { text: 'file:///opt/pkg', line: 11 },
      ],
    });
  });
});
