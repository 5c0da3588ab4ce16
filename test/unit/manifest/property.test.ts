import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPitlaneError } from '../../../src/errors.js';
import { parseManifestText, validateManifest } from '../../../src/manifest/index.js';

function onlyPitlaneErrors(run: () => unknown): boolean {
  try {
    run();
  } catch (error) {
    if (!isPitlaneError(error)) throw error;
    expect(error.status).toBe(400);
  }
  return true;
}

const yamlTokens = fc.constantFrom(
  'name: ', 'owner_email: ', 'jobtype: ', 'lang: ', 'git:', 'remote: ', 'branch: ', 'labels:', 'runtime_env:', 'resources:',
  'memory_max: ', 'replicas: ', 'docker-proxy', 'a@b.co', '512Mi', '0x1F', '1.10', 'true', 'null', '~', '.inf',
  '\n', '\n  ', '\n    ', ' ', '\t', '- ', ': ', '? ', '{', '}', '[', ']', ',', '"', "'", '&a ', '*a', '!!str ', '!!binary ',
  '!tag ', '%YAML 1.1\n', '---\n', '...\n', '#', '|', '>', '__proto__', 'constructor', '\u0000', '\uFEFF', '\r\n',
);

describe('parseManifestText on arbitrary input', () => {
  it('throws nothing but a 400 PitlaneError on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => onlyPitlaneErrors(() => parseManifestText(text))), {
      numRuns: 500,
    });
  });

  it('throws nothing but a 400 PitlaneError on YAML-shaped strings', () => {
    fc.assert(
      fc.property(fc.array(yamlTokens, { maxLength: 40 }), (tokens) => onlyPitlaneErrors(() => parseManifestText(tokens.join('')))),
      { numRuns: 1000 },
    );
  });

  it('throws nothing but a 400 PitlaneError on arbitrary JSON values', () => {
    const field = fc.constantFrom('name', 'owner_email', 'jobtype', 'lang', 'git', 'resources', 'labels', 'runtime_env', 'docker', 'replicas', 'jobtype_extra');
    const manifestLike = fc.dictionary(field, fc.jsonValue({ maxDepth: 3 }));
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), manifestLike), (value) => onlyPitlaneErrors(() => validateManifest(value))), {
      numRuns: 500,
    });
  });
});
