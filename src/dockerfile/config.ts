/**
 * Linter configuration: `.hadolint.yaml` files (hadolint README "Configure", peers.md 3.1) and the
 * `lint:` section of a job manifest, read into {@link LintConfig}, and merged in order of precedence.
 */
import { parseDocument } from 'yaml';
import { PitlaneError, type ErrorDetail } from '../errors.js';
import { lineOf, lineStarts } from './text.js';
import type { FailureThreshold, LabelType, LintOptions, SeverityOverride } from './types.js';

/** Output formats of {@link formatFindings}. */
export type OutputFormat = 'tty' | 'json' | 'sarif' | 'checkstyle' | 'codeclimate';

/** {@link LintOptions} plus the `.hadolint.yaml` keys that only concern the CLI. */
export interface LintConfig extends LintOptions {
  /** `format:`; only the formats Pitlane writes are accepted. */
  format?: OutputFormat;
  /** `no-color:`. */
  noColor?: boolean;
  /** `no-fail:`: never exit with failure. */
  noFail?: boolean;
}

const THRESHOLDS: readonly FailureThreshold[] = ['error', 'warning', 'info', 'style', 'ignore', 'none'];
const FORMATS: readonly OutputFormat[] = ['tty', 'json', 'sarif', 'checkstyle', 'codeclimate'];
const LABEL_TYPES: readonly LabelType[] = ['text', 'url', 'semver', 'hash', 'rfc3339', 'spdx', 'email'];
const LEVELS = ['error', 'warning', 'info', 'style'] as const;

/** Accepted spellings of each key: hadolint's kebab-case, snake_case (manifest style) and camelCase. */
const KEYS: Record<string, keyof LintConfig> = {
  'failure-threshold': 'failureThreshold',
  failure_threshold: 'failureThreshold',
  failureThreshold: 'failureThreshold',
  format: 'format',
  ignored: 'ignored',
  ignore: 'ignored',
  'label-schema': 'labelSchema',
  label_schema: 'labelSchema',
  labelSchema: 'labelSchema',
  'no-color': 'noColor',
  no_color: 'noColor',
  noColor: 'noColor',
  'no-fail': 'noFail',
  no_fail: 'noFail',
  noFail: 'noFail',
  override: 'override',
  'strict-labels': 'strictLabels',
  strict_labels: 'strictLabels',
  strictLabels: 'strictLabels',
  'disable-ignore-pragma': 'disableIgnorePragma',
  disable_ignore_pragma: 'disableIgnorePragma',
  disableIgnorePragma: 'disableIgnorePragma',
  trustedRegistries: 'trustedRegistries',
  'trusted-registries': 'trustedRegistries',
  trusted_registries: 'trustedRegistries',
  'has-dockerignore': 'hasDockerignore',
  has_dockerignore: 'hasDockerignore',
  hasDockerignore: 'hasDockerignore',
  'docs-base-url': 'docsBaseUrl',
  docs_base_url: 'docsBaseUrl',
  docsBaseUrl: 'docsBaseUrl',
};

const KNOWN_KEYS = 'failure-threshold, format, ignored, label-schema, no-color, no-fail, override, strict-labels, disable-ignore-pragma, trustedRegistries, has-dockerignore, docs-base-url';
const CODE = /^(DL|SC|PL)\d{4}$/;

function codeList(value: unknown, path: string, problems: ErrorDetail[]): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    problems.push({ path, message: 'must be a list of rule codes such as DL3008' });
    return [];
  }
  const out: string[] = [];
  list.forEach((v, i) => {
    if (typeof v !== 'string' || !CODE.test(v.trim().toUpperCase())) problems.push({ path: `${path}.${i}`, message: `\`${String(v)}\` is not a rule code (DLxxxx, SCxxxx or PLxxxx)` });
    else out.push(v.trim().toUpperCase());
  });
  return out;
}

/**
 * Validates a plain object (a parsed `.hadolint.yaml`, or a manifest's `lint:` section) into a
 * {@link LintConfig}.
 *
 * @param value the object; `null`/`undefined` give an empty config.
 * @param pathPrefix prefix for error paths, e.g. `lint` for a manifest section.
 * @throws PitlaneError 422 `LINT_CONFIG_INVALID` listing every problem with its field path.
 */
export function lintConfigFromObject(value: unknown, pathPrefix = ''): LintConfig {
  const p = (k: string): string => (pathPrefix ? `${pathPrefix}.${k}` : k);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const detail: ErrorDetail = { message: 'expected a mapping of settings' };
    if (pathPrefix) detail.path = pathPrefix;
    throw new PitlaneError(422, 'LINT_CONFIG_INVALID', 'The lint configuration must be a mapping', [detail]);
  }
  const problems: ErrorDetail[] = [];
  const cfg: LintConfig = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = KEYS[key];
    if (field === undefined) {
      problems.push({ path: p(key), message: `unknown setting; known settings: ${KNOWN_KEYS}` });
      continue;
    }
    switch (field) {
      case 'failureThreshold':
        if (typeof v !== 'string' || !THRESHOLDS.includes(v as FailureThreshold)) problems.push({ path: p(key), message: `must be one of ${THRESHOLDS.join(', ')}` });
        else cfg.failureThreshold = v as FailureThreshold;
        break;
      case 'format':
        if (typeof v !== 'string' || !FORMATS.includes(v as OutputFormat)) problems.push({ path: p(key), message: `must be one of ${FORMATS.join(', ')}` });
        else cfg.format = v as OutputFormat;
        break;
      case 'ignored':
        cfg.ignored = codeList(v, p(key), problems);
        break;
      case 'trustedRegistries': {
        const list = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.trim() === '')) problems.push({ path: p(key), message: 'must be a registry name or a list of registry names' });
        else cfg.trustedRegistries = list.map((x: string) => x.trim());
        break;
      }
      case 'labelSchema': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          problems.push({ path: p(key), message: 'must map label names to a type' });
          break;
        }
        const schema: Record<string, LabelType> = {};
        for (const [label, type] of Object.entries(v as Record<string, unknown>)) {
          if (typeof type !== 'string' || !LABEL_TYPES.includes(type as LabelType)) problems.push({ path: p(`${key}.${label}`), message: `must be one of ${LABEL_TYPES.join(', ')}` });
          else schema[label] = type as LabelType;
        }
        cfg.labelSchema = schema;
        break;
      }
      case 'override': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          problems.push({ path: p(key), message: 'must map levels (error, warning, info, style) to lists of rule codes' });
          break;
        }
        const o: SeverityOverride = {};
        for (const [level, codes] of Object.entries(v as Record<string, unknown>)) {
          if (!(LEVELS as readonly string[]).includes(level)) {
            problems.push({ path: p(`${key}.${level}`), message: 'level must be error, warning, info or style' });
            continue;
          }
          o[level as (typeof LEVELS)[number]] = codeList(codes ?? [], p(`${key}.${level}`), problems);
        }
        cfg.override = o;
        break;
      }
      case 'docsBaseUrl':
        if (typeof v !== 'string') problems.push({ path: p(key), message: 'must be a string' });
        else cfg.docsBaseUrl = v;
        break;
      default:
        if (typeof v !== 'boolean') problems.push({ path: p(key), message: 'must be true or false' });
        else (cfg as Record<string, unknown>)[field] = v;
    }
  }
  if (problems.length > 0) throw new PitlaneError(422, 'LINT_CONFIG_INVALID', `The lint configuration is invalid (${problems.length} problem${problems.length > 1 ? 's' : ''})`, problems);
  return cfg;
}

/**
 * Parses the text of a `.hadolint.yaml` (or `.hadolint.yml`) file.
 *
 * @param yamlText the file content; empty text gives an empty config.
 * @returns the configuration with camelCase keys.
 * @throws PitlaneError 422 `LINT_CONFIG_INVALID` for YAML syntax errors (with line and column) or
 *         invalid settings (with the field path).
 */
export function parseLintConfig(yamlText: string): LintConfig {
  const doc = parseDocument(yamlText, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const starts = lineStarts(yamlText);
    const details: ErrorDetail[] = doc.errors.map((e) => {
      const l = lineOf(starts, e.pos[0]);
      return { message: e.message.split('\n')[0]!, line: l + 1, column: e.pos[0] - starts[l]! + 1 };
    });
    throw new PitlaneError(422, 'LINT_CONFIG_INVALID', 'The lint configuration is not valid YAML', details);
  }
  return lintConfigFromObject(doc.toJS());
}

/**
 * Merges configurations; later arguments take precedence (e.g. defaults, then `.hadolint.yaml`,
 * then the manifest's `lint:` section, then command-line flags).
 *
 * Scalars: the last value set wins. `ignored` and `trustedRegistries`: union. `labelSchema`: merged
 * by label, later types win. `override`: each code gets the level of the last config that lists it.
 *
 * @param configs configurations, `undefined` entries are skipped.
 */
export function mergeLintConfig(...configs: Array<LintConfig | undefined>): LintConfig {
  const out: LintConfig = {};
  const levelOf = new Map<string, (typeof LEVELS)[number]>();
  for (const c of configs) {
    if (!c) continue;
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      switch (k) {
        case 'ignored':
        case 'trustedRegistries': {
          const prev = (out[k] ?? []) as string[];
          out[k] = [...new Set([...prev, ...(v as string[])])];
          break;
        }
        case 'labelSchema':
          out.labelSchema = { ...(out.labelSchema ?? {}), ...(v as Record<string, LabelType>) };
          break;
        case 'override':
          for (const level of LEVELS) for (const code of (v as SeverityOverride)[level] ?? []) levelOf.set(code, level);
          break;
        default:
          (out as Record<string, unknown>)[k] = v;
      }
    }
  }
  if (levelOf.size > 0) {
    const o: SeverityOverride = {};
    for (const [code, level] of levelOf) (o[level] ??= []).push(code);
    out.override = o;
  }
  return out;
}
