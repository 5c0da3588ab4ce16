/**
 * CI gates on the image report with dive's `.dive-ci` semantics (pure logic).
 *
 * Sources: wagoodman/dive `cmd/dive/cli/internal/command/ci/rules.go` (rules, messages, strict
 * comparisons, `isRuleDisabled`), `cmd/dive/cli/internal/options/ci_rules.go` (`DefaultCIRules`)
 * and `options/ci.go` (the `.dive-ci` file: a `rules:` map; legacy camelCase keys), v0.13.
 *
 * - `lowest-efficiency` (ratio 0..1, default `0.9`): FAIL when `threshold > efficiency`.
 * - `highest-wasted-bytes` (go-humanize bytes: `20MB` = 20,000,000, `20MiB` = 20,971,520, a bare
 *   number = bytes; default `disabled`): FAIL when `wasted_bytes > threshold`.
 * - `highest-user-wasted-percent` (ratio 0..1, default `0.1`): FAIL when `wasted_user_percent > threshold`.
 * - Equal values pass. `""`, `disabled`, `off`, `false` (any case) disable a rule (SKIP).
 *   Ratios outside 0..1 and unparseable values are configuration errors (400 `IMAGE_CHECKS_INVALID`).
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ErrorDetail } from '../errors.js';
import { configError } from './errors.js';
import { humanizeBytes, parseHumanBytes } from './go-compat.js';
import type { ImageReport } from './types.js';

/** The three rule names (dive's snake-case `.dive-ci` keys). */
export type ImageCheckRuleName = 'lowest-efficiency' | 'highest-wasted-bytes' | 'highest-user-wasted-percent';

/** Rule values as written in `.dive-ci` or the manifest: strings (`"0.9"`, `"20MB"`, `"disabled"`) or numbers. */
export type ImageCheckRules = Partial<Record<ImageCheckRuleName, string | number | boolean | null>>;

/** dive v0.13 defaults (`DefaultCIRules`). */
export const DIVE_CI_DEFAULT_RULES: Readonly<Record<ImageCheckRuleName, string>> = {
  'lowest-efficiency': '0.9',
  'highest-wasted-bytes': 'disabled',
  'highest-user-wasted-percent': '0.1',
};

const LEGACY_KEYS: Record<string, ImageCheckRuleName> = {
  lowestEfficiency: 'lowest-efficiency',
  highestWastedBytes: 'highest-wasted-bytes',
  highestUserWastedPercent: 'highest-user-wasted-percent',
  'lowest-efficiency-threshold': 'lowest-efficiency',
};

const RULE_NAMES: ImageCheckRuleName[] = ['lowest-efficiency', 'highest-wasted-bytes', 'highest-user-wasted-percent'];

/** dive's camelCase name of each rule, as printed in its CI report. */
export const DIVE_RULE_KEYS: Readonly<Record<ImageCheckRuleName, string>> = {
  'lowest-efficiency': 'lowestEfficiency',
  'highest-wasted-bytes': 'highestWastedBytes',
  'highest-user-wasted-percent': 'highestUserWastedPercent',
};

/** A parsed `.dive-ci` file. */
export interface DiveCiConfig {
  /** All three rules as strings, defaults filled in. */
  rules: Record<ImageCheckRuleName, string>;
  /** Deprecated keys used, unknown keys ignored. */
  warnings: string[];
}

/**
 * Parses a `.dive-ci` YAML file (`rules:` with `lowest-efficiency`, `highest-wasted-bytes`,
 * `highest-user-wasted-percent`, or the legacy `lowestEfficiency`, `highestWastedBytes`,
 * `highestUserWastedPercent`), fills dive's defaults and validates every value.
 * An empty file gives the defaults. Throws 400 `IMAGE_CHECKS_INVALID` naming the field.
 */
export function parseDiveCiConfig(yamlText: string): DiveCiConfig {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    const line = err instanceof YAMLParseError ? err.linePos?.[0]?.line : undefined;
    throw configError('IMAGE_CHECKS_INVALID', `.dive-ci is not valid YAML: ${(err as Error).message.split('\n')[0]}`, [
      { path: '.dive-ci', ...(line ? { line } : {}), message: (err as Error).message.split('\n')[0]! },
    ]);
  }
  if (doc === null || doc === undefined) return { rules: { ...DIVE_CI_DEFAULT_RULES }, warnings: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw configError('IMAGE_CHECKS_INVALID', '.dive-ci must be a YAML mapping with a `rules:` section', [{ path: '.dive-ci', message: 'not a mapping' }]);
  }
  const rules = (doc as Record<string, unknown>)['rules'];
  const warnings: string[] = [];
  if (rules === undefined || rules === null) {
    warnings.push('.dive-ci has no `rules:` section; dive defaults apply');
    return { rules: { ...DIVE_CI_DEFAULT_RULES }, warnings };
  }
  return normalizeRules(rules, 'rules', warnings);
}

/**
 * Validates rules from the manifest's `image_checks` (a map of the rule names, optionally under
 * `rules:`) or from {@link parseDiveCiConfig}, filling dive's defaults. Throws 400 `IMAGE_CHECKS_INVALID`.
 */
export function normalizeImageCheckRules(value: unknown, field = 'image_checks'): DiveCiConfig {
  if (value === undefined || value === null) return { rules: { ...DIVE_CI_DEFAULT_RULES }, warnings: [] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw configError('IMAGE_CHECKS_INVALID', `${field} must be a mapping of rule names to thresholds`, [{ path: field, message: 'not a mapping' }]);
  }
  const v = value as Record<string, unknown>;
  if ('rules' in v && typeof v['rules'] === 'object') return normalizeRules(v['rules'], `${field}.rules`, []);
  return normalizeRules(v, field, []);
}

function normalizeRules(raw: unknown, field: string, warnings: string[]): DiveCiConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError('IMAGE_CHECKS_INVALID', `${field} must be a mapping`, [{ path: field, message: 'not a mapping' }]);
  }
  const rules: Record<ImageCheckRuleName, string> = { ...DIVE_CI_DEFAULT_RULES };
  const details: ErrorDetail[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    let name: ImageCheckRuleName | undefined;
    if ((RULE_NAMES as string[]).includes(key)) name = key as ImageCheckRuleName;
    else if (key in LEGACY_KEYS) {
      name = LEGACY_KEYS[key]!;
      warnings.push(`${field}.${key} is deprecated; use ${name}`);
    } else {
      warnings.push(`${field}.${key} is not a rule Pitlane knows; ignored`);
      continue;
    }
    const text = value === null || value === undefined ? '' : typeof value === 'boolean' ? String(value) : String(value);
    if (typeof value === 'object' && value !== null) {
      details.push({ path: `${field}.${key}`, message: 'must be a number or a string' });
      continue;
    }
    rules[name] = text;
  }
  for (const name of RULE_NAMES) {
    const problem = checkRuleValue(name, rules[name]);
    if (problem) details.push({ path: `${field}.${name}`, message: problem });
  }
  if (details.length > 0) {
    throw configError('IMAGE_CHECKS_INVALID', `invalid image check rules: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
  return { rules, warnings };
}

/** dive's `isRuleDisabled`. */
function isDisabled(value: string): boolean {
  const v = value.trim().toLowerCase();
  return v === '' || v === 'disabled' || v === 'off' || v === 'false';
}

function parseRatio(value: string): number | null {
  const v = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return null;
  return Number(v);
}

function checkRuleValue(name: ImageCheckRuleName, value: string): string | null {
  if (isDisabled(value)) return null;
  if (name === 'highest-wasted-bytes') {
    return parseHumanBytes(value.trim()) === null ? `invalid highestWastedBytes config value, given ${JSON.stringify(value)} (use bytes or units such as 20MB, 20MiB)` : null;
  }
  const n = parseRatio(value);
  if (n === null) return `invalid ${DIVE_RULE_KEYS[name]} config value, given ${JSON.stringify(value)}`;
  if (n < 0 || n > 1) return `${DIVE_RULE_KEYS[name]} config value is outside allowed range (0-1), given '${value}'`;
  return null;
}

/** Result of one rule. */
export interface ImageCheckResult {
  /** Rule name (`.dive-ci` key). */
  rule: ImageCheckRuleName;
  /** dive's camelCase key, as in its report. */
  dive_key: string;
  /** `pass`, `fail`, or `skip` (disabled). */
  status: 'pass' | 'fail' | 'skip';
  /** The configured value as written (`0.9`, `20MB`, `disabled`). */
  configured: string;
  /** The parsed threshold (ratio, or bytes for `highest-wasted-bytes`); `null` when disabled. */
  threshold: number | null;
  /** The figure compared (efficiency ratio, wasted bytes, or wasted/user ratio). */
  actual: number;
  /** One sentence with the figures, dive's wording for failures. */
  message: string;
}

/** Result of {@link evaluateImageChecks}. */
export interface ImageChecksEvaluation {
  /** False when any rule failed. */
  pass: boolean;
  /** One result per rule, in dive's order. */
  results: ImageCheckResult[];
  /** The figures the rules looked at. */
  figures: { efficiency: number; wasted_bytes: number; wasted_user_percent: number };
  /** Counts like dive's summary line (`[pass:2 fail:1]`). */
  tally: { pass: number; fail: number; skip: number };
  /** A human summary such as `FAIL: highest-user-wasted-percent (0.72 > 0.1)`. */
  summary: string;
  /** Deprecated or unknown keys met while reading the rules. */
  warnings: string[];
}

/**
 * Evaluates dive's CI rules on a report. `rules` is a `.dive-ci` parse result, the manifest's
 * `image_checks` object, or a plain map of rule names (missing rules get dive's defaults).
 * Comparisons are strict (equal passes) and follow Go's float semantics (NaN never fails;
 * Infinity fails `highest-user-wasted-percent`). Throws 400 `IMAGE_CHECKS_INVALID` for bad rules.
 */
export function evaluateImageChecks(report: Pick<ImageReport, 'efficiency' | 'wasted_bytes' | 'wasted_user_percent'>, rules: DiveCiConfig | ImageCheckRules | unknown = {}): ImageChecksEvaluation {
  const cfg = isDiveCiConfig(rules) ? rules : normalizeImageCheckRules(rules);
  const results: ImageCheckResult[] = RULE_NAMES.map((rule) => evaluateRule(rule, cfg.rules[rule], report));
  const tally = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) tally[r.status]++;
  const failed = results.filter((r) => r.status === 'fail');
  const summary =
    failed.length === 0
      ? `PASS [${Object.entries(tally).filter(([, n]) => n > 0).map(([k, n]) => `${k}:${n}`).join(' ')}]: efficiency ${pct(report.efficiency)}, wasted ${report.wasted_bytes} bytes, user wasted ${pct(report.wasted_user_percent)}`
      : `FAIL: ${failed.map((r) => r.message).join('; ')}`;
  return {
    pass: failed.length === 0,
    results,
    figures: { efficiency: report.efficiency, wasted_bytes: report.wasted_bytes, wasted_user_percent: report.wasted_user_percent },
    tally,
    summary,
    warnings: cfg.warnings,
  };
}

function isDiveCiConfig(v: unknown): v is DiveCiConfig {
  return typeof v === 'object' && v !== null && 'rules' in v && 'warnings' in v && Array.isArray((v as DiveCiConfig).warnings);
}

function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)} %` : String(ratio);
}

function evaluateRule(rule: ImageCheckRuleName, configured: string, r: Pick<ImageReport, 'efficiency' | 'wasted_bytes' | 'wasted_user_percent'>): ImageCheckResult {
  const base = { rule, dive_key: DIVE_RULE_KEYS[rule], configured };
  if (isDisabled(configured)) {
    const actual = rule === 'lowest-efficiency' ? r.efficiency : rule === 'highest-wasted-bytes' ? r.wasted_bytes : r.wasted_user_percent;
    return { ...base, status: 'skip', threshold: null, actual, message: `${rule} disabled` };
  }
  switch (rule) {
    case 'lowest-efficiency': {
      const t = parseRatio(configured)!;
      const fail = t > r.efficiency;
      return {
        ...base,
        status: fail ? 'fail' : 'pass',
        threshold: t,
        actual: r.efficiency,
        message: fail
          ? `image efficiency is too low (efficiency=${r.efficiency.toFixed(2)} < threshold=${t})`
          : `image efficiency ${r.efficiency.toFixed(4)} >= threshold ${t}`,
      };
    }
    case 'highest-wasted-bytes': {
      const t = parseHumanBytes(configured.trim())!;
      const fail = r.wasted_bytes > t;
      return {
        ...base,
        status: fail ? 'fail' : 'pass',
        threshold: t,
        actual: r.wasted_bytes,
        message: fail
          ? `too many bytes wasted (wasted-bytes=${r.wasted_bytes} > threshold=${t})`
          : `wasted bytes ${r.wasted_bytes} (${humanizeBytes(r.wasted_bytes)}) <= threshold ${t} (${humanizeBytes(t)})`,
      };
    }
    case 'highest-user-wasted-percent': {
      const t = parseRatio(configured)!;
      const fail = r.wasted_user_percent > t;
      return {
        ...base,
        status: fail ? 'fail' : 'pass',
        threshold: t,
        actual: r.wasted_user_percent,
        message: fail
          ? `too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=${r.wasted_user_percent.toFixed(2)} > threshold=${t})`
          : `user wasted ratio ${Number.isFinite(r.wasted_user_percent) ? r.wasted_user_percent.toFixed(4) : String(r.wasted_user_percent)} <= threshold ${t}`,
      };
    }
  }
}
