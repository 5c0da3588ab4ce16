import { describe, expect, it } from 'vitest';
import { refuseHostAccessFlags } from '../../../src/build/build-flags.js';

describe('refuseHostAccessFlags', () => {
  it.each([
    ['FROM scratch\nRUN --network=host curl x\n', 2],
    ['FROM scratch\nrun --mount=type=cache,target=/c --security=insecure make\n', 2],
    ['FROM scratch\nRUN --mount=type=secret,id=A \\\n    --network=HOST true\n', 2],
    ['FROM scratch\n\nENV A=1\nRUN \\\n  --network=host true\n', 4],
  ])('refuses %j at line %i', (dockerfile, line) => {
    expect(() => refuseHostAccessFlags(dockerfile, 'file')).toThrow(expect.objectContaining({ status: 400, details: [expect.objectContaining({ path: 'file', line })] }));
  });

  it.each([
    'FROM scratch\nRUN --network=none true\n',
    'FROM scratch\nRUN --mount=type=secret,id=A cat /run/secrets/A\n',
    'FROM scratch\nRUN echo --network=host\n',
    'FROM scratch\n# RUN --network=host\nCMD ["x"]\n',
    'FROM scratch\nLABEL x="RUN --security=insecure"\n',
  ])('accepts %j', (dockerfile) => {
    expect(() => refuseHostAccessFlags(dockerfile, 'file')).not.toThrow();
  });
});
