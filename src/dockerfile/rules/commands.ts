/**
 * Predicates over shell commands with the semantics of hadolint's `Hadolint.Shell` helpers
 * (`cmdHasArgs`, `hasFlag`, `getArgsNoFlags`, `dropFlagArg`, `getFlagArg`), so the DL rules can be
 * written as hadolint writes them.
 */
import type { ShellCommand } from '../shell.js';

/** Flag names of one argument: `--name=x` → `name`; `-abc` → `a`,`b`,`c`; `-`/`--` and non-flags → none (hadolint `getAllFlags`). */
export function flagsOf(arg: string): string[] {
  if (arg === '--' || arg === '-' || !arg.startsWith('-')) return [];
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    return [eq < 0 ? arg.slice(2) : arg.slice(2, eq)];
  }
  return arg.slice(1).split('');
}

/** Arguments after the command name. */
export function argsOf(cmd: ShellCommand): string[] {
  return cmd.argv.slice(1);
}

/** `cmd` is `name` and one of its arguments is in `expected` (hadolint `cmdHasArgs`). */
export function cmdHasArgs(cmd: ShellCommand, name: string | readonly string[], expected: readonly string[]): boolean {
  if (typeof name === 'string' ? cmd.name !== name : !name.includes(cmd.name)) return false;
  for (let i = 1; i < cmd.argv.length; i++) if (expected.includes(cmd.argv[i]!)) return true;
  return false;
}

/** `cmd` is `name` and an argument starts with `prefix` (hadolint `cmdHasPrefixArg`). */
export function cmdHasPrefixArg(cmd: ShellCommand, name: string, prefix: string): boolean {
  return cmd.name === name && cmd.argv.slice(1).some((a) => a.startsWith(prefix));
}

/** The command has flag `flag` (without dashes) (hadolint `hasFlag`). */
export function hasFlag(cmd: ShellCommand, flag: string): boolean {
  for (let i = 1; i < cmd.argv.length; i++) if (flagsOf(cmd.argv[i]!).includes(flag)) return true;
  return false;
}

/** The command has any of the flags (hadolint `hasAnyFlag`). */
export function hasAnyFlag(cmd: ShellCommand, flags: readonly string[]): boolean {
  return flags.some((f) => hasFlag(cmd, f));
}

/** The command has the exact argument `arg` (hadolint `hasArg`). */
export function hasArg(cmd: ShellCommand, arg: string): boolean {
  return cmd.argv.indexOf(arg, 1) > 0;
}

/**
 * Arguments that are not flags, after dropping the value argument of each flag in `valueFlags`
 * (hadolint `getArgsNoFlags . dropFlagArg`). A `--flag=value` form carries its own value, so the
 * next argument is kept.
 */
export function argsNoFlags(cmd: ShellCommand, valueFlags: readonly string[] = []): string[] {
  const out: string[] = [];
  const a = cmd.argv;
  for (let i = 1; i < a.length; i++) {
    const arg = a[i]!;
    const fl = flagsOf(arg);
    if (fl.length > 0) {
      const takesValue = !arg.includes('=') && fl.some((f) => valueFlags.includes(f));
      if (takesValue) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Values given to flag `flag` (`-u 1000` or `--uid=1000`) (hadolint `getFlagArg`). */
export function flagArgs(cmd: ShellCommand, flag: string): string[] {
  const out: string[] = [];
  const a = cmd.argv;
  for (let i = 1; i < a.length; i++) {
    const arg = a[i]!;
    if (arg.startsWith('--') && arg.includes('=') && arg.slice(2, arg.indexOf('=')) === flag) out.push(arg.slice(arg.indexOf('=') + 1));
    else if (flagsOf(arg).includes(flag) && !arg.includes('=') && i + 1 < a.length) out.push(a[i + 1]!);
  }
  return out;
}

/** `name` is a pip command running `install` (`pip`, `pip3`, `pip3.12`, `python -m pip install`) (hadolint `isPipInstall`). */
export function isPipInstall(cmd: ShellCommand): boolean {
  const a = cmd.argv;
  if (cmd.name.startsWith('pip') && a.includes('install')) return true;
  if (cmd.name.startsWith('python')) {
    for (let i = 1; i + 2 < a.length; i++) if (a[i] === '-m' && a[i + 1] === 'pip' && a[i + 2] === 'install') return true;
  }
  return false;
}

/** `list` contains `sub` as a contiguous run (Haskell `isInfixOf` on lists). */
export function containsRun(list: readonly string[], sub: readonly string[]): boolean {
  outer: for (let i = 0; i + sub.length <= list.length; i++) {
    for (let k = 0; k < sub.length; k++) if (list[i + k] !== sub[k]) continue outer;
    return true;
  }
  return false;
}
