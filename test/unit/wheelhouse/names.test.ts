import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPitlaneError } from '../../../src/errors.js';
import { isWheelFilename, normalizeProjectName, normalizeVersion, parseWheelFilename, versionsEqual } from '../../../src/wheelhouse/index.js';
import { expectPitlaneError } from './helpers.js';

describe('parseWheelFilename (PEP 427)', () => {
  it('splits a five-part name', () => {
    expect(parseWheelFilename('requests-2.32.3-py3-none-any.whl')).toMatchObject({
      distribution: 'requests',
      project: 'requests',
      version: '2.32.3',
      build: null,
      pythonTags: ['py3'],
      abiTags: ['none'],
      platformTags: ['any'],
      tags: ['py3-none-any'],
    });
  });

  it('reads a build tag and expands compressed tag sets', () => {
    const parsed = parseWheelFilename('Pillow-10.0.0-1extra-cp311.cp312-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
    expect(parsed.build).toBe('1extra');
    expect(parsed.project).toBe('pillow');
    expect(parsed.tags).toEqual([
      'cp311-cp311-manylinux_2_17_x86_64',
      'cp311-cp311-manylinux2014_x86_64',
      'cp312-cp311-manylinux_2_17_x86_64',
      'cp312-cp311-manylinux2014_x86_64',
    ]);
  });

  it('normalises dotted and mixed-case names (old setuptools writes them)', () => {
    expect(parseWheelFilename('Pitlane.Greet-0.1.0-py3-none-any.whl').project).toBe('pitlane-greet');
    expect(parseWheelFilename('zope.interface-6.0-cp311-cp311-linux_x86_64.whl').project).toBe('zope-interface');
  });

  it('accepts epochs and local versions', () => {
    expect(parseWheelFilename('pkg-1!2.0+local.7-py3-none-any.whl').version).toBe('1!2.0+local.7');
  });

  it.each([
    ['', 'empty'],
    ['pkg-1.0-py3-none-any.zip', '.whl'],
    ['pkg-1.0-py3-none.whl', '5 or 6 parts'],
    ['pkg-1.0-x-y-py3-none-any.whl', '5 or 6 parts'],
    ['pkg-1.0-abc-py3-none-any.whl', 'build tag'],
    ['../pkg-1.0-py3-none-any.whl', '"/"'],
    ['a/b-1.0-py3-none-any.whl', '"/"'],
    ['pkg\\x-1.0-py3-none-any.whl', '"/"'],
    ['.pkg-1.0-py3-none-any.whl', 'name'],
    ['pkg-1.0-py3-none-any .whl', 'platform tag'],
    ['pkg-1.0-py3-none-an%2F.whl', 'platform tag'],
    ['pkg-1.0-py3..x-none-any.whl', 'python tag'],
    ['pkg-1.0 -py3-none-any.whl', 'version'],
    ['pkg-1.0-py3-none-any.whl\0', '"/"'],
  ])('refuses %j (400 naming the filename)', async (name, hint) => {
    const error = await expectPitlaneError(() => parseWheelFilename(name), 400, 'WHEEL_FILENAME_INVALID');
    expect(error.details[0]?.path).toBe('filename');
    expect(error.message).toContain(hint);
  });

  it('refuses names longer than 255 characters', async () => {
    await expectPitlaneError(() => parseWheelFilename(`${'a'.repeat(250)}-1.0-py3-none-any.whl`), 400, 'WHEEL_FILENAME_INVALID');
  });

  it('never accepts a name that is unsafe as a path component (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const candidate = `${text}-1.0-py3-none-any.whl`;
        let ok = false;
        try {
          parseWheelFilename(candidate);
          ok = true;
        } catch (error) {
          expect(isPitlaneError(error)).toBe(true);
        }
        if (ok) {
          expect(candidate).not.toMatch(/[/\\\0]/);
          expect(candidate.startsWith('.')).toBe(false);
          expect(candidate.split('/')).toEqual([candidate]);
        }
        expect(isWheelFilename(candidate)).toBe(ok);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('normalizeProjectName (PEP 503)', () => {
  it.each([
    ['Django', 'django'],
    ['Pitlane.Greet', 'pitlane-greet'],
    ['pitlane__greet', 'pitlane-greet'],
    ['a-_.b', 'a-b'],
    ['zope.interface', 'zope-interface'],
  ])('%s -> %s', (name, expected) => {
    expect(normalizeProjectName(name)).toBe(expected);
  });

  it('is idempotent (property)', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9._-]{1,30}$/), (name) => normalizeProjectName(normalizeProjectName(name)) === normalizeProjectName(name)));
  });
});

describe('PEP 440 versions', () => {
  it.each([
    ['1.0', '1.0'],
    ['v1.0', '1.0'],
    ['1.0ALPHA2', '1.0a2'],
    ['1.0-beta', '1.0b0'],
    ['1.0c1', '1.0rc1'],
    ['1.0-1', '1.0.post1'],
    ['1.0_post_2', '1.0.post2'],
    ['1.0.dev', '1.0.dev0'],
    ['1!01.002', '1!1.2'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
  ])('normalizeVersion(%j) = %j', (text, expected) => {
    expect(normalizeVersion(text)).toBe(expected);
  });

  it('gives null for versions that are not PEP 440', () => {
    expect(normalizeVersion('french toast')).toBeNull();
    expect(normalizeVersion('1.0-')).toBeNull();
  });

  it('compares with trailing zeros ignored and "_" read as "-" (filename escaping)', () => {
    expect(versionsEqual('1.0', '1.0.0')).toBe(true);
    expect(versionsEqual('1.0_1', '1.0-1')).toBe(true);
    expect(versionsEqual('1.0.post1', '1.0-1')).toBe(true);
    expect(versionsEqual('2.0', '2.0.1')).toBe(false);
    expect(versionsEqual('1.0a1', '1.0b1')).toBe(false);
    expect(versionsEqual('1.0+a', '1.0')).toBe(false);
    expect(versionsEqual('weird_thing', 'WEIRD-thing')).toBe(true);
  });
});
