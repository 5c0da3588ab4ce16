/**
 * What a rule check receives: the parsed model, the options, and a `report` function. Checks push
 * raw findings tied to an instruction; `lint.ts` turns them into {@link Finding}s (positions,
 * severity overrides, pragmas).
 */
import type { DockerfileModel, Instr, RunInfo } from '../model.js';
import type { ShellCommand } from '../shell.js';
import type { LintOptions } from '../types.js';

/** A finding before positions, severities and pragmas are applied. */
export interface RawFinding {
  code: string;
  /** The instruction the finding belongs to (pragmas are matched by it). */
  instr: Instr;
  /** File offset to point at; the instruction start when absent. */
  offset?: number;
  message: string;
  /** Override of the rule's `fixable` for this instance (e.g. false for exec-form RUN). */
  fixable?: boolean;
}

/** Input of every check function. */
export interface CheckContext {
  model: DockerfileModel;
  options: LintOptions;
  report(finding: RawFinding): void;
}

/** A RUN instruction (top level or ONBUILD trigger) with its analysed script. */
export interface RunSite {
  /** The instruction findings are reported on (the ONBUILD instruction for triggers). */
  instr: Instr;
  /** The RUN itself (the trigger for ONBUILD). */
  run: Instr;
  info: RunInfo;
  commands: ShellCommand[];
  stage: number;
  inOnbuild: boolean;
}

/** Every RUN with a POSIX shell analysis, in file order, ONBUILD RUN triggers included. */
export function runSites(model: DockerfileModel): RunSite[] {
  const out: RunSite[] = [];
  for (const instr of model.instrs) {
    const target = instr.keyword === 'RUN' ? instr : instr.trigger?.keyword === 'RUN' ? instr.trigger : undefined;
    if (!target || !target.run || !target.run.shell) continue;
    out.push({ instr, run: target, info: target.run, commands: target.run.shell.commands, stage: instr.stage, inOnbuild: target !== instr });
  }
  return out;
}

/** File offset of a command in a RUN (the instruction start for exec form). */
export function commandOffset(site: RunSite, cmd: ShellCommand): number {
  if (site.info.exec) return site.run.start;
  return site.info.map[cmd.start] ?? site.run.start;
}

/** True when a `RUN --mount=type=cache|tmpfs` target starts with (or contains, for `~`-relative dirs) `dir` (hadolint `hasCacheOrTmpfsMountWith`). */
export function hasCacheMount(info: RunInfo, dir: string): boolean {
  return info.mounts.some((m) => (m.type === 'cache' || m.type === 'tmpfs') && m.target !== undefined && (dir.startsWith('/') ? m.target.startsWith(dir) : m.target.includes(dir)));
}

/** Whether two consecutive RUNs can be merged into one with `&&` without changing behaviour. */
export function mergeable(a: RunSite, b: RunSite): boolean {
  const sa = a.info.shell!;
  const sb = b.info.shell!;
  if (a.info.exec || b.info.exec || a.inOnbuild || b.inOnbuild) return false;
  if (a.run.heredocs.length || b.run.heredocs.length || sa.hasHeredoc || sb.hasHeredoc) return false;
  if (sa.error || sb.error || sa.stateful || sa.hasComments || sb.andChain === undefined) return false;
  const key = (i: Instr): string => i.flags.map((f) => `${f.name}=${f.value ?? ''}`).sort().join(' ');
  return key(a.run) === key(b.run);
}

