/**
 * Output formats for lint findings, following hadolint's formatters (`src/Hadolint/Formatter/*.hs`)
 * where a shape is shared: `json` is hadolint's row array, `checkstyle` its XML, `codeclimate` the
 * GitLab Code Quality array (hadolint's `gitlab_codeclimate`), `sarif` SARIF 2.1.0.
 */
import { createHash } from 'node:crypto';
import pc from 'picocolors';
import { PitlaneError } from '../errors.js';
import type { OutputFormat } from './config.js';
import { rules } from './rules/table.js';
import type { FailureThreshold, Finding, LintResult, Severity } from './types.js';

/** Options of {@link formatFindings}. */
export interface FormatOptions {
  /** Colour the `tty` format. Default: picocolors' detection (TTY, `NO_COLOR`, `FORCE_COLOR`). */
  color?: boolean;
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2, style: 3 };

/**
 * Whether findings reach the failure threshold (hadolint's `failure-threshold`, which decides the
 * exit code): `error` fails on errors only, `warning` on warnings and errors, `info` and `style`
 * likewise down the scale, `ignore` on any finding, `none` never.
 *
 * @param findings the findings (after ignores and overrides).
 * @param threshold the level; default `info` (hadolint's CLI default).
 */
export function exceedsThreshold(findings: readonly Finding[], threshold: FailureThreshold = 'info'): boolean {
  if (threshold === 'none') return false;
  if (threshold === 'ignore') return findings.length > 0;
  const limit = RANK[threshold];
  return findings.some((f) => RANK[f.severity] <= limit);
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function tty(findings: readonly Finding[], file: string, color: boolean): string {
  const c = pc.createColors(color);
  const sev: Record<Severity, (s: string) => string> = { error: c.red, warning: c.yellow, info: c.cyan, style: c.magenta };
  return findings
    .map((f) => `${c.bold(`${file}:${f.line}:${f.column}`)} ${c.dim(f.code)} ${sev[f.severity](f.severity)}: ${f.message} ${c.dim(`(${f.docsUrl})`)}`)
    .join('\n');
}

function json(findings: readonly Finding[], file: string): string {
  return JSON.stringify(findings.map((f) => ({ code: f.code, column: f.column, file, level: f.severity, line: f.line, message: f.message })));
}

function sarif(findings: readonly Finding[], file: string): string {
  const used = new Set(findings.map((f) => f.code));
  const level = (s: Severity): string => (s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note');
  const driverRules = rules
    .filter((r) => used.has(r.code))
    .map((r) => ({
      id: r.code,
      shortDescription: { text: r.title },
      helpUri: findings.find((f) => f.code === r.code)!.docsUrl,
      defaultConfiguration: { level: r.severity === 'ignore' ? 'none' : level(r.severity) },
    }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'pitlane-lint', informationUri: 'https://github.com/hadolint/hadolint', rules: driverRules } },
        results: findings.map((f) => {
          const region: Record<string, number> = { startLine: f.line, startColumn: f.column };
          if (f.endLine !== undefined) region.endLine = f.endLine;
          return {
            ruleId: f.code,
            level: level(f.severity),
            message: { text: f.message },
            locations: [{ physicalLocation: { artifactLocation: { uri: file }, region } }],
          };
        }),
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}

function checkstyle(findings: readonly Finding[], file: string): string {
  const sev = (s: Severity): string => (s === 'style' ? 'info' : s);
  const rows = findings.map(
    (f) => `    <error line="${f.line}" column="${f.column}" severity="${sev(f.severity)}" message="${xmlEscape(f.message)}" source="${xmlEscape(f.code)}"/>`,
  );
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">', `  <file name="${xmlEscape(file)}">`, ...rows, '  </file>', '</checkstyle>'].join('\n');
}

function codeclimate(findings: readonly Finding[], file: string): string {
  const sev: Record<Severity, string> = { error: 'blocker', warning: 'major', info: 'info', style: 'minor' };
  return JSON.stringify(
    findings.map((f) => ({
      type: 'issue',
      check_name: f.code,
      description: f.message,
      content: { body: f.docsUrl },
      categories: [f.severity === 'style' ? 'Style' : 'Bug Risk'],
      location: { path: file, lines: { begin: f.line, end: f.endLine ?? f.line } },
      severity: sev[f.severity],
      fingerprint: createHash('md5').update(`${file}\u0000${f.code}\u0000${f.line}\u0000${f.column}\u0000${f.message}`).digest('hex'),
    })),
    null,
    2,
  );
}

/**
 * Renders findings for one file.
 *
 * - `tty`: one line per finding, `file:line:column CODE severity: message (docs link)`, coloured.
 * - `json`: hadolint's array of `{code, column, file, level, line, message}`.
 * - `sarif`: a SARIF 2.1.0 log with one run (rule metadata for the codes present).
 * - `checkstyle`: checkstyle 4.3 XML (`style` maps to `info`, as hadolint does).
 * - `codeclimate`: GitLab Code Quality JSON array (severities blocker/major/info/minor, md5 fingerprints).
 *
 * @param result a lint result or a finding list.
 * @param format output format.
 * @param fileName path shown in the output.
 * @returns the rendered text, without a trailing newline (empty string for `tty` with no findings).
 * @throws PitlaneError 400 `LINT_FORMAT_UNKNOWN` for a format not listed above.
 */
export function formatFindings(result: LintResult | readonly Finding[], format: OutputFormat, fileName: string, options: FormatOptions = {}): string {
  const findings = Array.isArray(result) ? (result as readonly Finding[]) : (result as LintResult).findings;
  switch (format) {
    case 'tty':
      return tty(findings, fileName, options.color ?? pc.isColorSupported);
    case 'json':
      return json(findings, fileName);
    case 'sarif':
      return sarif(findings, fileName);
    case 'checkstyle':
      return checkstyle(findings, fileName);
    case 'codeclimate':
      return codeclimate(findings, fileName);
    default:
      throw new PitlaneError(400, 'LINT_FORMAT_UNKNOWN', `Unknown output format \`${String(format)}\`; use tty, json, sarif, checkstyle or codeclimate`);
  }
}
