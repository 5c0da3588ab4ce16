import { describe, expect, it } from 'vitest';
import { parseManifestText, validateManifest } from '../../../src/manifest/index.js';
import { baseManifest, catchPitlane } from '../manifest/helpers.js';

describe('manifest build_secrets', () => {
  it('is absent by default and kept in order when given', () => {
    expect(validateManifest(baseManifest()).manifest.build_secrets).toBeUndefined();
    expect(validateManifest({ ...baseManifest(), build_secrets: ['NPM_TOKEN', 'PIP_INDEX_URL'] }).manifest.build_secrets).toEqual(['NPM_TOKEN', 'PIP_INDEX_URL']);
  });

  it.each([
    [{ build_secrets: 'NPM_TOKEN' }, 'build_secrets', 'must be a list of secret keys'],
    [{ build_secrets: ['NPM-TOKEN'] }, 'build_secrets.0', 'must be a secret key matching'],
    [{ build_secrets: ['OK', 7] }, 'build_secrets.1', 'must be a secret key'],
    [{ build_secrets: ['A', 'B', 'A'] }, 'build_secrets.2', 'A is listed twice'],
    [{ build_secrets: Array.from({ length: 101 }, (_, i) => `K${i}`) }, 'build_secrets', 'at most 100'],
    [{ build_secret: ['A'] }, 'build_secret', 'did you mean "build_secrets"'],
  ])('rejects %j at %s', (patch, path, message) => {
    const error = catchPitlane(() => validateManifest({ ...baseManifest(), ...patch }));
    expect(error.status).toBe(400);
    const detail = error.details.find((d) => d.path === path);
    expect(detail, JSON.stringify(error.details)).toBeDefined();
    expect(detail?.message).toContain(message);
  });

  it('reports the YAML line of a bad entry', () => {
    const error = catchPitlane(() =>
      parseManifestText('name: adder\nowner_email: o@example.com\njobtype: docker-proxy\nbuild_secrets:\n  - GOOD\n  - bad key\n'),
    );
    expect(error.details).toContainEqual(expect.objectContaining({ path: 'build_secrets.1', line: 6 }));
  });
});
