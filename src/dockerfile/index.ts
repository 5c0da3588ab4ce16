/**
 * Pitlane's Dockerfile linter (issue 4): hadolint's DL rules and Pitlane's PL rules, pragmas and
 * `.hadolint.yaml` configuration, output formats, safe autofix and unified diffs.
 *
 * Pure functions: text in, plain data out. File and process I/O lives in `cli-helpers.ts`.
 */
export { lintDockerfile, effectiveLevel } from './lint.js';
export { fixDockerfile, type FixResult } from './fix.js';
export { unifiedDiff } from './diff.js';
export { formatFindings, exceedsThreshold, type FormatOptions } from './format.js';
export { parseLintConfig, mergeLintConfig, lintConfigFromObject, type LintConfig, type OutputFormat } from './config.js';
export { rules, ruleByCode, docsUrlFor } from './rules/table.js';
export { renderRulesMarkdown } from './docs.js';
export { parseShell, type ShellScript, type ShellCommand, type ShellWord, type ParseShellOptions } from './shell.js';
export type { Finding, LintOptions, LintResult, RuleInfo, Severity, RuleLevel, FailureThreshold, LabelType, SeverityOverride } from './types.js';
