import { describe, expect, it } from 'vitest';
import {
  DIVE_CI_DEFAULT_RULES,
  analyzeImageArchive,
  evaluateImageChecks,
  formatImageReport,
  humanizeBytes,
  normalizeImageCheckRules,
  parseDiveCiConfig,
  parseHumanBytes,
} from '../../../src/image/index.js';
import { diveTestImageLayers, imageArchive, streamOf } from './archive-builder.js';

// dive's test image figures (image_archive_analysis_test.go), reproduced in analyze.test.ts.
const testImage = { efficiency: 0.9844212134184309, wasted_bytes: 32025, wasted_user_percent: 0.4834911001404049 };

describe('parseDiveCiConfig', () => {
  it('reads the snake-case rules and keeps them as written', () => {
    const cfg = parseDiveCiConfig('rules:\n  lowest-efficiency: 0.95\n  highest-wasted-bytes: 20Mb\n  highest-user-wasted-percent: 0.5\n');
    expect(cfg.rules).toEqual({ 'lowest-efficiency': '0.95', 'highest-wasted-bytes': '20Mb', 'highest-user-wasted-percent': '0.5' });
    expect(cfg.warnings).toEqual([]);
  });

  it('maps the legacy camelCase keys with a deprecation warning (Test_CI_LegacyRules)', () => {
    const cfg = parseDiveCiConfig('rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n  pluginRule: x\n');
    expect(cfg.rules['lowest-efficiency']).toBe('0.95');
    expect(cfg.rules['highest-wasted-bytes']).toBe('20MB');
    expect(cfg.rules['highest-user-wasted-percent']).toBe('0.2');
    expect(cfg.warnings.join('\n')).toMatch(/lowestEfficiency is deprecated; use lowest-efficiency/);
    expect(cfg.warnings.join('\n')).toMatch(/pluginRule is not a rule/);
  });

  it("fills dive's defaults (0.9, disabled, 0.1)", () => {
    expect(parseDiveCiConfig('').rules).toEqual(DIVE_CI_DEFAULT_RULES);
    expect(parseDiveCiConfig('rules:\n  lowest-efficiency: 0.5\n').rules).toEqual({ ...DIVE_CI_DEFAULT_RULES, 'lowest-efficiency': '0.5' });
  });

  it('rejects ratios outside 0-1 and unparseable values, naming the field', () => {
    expect(() => parseDiveCiConfig('rules:\n  lowest-efficiency: 1.5\n')).toThrow(/outside allowed range \(0-1\)/);
    try {
      parseDiveCiConfig('rules:\n  highest-wasted-bytes: lots\n  highest-user-wasted-percent: -0.1\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ status: 400, code: 'IMAGE_CHECKS_INVALID' });
      expect((err as { details: Array<{ path: string }> }).details.map((d) => d.path)).toEqual(['rules.highest-wasted-bytes', 'rules.highest-user-wasted-percent']);
    }
  });

  it('reports YAML errors with the line', () => {
    expect(() => parseDiveCiConfig('rules:\n  a: [\n')).toThrow(expect.objectContaining({ code: 'IMAGE_CHECKS_INVALID', details: [expect.objectContaining({ line: expect.any(Number) })] }));
    expect(() => parseDiveCiConfig('- 1\n- 2\n')).toThrow(/mapping/);
  });

  it('accepts the manifest image_checks form, with or without rules:', () => {
    expect(normalizeImageCheckRules({ 'lowest-efficiency': 0.8 }).rules['lowest-efficiency']).toBe('0.8');
    expect(normalizeImageCheckRules({ rules: { 'highest-wasted-bytes': '1GiB' } }).rules['highest-wasted-bytes']).toBe('1GiB');
    expect(() => normalizeImageCheckRules({ 'lowest-efficiency': { x: 1 } })).toThrow(/image_checks.lowest-efficiency/);
  });
});

describe('byte units (go-humanize)', () => {
  it('parses SI and IEC units like ParseBytes', () => {
    expect(parseHumanBytes('20MB')).toBe(20_000_000);
    expect(parseHumanBytes('20Mb')).toBe(20_000_000);
    expect(parseHumanBytes('20MiB')).toBe(20_971_520);
    expect(parseHumanBytes('50kB')).toBe(50_000);
    expect(parseHumanBytes('1B')).toBe(1);
    expect(parseHumanBytes('1,024')).toBe(1024);
    expect(parseHumanBytes('1.5 GB')).toBe(1_500_000_000);
    expect(parseHumanBytes('12')).toBe(12);
    expect(parseHumanBytes('lots')).toBeNull();
    expect(parseHumanBytes('-1MB')).toBeNull();
    expect(parseHumanBytes('5 parsecs')).toBeNull();
  });
  it('formats like humanize.Bytes', () => {
    expect(humanizeBytes(9)).toBe('9 B');
    expect(humanizeBytes(7000)).toBe('7.0 kB');
    expect(humanizeBytes(12810)).toBe('13 kB');
    expect(humanizeBytes(82854982)).toBe('83 MB');
    expect(humanizeBytes(1220598)).toBe('1.2 MB');
  });
});

describe('evaluateImageChecks (ci/evaluator_test.go cases on the test image)', () => {
  const evaluate = (lowest: string, wasted: string, user: string) =>
    evaluateImageChecks(testImage, parseDiveCiConfig(`rules:\n  lowest-efficiency: "${lowest}"\n  highest-wasted-bytes: "${wasted}"\n  highest-user-wasted-percent: "${user}"\n`));

  it('fails all three at (0.99, 1B, 0.01)', () => {
    const e = evaluate('0.99', '1B', '0.01');
    expect(e.pass).toBe(false);
    expect(e.results.map((r) => r.status)).toEqual(['fail', 'fail', 'fail']);
    expect(e.results[0]!.message).toBe('image efficiency is too low (efficiency=0.98 < threshold=0.99)');
    expect(e.results[1]!.message).toBe('too many bytes wasted (wasted-bytes=32025 > threshold=1)');
    expect(e.results[2]!.message).toBe('too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=0.48 > threshold=0.01)');
    expect(e.summary).toMatch(/^FAIL: /);
  });

  it('passes all three at (0.9, 50kB, 0.5)', () => {
    const e = evaluate('0.9', '50kB', '0.5');
    expect(e.pass).toBe(true);
    expect(e.tally).toEqual({ pass: 3, fail: 0, skip: 0 });
    expect(e.results[1]!.threshold).toBe(50_000);
  });

  it('skips and passes when all rules are disabled (also off / false / empty)', () => {
    const e = evaluate('disabled', 'off', 'False');
    expect(e.pass).toBe(true);
    expect(e.results.map((r) => r.status)).toEqual(['skip', 'skip', 'skip']);
    expect(evaluateImageChecks(testImage, { 'lowest-efficiency': '', 'highest-user-wasted-percent': 'disabled' }).results.map((r) => r.status)).toEqual(['skip', 'skip', 'skip']);
  });

  it('fails only highest-wasted-bytes at (0.9, 1B, 0.5)', () => {
    const e = evaluate('0.9', '1B', '0.5');
    expect(e.results.map((r) => [r.rule, r.status])).toEqual([
      ['lowest-efficiency', 'pass'],
      ['highest-wasted-bytes', 'fail'],
      ['highest-user-wasted-percent', 'pass'],
    ]);
  });

  it('uses strict comparisons: a figure equal to its threshold passes', () => {
    const r = { efficiency: 0.5, wasted_bytes: 20_000_000, wasted_user_percent: 0.25 };
    expect(evaluateImageChecks(r, { 'lowest-efficiency': 0.5, 'highest-wasted-bytes': '20MB', 'highest-user-wasted-percent': 0.25 }).pass).toBe(true);
    expect(evaluateImageChecks(r, { 'lowest-efficiency': 0.5000001, 'highest-wasted-bytes': 'disabled', 'highest-user-wasted-percent': 'disabled' }).pass).toBe(false);
    expect(evaluateImageChecks({ ...r, wasted_bytes: 20_000_001 }, { 'lowest-efficiency': 0, 'highest-wasted-bytes': '20MB', 'highest-user-wasted-percent': 1 }).pass).toBe(false);
    expect(evaluateImageChecks({ ...r, wasted_user_percent: 0.2500001 }, { 'lowest-efficiency': 0, 'highest-wasted-bytes': 'off', 'highest-user-wasted-percent': 0.25 }).pass).toBe(false);
  });

  it("applies dive's defaults when no rules are given", () => {
    const e = evaluateImageChecks(testImage);
    expect(e.results.map((r) => [r.configured, r.status])).toEqual([
      ['0.9', 'pass'],
      ['disabled', 'skip'],
      ['0.1', 'fail'],
    ]);
  });

  it('follows Go float semantics for NaN and Infinity user percentages', () => {
    expect(evaluateImageChecks({ efficiency: 1, wasted_bytes: 0, wasted_user_percent: NaN }).pass).toBe(true);
    expect(evaluateImageChecks({ efficiency: 1, wasted_bytes: 5, wasted_user_percent: Infinity }).pass).toBe(false);
  });

  it('states the figures in the table', async () => {
    const report = await analyzeImageArchive(streamOf(await imageArchive({ layers: diveTestImageLayers() })));
    const checks = evaluateImageChecks(report, { 'lowest-efficiency': 0.99 });
    const text = formatImageReport(report, 'table', checks);
    expect(text).toContain('FAIL  lowestEfficiency (image efficiency is too low (efficiency=0.98 < threshold=0.99))');
    expect(text).toContain('SKIP  highestWastedBytes (disabled)');
  });
});
