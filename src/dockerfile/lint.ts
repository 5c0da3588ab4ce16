/**
 * The linter's entry point: parse, run every rule, apply pragmas, `ignored` and `override`,
 * and return sorted findings.
 */
import { buildModel, type DockerfileModel } from './model.js';
import type { CheckContext, RawFinding } from './rules/context.js';
import { checkInstructionRules } from './rules/instructions.js';
import { checkLabelRules } from './rules/labels.js';
import { checkPitlaneRules } from './rules/pitlane.js';
import { checkRunRules } from './rules/run.js';
import { docsUrlFor, ruleByCode } from './rules/table.js';
import { lineOf } from './text.js';
import type { Finding, LintOptions, LintResult, RuleLevel, Severity } from './types.js';

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2, style: 3 };

/** The level a code is reported at after `override` (most severe listing wins), or its default. */
export function effectiveLevel(code: string, options: LintOptions): RuleLevel {
  const o = options.override;
  if (o) {
    for (const level of ['error', 'warning', 'info', 'style'] as const) {
      if (o[level]?.some((c) => c.toUpperCase() === code)) return level;
    }
  }
  return ruleByCode.get(code)?.severity ?? 'warning';
}

/** Instruction index → codes ignored by pragmas; plus codes ignored for the whole file. */
function pragmaIgnores(model: DockerfileModel): { perInstr: Map<number, Set<string>>; global: Set<string> } {
  const perInstr = new Map<number, Set<string>>();
  const global = new Set<string>();
  const add = (idx: number, codes: string[]): void => {
    let s = perInstr.get(idx);
    if (!s) perInstr.set(idx, (s = new Set()));
    for (const c of codes) s.add(c);
  };
  for (const p of model.pragmas) {
    if (p.kind === 'global') for (const c of p.codes) global.add(c);
    else if (p.kind === 'ignore') {
      const next = model.instrs.find((i) => i.line > p.line);
      if (next) add(next.index, p.codes);
    } else if (p.kind === 'stage') {
      const next = model.instrs.find((i) => i.line > p.line);
      const stage = next ? (next.keyword === 'FROM' ? next.stage : next.stage) : -1;
      for (const i of model.instrs) if (i.stage === stage && stage >= 0) add(i.index, p.codes);
    }
  }
  return { perInstr, global };
}

function emptyCounts(): Record<Severity, number> {
  return { error: 0, warning: 0, info: 0, style: 0 };
}

/**
 * Lints a Dockerfile.
 *
 * Reports every hadolint DL rule that still exists (code, level and meaning from hadolint
 * v2.15.1, peers.md 3.1) and Pitlane's PL rules; `RUN` bodies are analysed with a shell parser.
 * Pragmas `# hadolint ignore=CODE,...` (next instruction), `# hadolint global ignore=...`,
 * `# hadolint stage ignore=...` and the same with `pitlane` are honoured unless
 * `options.disableIgnorePragma` is set.
 *
 * @param text the Dockerfile's content (any line endings; binary or empty input is reported, not thrown).
 * @param options `.hadolint.yaml`-compatible settings; see {@link LintOptions}.
 * @returns findings sorted by line, column and code. Never throws: an unexpected internal error
 *          becomes a `PL0001` finding.
 */
export function lintDockerfile(text: string, options: LintOptions = {}): LintResult {
  try {
    return lintUnsafe(typeof text === 'string' ? text : String(text ?? ''), options ?? {});
  } catch (e) {
    const finding: Finding = {
      code: 'PL0001',
      severity: 'error',
      message: `The linter could not process this file: ${(e as Error)?.message ?? String(e)}`,
      line: 1,
      column: 1,
      docsUrl: docsUrlFor('PL0001', options?.docsBaseUrl),
      fixable: false,
    };
    return { findings: [finding], counts: { ...emptyCounts(), error: 1 }, parsed: false };
  }
}

function lintUnsafe(text: string, options: LintOptions): LintResult {
  const model = buildModel(text, { shellFastPath: options.shellFastPath !== false });
  const raw: RawFinding[] = [];
  const ctx: CheckContext = { model, options, report: (f) => raw.push(f) };
  if (model.parsed) {
    checkInstructionRules(ctx);
    checkRunRules(ctx);
    checkLabelRules(ctx);
    checkPitlaneRules(ctx);
  }

  const ignored = new Set((options.ignored ?? []).map((c) => c.toUpperCase()));
  const pragmas = options.disableIgnorePragma ? { perInstr: new Map<number, Set<string>>(), global: new Set<string>() } : pragmaIgnores(model);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const push = (code: string, line: number, column: number, endLine: number | undefined, message: string, fixable: boolean | undefined, instrIndex: number | undefined): void => {
    if (ignored.has(code) || pragmas.global.has(code)) return;
    if (instrIndex !== undefined && pragmas.perInstr.get(instrIndex)?.has(code)) return;
    const level = effectiveLevel(code, options);
    if (level === 'ignore') return;
    const key = `${code}\u0000${line}\u0000${column}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    const f: Finding = {
      code,
      severity: level,
      message,
      line,
      column,
      docsUrl: docsUrlFor(code, options.docsBaseUrl),
      fixable: fixable ?? ruleByCode.get(code)?.fixable ?? false,
    };
    if (endLine !== undefined && endLine > line) f.endLine = endLine;
    findings.push(f);
  };

  for (const e of model.errors) push('PL0001', e.line, e.column, e.endLine, e.message, false, e.instr);
  for (const f of raw) {
    let line = f.instr.line;
    let column = f.instr.column;
    if (f.offset !== undefined) {
      const l = lineOf(model.lineStarts, f.offset);
      line = l + 1;
      column = f.offset - model.lineStarts[l]! + 1;
    }
    push(f.code, line, column, f.instr.endLine, f.message, f.fixable, f.instr.index);
  }
  // DL1001 (off unless raised by override): the use of ignore pragmas.
  for (const p of model.pragmas) {
    if (p.kind === 'shell') continue;
    push('DL1001', p.line, 1, undefined, 'Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`.', false, undefined);
  }

  findings.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
  const counts = emptyCounts();
  for (const f of findings) counts[f.severity]++;
  return { findings, counts, parsed: model.parsed };
}

/** Sorts severities from most to least severe (for callers that group findings). */
export function compareSeverity(a: Severity, b: Severity): number {
  return ORDER[a] - ORDER[b];
}
