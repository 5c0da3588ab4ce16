import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesMarkdown, rules } from '../../../src/dockerfile/index.js';
import { codes, optionsFor } from './helpers.js';

/** hadolint v2.15.1's DL codes (peers.md 3.1: 71 rules). */
const HADOLINT = `DL1001 DL3000 DL3001 DL3002 DL3003 DL3004 DL3006 DL3007 DL3008 DL3009 DL3010 DL3011 DL3012 DL3013 DL3014
DL3015 DL3016 DL3018 DL3019 DL3020 DL3021 DL3022 DL3023 DL3024 DL3025 DL3026 DL3027 DL3028 DL3029 DL3030 DL3032 DL3033
DL3034 DL3035 DL3036 DL3037 DL3038 DL3040 DL3041 DL3042 DL3043 DL3044 DL3045 DL3046 DL3047 DL3048 DL3049 DL3050 DL3051
DL3052 DL3053 DL3054 DL3055 DL3056 DL3057 DL3058 DL3059 DL3060 DL3061 DL3062 DL3063 DL3064 DL3065 DL3066 DL3067 DL4000
DL4001 DL4003 DL4004 DL4005 DL4006`.split(/\s+/);

describe('rule table', () => {
  it('has every hadolint rule that still exists, and no retired one', () => {
    const dl = rules.filter((r) => r.source === 'hadolint').map((r) => r.code);
    expect(HADOLINT).toHaveLength(71);
    expect(dl.sort()).toEqual([...HADOLINT].sort());
    for (const retired of ['DL3005', 'DL3017', 'DL3031', 'DL3039', 'DL4002']) expect(dl).not.toContain(retired);
  });

  it('has the PL rules of the issue', () => {
    const pl = rules.filter((r) => r.source === 'pitlane').map((r) => r.code);
    expect(pl).toEqual(['PL0001', 'PL1001', 'PL1002', 'PL1003', 'PL1004', 'PL1005', 'PL1006', 'PL1007', 'PL1008', 'PL1009', 'PL1010', 'PL1011', 'PL1012']);
  });

  it('keeps hadolint severities', () => {
    const sev = Object.fromEntries(rules.map((r) => [r.code, r.severity]));
    expect(sev).toMatchObject({ DL1001: 'ignore', DL3057: 'ignore', DL3000: 'error', DL3009: 'info', DL3048: 'style', DL3047: 'info', DL4006: 'warning', DL3059: 'info' });
  });

  // The documented examples are the first failing and passing case of every rule.
  for (const r of rules) {
    it(`${r.code}: the bad example is reported and the good one is not`, () => {
      const options = optionsFor(r.code);
      expect(codes(r.bad, options)).toContain(r.code);
      expect(codes(r.good, options)).not.toContain(r.code);
    });
  }

  it('docs/lint-rules.md is generated from the table', () => {
    const doc = readFileSync(new URL('../../../docs/lint-rules.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderRulesMarkdown());
  });
});
