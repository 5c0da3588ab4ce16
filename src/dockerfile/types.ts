/**
 * Public data shapes of the Dockerfile linter: findings, options, results.
 *
 * Everything here is plain data (JSON-serialisable), so a lint result can be stored with a build,
 * returned by the API and printed by the CLI without conversion.
 */

/**
 * How serious a finding is, in hadolint's four reporting levels (`DLErrorC`, `DLWarningC`,
 * `DLInfoC`, `DLStyleC` in hadolint's `src/Hadolint/Rule.hs`), most serious first.
 */
export type Severity = 'error' | 'warning' | 'info' | 'style';

/**
 * A rule's default level: a {@link Severity}, or `ignore` for rules that are off unless an
 * `override` raises them (hadolint's `DLIgnoreC`: DL1001 and DL3057).
 */
export type RuleLevel = Severity | 'ignore';

/**
 * The level from which {@link exceedsThreshold} reports failure, as hadolint's
 * `failure-threshold`: `error` fails only on errors, `style` on anything, `ignore` also on
 * anything, `none` never.
 */
export type FailureThreshold = Severity | 'ignore' | 'none';

/** Label value formats of hadolint's `label-schema` (README "Configure"; rules DL3052–DL3058). */
export type LabelType = 'text' | 'url' | 'semver' | 'hash' | 'rfc3339' | 'spdx' | 'email';

/** One problem found in a Dockerfile. Positions are 1-based. */
export interface Finding {
  /** Rule code: `DLxxxx` (hadolint's code and meaning), `PL1xxx` (Pitlane's own) or `PL0001` (the file cannot be read as a Dockerfile). */
  code: string;
  /** Level after `override` has been applied. */
  severity: Severity;
  /** One sentence saying what is wrong and what to do instead. */
  message: string;
  /** 1-based line where the problem is (the instruction, or for shell rules the offending command). */
  line: number;
  /** 1-based column of that position (hadolint always prints 1; we give the real column). */
  column: number;
  /** 1-based last line of the instruction the finding belongs to, when it spans several lines. */
  endLine?: number;
  /** Link to the rule's documentation (hadolint wiki page for DL codes, `docs/lint-rules.md` anchor for PL codes). */
  docsUrl: string;
  /** True when {@link fixDockerfile} can rewrite the file so that this finding goes away. */
  fixable: boolean;
}

/** Severities overridden by code, as hadolint's `override:` section. A code listed under several levels gets the most severe one listed. */
export interface SeverityOverride {
  error?: string[];
  warning?: string[];
  info?: string[];
  style?: string[];
}

/**
 * Linter configuration: the keys of `.hadolint.yaml` in camelCase, plus Pitlane's own options.
 * Every key is optional; an empty object lints with the defaults.
 */
export interface LintOptions {
  /** Codes never to report (`ignored:` in `.hadolint.yaml`). */
  ignored?: string[];
  /** Registries `FROM` may use (DL3026); empty or absent disables DL3026. Entries may start with `*.` to allow sub-domains. */
  trustedRegistries?: string[];
  /** Severity overrides by code (`override:`). Raising an `ignore`-level rule (DL1001, DL3057) turns it on. */
  override?: SeverityOverride;
  /** Level from which the CLI exits with failure (`failure-threshold:`); used by callers through {@link exceedsThreshold}. Default `info` in hadolint, `error` in Pitlane builds. */
  failureThreshold?: FailureThreshold;
  /** Labels every stage must carry and the format of their values (`label-schema:`; DL3049–DL3058). */
  labelSchema?: Record<string, LabelType>;
  /** Report labels not in `labelSchema` (`strict-labels:`; DL3050). */
  strictLabels?: boolean;
  /** Ignore `# hadolint ignore=` / `# pitlane ignore=` pragmas (`disable-ignore-pragma:`). */
  disableIgnorePragma?: boolean;
  /** Whether the build context has a `.dockerignore` file (PL1009). Absent means unknown: PL1009 is not checked. */
  hasDockerignore?: boolean;
  /** Base URL of Pitlane's rule documentation; PL findings link to `<docsBaseUrl>#pl1001` etc. Default `docs/lint-rules.md`. */
  docsBaseUrl?: string;
  /**
   * Parse simple RUN bodies (plain words, simple quotes, `&&`, `||`, `|`, `;`) with the built-in
   * tokenizer instead of mvdan-sh; results are identical (property-tested), about 30× faster.
   * Default true; false sends every RUN body through mvdan-sh.
   */
  shellFastPath?: boolean;
}

/** Result of {@link lintDockerfile}. */
export interface LintResult {
  /** Findings sorted by line, then column, then code. */
  findings: Finding[];
  /** Number of findings per severity. */
  counts: Record<Severity, number>;
  /** False when the file could not be read as a Dockerfile at all (binary, empty, no instructions); the findings then only hold `PL0001`. */
  parsed: boolean;
}

/** One entry of the documented rule table ({@link rules}). */
export interface RuleInfo {
  /** `DLxxxx`, `PL1xxx` or `PL0001`. */
  code: string;
  /** Default level (hadolint's for DL codes, per peers.md 3.1 / hadolint v2.15.1). */
  severity: RuleLevel;
  /** Short statement of the rule (hadolint's README wording for DL codes). */
  title: string;
  /** A Dockerfile fragment that breaks the rule. */
  bad: string;
  /** The same fragment written so the rule passes. */
  good: string;
  /** True when {@link fixDockerfile} rewrites it. */
  fixable: boolean;
  /** `hadolint` for DL codes, `pitlane` for PL codes. */
  source: 'hadolint' | 'pitlane';
}
