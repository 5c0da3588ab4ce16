/**
 * hadolint's shell-aware DL rules on `RUN` (and `ONBUILD RUN`). Each rule follows the matching
 * `src/Hadolint/Rule/DLxxxx.hs`; deviations are noted where they are made.
 */
import type { Instr } from '../model.js';
import type { ShellCommand } from '../shell.js';
import { dropQuotes } from '../text.js';
import { argsNoFlags, cmdHasArgs, cmdHasPrefixArg, containsRun, flagArgs, hasAnyFlag, hasArg, hasFlag, isPipInstall } from './commands.js';
import { commandOffset, hasCacheMount, mergeable, runSites, type CheckContext, type RunSite } from './context.js';

const M = {
  DL3001: 'For some bash commands it makes no sense running them in a Docker container like `ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill`, `mount`, `ifconfig`',
  DL3003: 'Use WORKDIR to switch to a directory',
  DL3004: 'Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root',
  DL3008: 'Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`',
  DL3009: 'Delete the apt-get lists after installing something',
  DL3010: 'Use ADD for extracting archives into an image',
  DL3013: 'Pin versions in pip. Instead of `pip install <package>` use `pip install <package>==<version>` or `pip install --requirement <requirements file>`',
  DL3014: 'Use the `-y` switch to avoid manual input `apt-get -y install <package>`',
  DL3015: 'Avoid additional packages by specifying `--no-install-recommends`',
  DL3016: 'Pin versions in npm. Instead of `npm install <package>` use `npm install <package>@<version>`',
  DL3018: 'Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`',
  DL3019: 'Use the `--no-cache` switch to avoid the need to use `--update` and remove `/var/cache/apk/*` when done installing packages',
  DL3027: 'Do not use apt as it is meant to be a end-user tool, use apt-get or apt-cache instead',
  DL3028: 'Pin versions in gem install. Instead of `gem install <gem>` use `gem install <gem>:<version>`',
  DL3030: 'Use the -y switch to avoid manual input `yum install -y <package>`',
  DL3032: '`yum clean all` missing after yum command.',
  DL3033: 'Specify version with `yum install -y <package>-<version>`.',
  DL3034: 'Non-interactive switch missing from `zypper` command: `zypper install -y`',
  DL3035: 'Do not use `zypper dist-upgrade`.',
  DL3036: '`zypper clean` missing after zypper use.',
  DL3037: 'Specify version with `zypper install -y <package>=<version>`.',
  DL3038: 'Use the -y switch to avoid manual input `dnf install -y <package>`',
  DL3040: '`dnf clean all` missing after dnf command.',
  DL3041: 'Specify version with `dnf install -y <package>-<version>`.',
  DL3042: 'Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`',
  DL3046: '`useradd` without flag `-l` and high UID will result in excessively large Image.',
  DL3047: 'Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`. Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).',
  DL3059: 'Multiple consecutive `RUN` instructions. Consider consolidation.',
  DL3060: '`yarn cache clean` missing after `yarn install` was run.',
  DL3062: 'Pin versions in go install. Instead of `go install <package>` use `go install <package>@<version>`',
  DL4001: 'Either use Wget or Curl but not both',
  DL4005: 'Use SHELL to change the default shell',
  DL4006: 'Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, or disable this check',
} as const;

const TRUTHY = new Set(['1', 'true', 'True', 'TRUE', 'on', 'On', 'ON', 'yes', 'Yes', 'YES']);
const DL3001_CMDS = new Set(['free', 'kill', 'mount', 'ps', 'service', 'shutdown', 'ssh', 'top', 'vim']);
const ARCHIVE_EXT = ['.tar', '.Z', '.bz2', '.gz', '.lz', '.lzma', '.tZ', '.tb2', '.tbz', '.tbz2', '.tgz', '.tlz', '.tpz', '.txz', '.xz'];
const PIP_VALUE_FLAGS = ['abi', 'b', 'build', 'e', 'editable', 'extra-index-url', 'f', 'find-links', 'i', 'index-url', 'implementation', 'no-binary', 'only-binary', 'platform', 'prefix', 'progress-bar', 'proxy', 'python-version', 'root', 'src', 't', 'target', 'trusted-host', 'upgrade-strategy'];
const VCS = ['git+file', 'git+https', 'git+ssh', 'git+http', 'git+git', 'git', 'hg+file', 'hg+http', 'hg+https', 'hg+ssh', 'hg+static-http', 'svn', 'svn+svn', 'svn+http', 'svn+https', 'svn+ssh', 'bzr+http', 'bzr+https', 'bzr+ssh', 'bzr+sftp', 'bzr+ftp', 'bzr+lp'];

/** Commands of a site without wrapper duplicates (what hadolint's presentCommands sees). */
function plain(site: RunSite): ShellCommand[] {
  return site.commands.filter((c) => c.wrapper === undefined);
}

function report(ctx: CheckContext, site: RunSite, code: keyof typeof M, cmd?: ShellCommand, fixable?: boolean): void {
  const f: Parameters<CheckContext['report']>[0] = { code, instr: site.instr, message: M[code] };
  if (cmd) f.offset = commandOffset(site, cmd);
  if (fixable !== undefined) f.fixable = fixable;
  ctx.report(f);
}

/** Reports one finding per RUN for the first command matching `pred` (hadolint reports once per instruction). */
function firstMatch(ctx: CheckContext, site: RunSite, code: keyof typeof M, pred: (c: ShellCommand) => boolean, fixable?: boolean): void {
  const c = site.commands.find(pred);
  if (c) report(ctx, site, code, c, fixable);
}

function aptInstall(c: ShellCommand): boolean {
  return cmdHasArgs(c, 'apt-get', ['install']);
}

/** Packages named by `apt-get install` (hadolint DL3008 `aptGetPackages`). */
export function aptPackages(c: ShellCommand): string[] {
  return argsNoFlags(c, ['t', 'target-release', 'o', 'c']).filter((a) => a !== 'install');
}

function pipPackages(c: ShellCommand): string[] {
  const a = argsNoFlags(c, PIP_VALUE_FLAGS);
  const i = a.indexOf('install');
  if (i < 0) return [];
  let k = i;
  while (k < a.length && a[k] === 'install') k++;
  return a.slice(k);
}

function pipVersionFixed(p: string): boolean {
  const isVcs = VCS.some((v) => p.startsWith(v));
  return (
    ['==', '>=', '<=', '>', '<', '!=', '~=', '==='].some((s) => p.includes(s)) ||
    (isVcs && p.includes('@')) ||
    ['.whl', '.tar.gz'].some((s) => p.endsWith(s)) ||
    (!isVcs && p.includes('/'))
  );
}

function npmVersionFixed(p: string): boolean {
  if (['git://', 'git+ssh://', 'git+http://', 'git+https://'].some((x) => p.startsWith(x))) return p.includes('#');
  if (['.tar', '.tar.gz', '.tgz'].some((x) => p.endsWith(x))) return true;
  if (['/', './', '../', '~/'].some((x) => p.startsWith(x))) return true;
  const unscoped = p.startsWith('@') ? p.slice(p.indexOf('/') + 1) : p;
  return unscoped.includes('@');
}

function dnfVersionFixed(p: string): boolean {
  const parts = p.split('-');
  if (parts.length <= 1) return false;
  if (p.endsWith('.rpm')) return true;
  const rest = parts.slice(1);
  return rest.every((x) => /^[0-9A-Za-z.~^_:+]*$/.test(x)) && rest.some((x) => /^[0-9]/.test(x));
}

function isArchive(path: string): boolean {
  const p = dropQuotes(path);
  return ARCHIVE_EXT.some((e) => p.endsWith(e));
}

function basename(p: string): string {
  const s = dropQuotes(p);
  return s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) + 1);
}

/** Rules that look at one RUN at a time. */
function perRun(ctx: CheckContext, site: RunSite): void {
  const cmds = site.commands;
  const info = site.info;
  const fixableText = !info.exec && !site.inOnbuild;

  firstMatch(ctx, site, 'DL3001', (c) => DL3001_CMDS.has(c.name));
  firstMatch(ctx, site, 'DL3003', (c) => c.name === 'cd');
  firstMatch(ctx, site, 'DL3004', (c) => c.name === 'sudo');
  firstMatch(ctx, site, 'DL3008', (c) => aptInstall(c) && !aptPackages(c).every((p) => p.includes('=') || p.includes('/') || p.endsWith('.deb')));
  firstMatch(ctx, site, 'DL3014', (c) => aptInstall(c) && !hasAnyFlag(c, ['y', 'yes', 'q', 'assume-yes']), fixableText);
  firstMatch(ctx, site, 'DL3015', (c) => aptInstall(c) && !(hasFlag(c, 'no-install-recommends') || hasArg(c, 'APT::Install-Recommends=false')), fixableText);
  firstMatch(ctx, site, 'DL3027', (c) => c.name === 'apt');

  // DL3013: pip pinning.
  firstMatch(ctx, site, 'DL3013', (c) => {
    if (!isPipInstall(c)) return false;
    if (hasFlag(c, 'constraint') || hasFlag(c, 'c')) return false;
    const args = c.argv.slice(1);
    if (containsRun(args, ['--requirement']) || containsRun(args, ['-r']) || containsRun(args, ['.'])) return false;
    if (args.some((a) => a.startsWith('--requirement=') || (a.startsWith('-r') && a.length > 2))) return false;
    return !pipPackages(c).every(pipVersionFixed);
  });

  // DL3016: npm pinning.
  firstMatch(ctx, site, 'DL3016', (c) => {
    if (!cmdHasArgs(c, 'npm', ['install'])) return false;
    const a = argsNoFlags(c);
    if (a[0] !== 'install') return false;
    let k = 0;
    while (k < a.length && a[k] === 'install') k++;
    return !a.slice(k).every(npmVersionFixed);
  });

  // DL3018 / DL3019: apk.
  firstMatch(ctx, site, 'DL3018', (c) => cmdHasArgs(c, 'apk', ['add']) && !argsNoFlags(c, ['t', 'virtual', 'repository', 'X']).filter((a) => a !== 'add').every((p) => p.includes('=') || p.includes('~') || p.endsWith('.apk')));
  if (!hasCacheMount(info, '/var/cache/apk')) firstMatch(ctx, site, 'DL3019', (c) => cmdHasArgs(c, 'apk', ['add']) && !hasFlag(c, 'no-cache'));

  // DL3028: gem pinning.
  firstMatch(ctx, site, 'DL3028', (c) => {
    if (!cmdHasArgs(c, 'gem', ['install', 'i'])) return false;
    if (cmdHasArgs(c, 'gem', ['-v', '--version']) || cmdHasPrefixArg(c, 'gem', '--version=')) return false;
    return !argsNoFlags(c).filter((a) => a !== 'install' && a !== 'i' && a !== '--').every((p) => p.includes(':'));
  });

  // yum.
  firstMatch(ctx, site, 'DL3030', (c) => cmdHasArgs(c, 'yum', ['install', 'groupinstall', 'localinstall']) && !hasAnyFlag(c, ['y', 'assumeyes']));
  const yumInstall = cmds.some((c) => cmdHasArgs(c, 'yum', ['install']));
  if (yumInstall && !hasCacheMount(info, '/var/cache/yum') && !cmds.some((c) => (c.name === 'yum' && containsRun(c.argv.slice(1), ['clean', 'all'])) || (c.name === 'rm' && c.argv.some((a) => a.startsWith('/var/cache/yum'))))) {
    report(ctx, site, 'DL3032', cmds.find((c) => cmdHasArgs(c, 'yum', ['install'])));
  }
  firstMatch(ctx, site, 'DL3033', (c) => {
    if (!cmdHasArgs(c, 'yum', ['install'])) return false;
    const pk = argsNoFlags(c).filter((a) => a !== 'install' && a !== 'module');
    return cmdHasArgs(c, 'yum', ['module']) ? !pk.every((p) => p.includes(':')) : !pk.every((p) => p.includes('-') || p.endsWith('.rpm'));
  });

  // zypper.
  firstMatch(ctx, site, 'DL3034', (c) => cmdHasArgs(c, 'zypper', ['install', 'in', 'remove', 'rm', 'source-install', 'si', 'patch']) && !hasAnyFlag(c, ['no-confirm', 'y']));
  firstMatch(ctx, site, 'DL3035', (c) => cmdHasArgs(c, 'zypper', ['dist-upgrade', 'dup']));
  if (!hasCacheMount(info, '/var/cache/zypp')) {
    const inst = cmds.findIndex((c) => cmdHasArgs(c, 'zypper', ['install', 'in']));
    if (inst >= 0) {
      const clean = cmds.findIndex((c) => cmdHasArgs(c, 'zypper', ['clean', 'cc']));
      if (!(clean > inst)) report(ctx, site, 'DL3036', cmds[inst]);
    }
  }
  firstMatch(ctx, site, 'DL3037', (c) => cmdHasArgs(c, 'zypper', ['install', 'in']) && !argsNoFlags(c).filter((a) => a !== 'install' && a !== 'in').every((p) => /[=<>]/.test(p) || p.endsWith('.rpm')));

  // dnf / microdnf.
  const dnf = ['dnf', 'microdnf'];
  firstMatch(ctx, site, 'DL3038', (c) => cmdHasArgs(c, dnf, ['install', 'groupinstall', 'localinstall']) && !hasAnyFlag(c, ['y', 'assumeyes']));
  if (!hasCacheMount(info, '/var/cache/libdnf5') && !hasCacheMount(info, '.cache/libdnf5') && !hasCacheMount(info, '/var/cache/dnf')) {
    for (const name of dnf) {
      const inst = cmds.findIndex((c) => cmdHasArgs(c, name, ['install']));
      if (inst < 0) continue;
      const clean = cmds.findIndex((c) => (c.name === name && containsRun(c.argv.slice(1), ['clean', 'all'])) || (c.name === 'rm' && hasArg(c, '/var/cache/yum/*')));
      if (!(clean > inst)) {
        report(ctx, site, 'DL3040', cmds[inst]);
        break;
      }
    }
  }
  firstMatch(ctx, site, 'DL3041', (c) => {
    if (!cmdHasArgs(c, dnf, ['install'])) return false;
    const pk = argsNoFlags(c).filter((a) => a !== 'install' && a !== 'module');
    if (cmdHasArgs(c, dnf, ['module'])) return !pk.every((p) => p.includes(':'));
    if (cmdHasArgs(c, dnf, ['group'])) return false;
    return !pk.every(dnfVersionFixed);
  });

  // DL3046: useradd with a long UID and no -l.
  firstMatch(ctx, site, 'DL3046', (c) => c.name === 'useradd' && !hasAnyFlag(c, ['l', 'no-log-init']) && hasAnyFlag(c, ['u', 'uid']) && [...flagArgs(c, 'u'), ...flagArgs(c, 'uid')].some((u) => u.length > 5));

  // DL3047: wget without progress.
  firstMatch(ctx, site, 'DL3047', (c) => c.name === 'wget' && !hasFlag(c, 'progress') && !hasAnyFlag(c, ['q', 'quiet', 'o', 'output-file', 'a', 'append-output', 'no-verbose']) && !hasArg(c, '-nv'));

  // DL3060: yarn cache clean.
  if (!hasCacheMount(info, '.cache/yarn') && cmds.some((c) => cmdHasArgs(c, 'yarn', ['install'])) && !cmds.some((c) => c.name === 'yarn' && containsRun(c.argv.slice(1), ['cache', 'clean']))) {
    report(ctx, site, 'DL3060', cmds.find((c) => cmdHasArgs(c, 'yarn', ['install'])));
  }

  // DL3062: go install without @version (`go install` of the current module is not flagged).
  firstMatch(ctx, site, 'DL3062', (c) => {
    if (c.name !== 'go' || c.argv[1] !== 'install') return false;
    const pk = argsNoFlags(c).slice(1);
    return pk.some((p) => !p.includes('@') && !p.startsWith('.') && !p.startsWith('/'));
  });

  // DL4005: ln -s ... /bin/sh.
  firstMatch(ctx, site, 'DL4005', (c) => cmdHasArgs(c, 'ln', ['/bin/sh']));
}

/** Whether a SHELL instruction sets pipefail (or is not a POSIX shell), for DL4006. */
function shellSetsPipefail(instr: Instr): boolean {
  const arr = instr.json;
  if (!arr || arr.length === 0) return false;
  const exe = arr[0]!.toLowerCase();
  const base = exe.slice(Math.max(exe.lastIndexOf('/'), exe.lastIndexOf('\\')) + 1);
  if (['pwsh', 'powershell', 'cmd'].some((s) => base.startsWith(s))) return true;
  if (!['bash', 'zsh', 'ash'].includes(base)) return false;
  for (let i = 1; i < arr.length; i++) {
    const a = arr[i]!;
    if (a === 'pipefail' && i > 0 && /^-[a-z]*o$/.test(arr[i - 1]!)) return true;
  }
  return false;
}

/** `set -o pipefail` (or `set -euo pipefail`) run before the first pipe of the script. */
function inlinePipefail(cmds: ShellCommand[]): boolean {
  return cmds.some((c) => c.name === 'set' && c.argv.includes('pipefail') && c.argv.some((a) => /^-[a-z]*o[a-z]*$/.test(a)));
}

/** Rules that carry state across instructions. */
function stateful(ctx: CheckContext, sites: RunSite[]): void {
  const { model } = ctx;
  const siteByInstr = new Map<number, RunSite>();
  const onbuildSite = new Map<Instr, RunSite>();
  for (const s of sites) {
    if (!s.inOnbuild) siteByInstr.set(s.instr.index, s);
    else onbuildSite.set(s.instr, s);
  }

  // DL3009: per stage, reported when the stage is the last one or a later stage builds FROM it.
  const usedAsBase = new Set<number>();
  for (const st of model.stages) if (st.parent !== undefined) usedAsBase.add(st.parent);
  const lastStage = model.stages.length - 1;
  for (const s of sites) {
    if (!s.commands.some((c) => cmdHasArgs(c, 'apt-get', ['update']))) continue;
    if (s.commands.some((c) => c.name === 'rm' && c.argv.some((a) => a === '-rf' || a === '-fr' || a === '-r') && c.argv.some((a) => a.startsWith('/var/lib/apt/lists')))) continue;
    if (hasCacheMount(s.info, '/var/lib/apt/lists') || (hasCacheMount(s.info, '/var/lib/apt') && hasCacheMount(s.info, '/var/cache/apt'))) continue;
    if (!s.inOnbuild && s.stage >= 0 && s.stage !== lastStage && !usedAsBase.has(s.stage)) continue;
    const c = s.commands.find((x) => cmdHasArgs(x, 'apt-get', ['update']));
    report(ctx, s, 'DL3009', c, !s.info.exec && !s.inOnbuild);
  }

  // DL3042: pip cache, with PIP_NO_CACHE_DIR from ENV (per stage, inherited by child stages).
  const noCacheByStage: boolean[] = [];
  let noCacheTop = false;
  for (const instr of model.instrs) {
    if (instr.keyword === 'FROM') {
      const st = model.stages[instr.stage]!;
      noCacheByStage[instr.stage] = st.parent !== undefined ? noCacheByStage[st.parent] ?? false : false;
      continue;
    }
    if (instr.keyword === 'ENV') {
      const p = instr.props.find((x) => x.name === 'PIP_NO_CACHE_DIR');
      if (p) {
        const v = p.value === null ? false : TRUTHY.has(p.value);
        if (instr.stage >= 0) noCacheByStage[instr.stage] = v;
        else noCacheTop = v;
      }
      continue;
    }
    const s = siteByInstr.get(instr.index) ?? onbuildSite.get(instr);
    if (s) {
      const bad = s.commands.find((c) => isPipInstall(c) && !c.argv.includes('--no-cache-dir') && !(c.name.includes('pipx') || c.name.includes('pipenv') || (c.name.startsWith('python') && (containsRun(c.argv.slice(1), ['-m', 'pipx']) || containsRun(c.argv.slice(1), ['-m', 'pipenv'])))));
      const exempt =
        (instr.stage >= 0 ? noCacheByStage[instr.stage] : noCacheTop) ||
        /PIP_NO_CACHE_DIR=(['"]?)(1|true|True|TRUE|on|On|ON|yes|Yes|YES)\1/.test(s.info.script) ||
        hasCacheMount(s.info, '.cache/pip');
      if (bad && !exempt) report(ctx, s, 'DL3042', bad, !s.info.exec && !s.inOnbuild);
    }
  }

  // DL4001 (wget and curl in one stage), DL4006 (pipefail), DL3059 (consecutive RUNs), DL3010 (archives).
  let tools = new Set<string>();
  let pipefail = false;
  let prev: { flags: string; count: number; site: RunSite } | undefined;
  let archives: Array<{ name: string; instr: Instr }> = [];
  const extracted = new Set<Instr>();
  for (const instr of model.instrs) {
    if (instr.keyword === 'FROM') {
      tools = new Set();
      pipefail = false;
      prev = undefined;
      archives = [];
      continue;
    }
    if (instr.keyword === 'SHELL') {
      pipefail = shellSetsPipefail(instr);
    }
    if (instr.keyword === 'COPY' && !instr.flags.some((f) => f.name === 'from')) {
      const words = instr.json ?? instr.args;
      if (words.length >= 2 && instr.heredocs.length === 0) {
        const target = words[words.length - 1]!;
        if (isArchive(target)) archives.push({ name: basename(target), instr });
        else for (const src of words.slice(0, -1)) if (isArchive(src)) archives.push({ name: basename(src), instr });
      }
    }
    const site = siteByInstr.get(instr.index);
    if (instr.keyword !== 'RUN') {
      if (instr.keyword !== 'RUN') prev = undefined;
      // ONBUILD RUN triggers still count for DL4001.
      const trig = onbuildSite.get(instr);
      if (trig) wgetCurl(ctx, trig, tools);
      continue;
    }
    if (!site) {
      prev = undefined;
      continue;
    }
    wgetCurl(ctx, site, tools);
    if (site.info.shell?.hasPipe && !pipefail && !inlinePipefail(site.commands)) {
      report(ctx, site, 'DL4006');
    }
    const flagKey = instr.flags.map((f) => `${f.name}=${f.value ?? ''}`).sort().join(' ');
    const count = plain(site).length;
    if (prev && prev.flags === flagKey && count <= 2 && prev.count <= 2) {
      report(ctx, site, 'DL3059', undefined, mergeable(prev.site, site));
    }
    prev = { flags: flagKey, count, site };
    for (const a of archives) {
      if (site.commands.some((c) => (isTarExtract(c) || UNZIP.has(c.name)) && argsNoFlags(c).map(basename).includes(a.name))) extracted.add(a.instr);
    }
  }
  for (const instr of extracted) ctx.report({ code: 'DL3010', instr, message: M.DL3010 });
}

const UNZIP = new Set(['unzip', 'gunzip', 'bunzip2', 'unlzma', 'unxz', 'zgz', 'uncompress', 'zcat', 'gzcat']);

function isTarExtract(c: ShellCommand): boolean {
  if (c.name !== 'tar') return false;
  return c.argv.slice(1).some((a) => a === '--extract' || a === '--get' || (a.startsWith('-') && !a.startsWith('--') && a.includes('x')) || (c.argv[1] === a && /^[a-zA-Z]*x[a-zA-Z]*$/.test(a)));
}

function wgetCurl(ctx: CheckContext, site: RunSite, tools: Set<string>): void {
  const here = new Set(plain(site).filter((c) => c.name === 'curl' || c.name === 'wget').map((c) => c.name));
  if (here.size === 0) return;
  for (const t of here) tools.add(t);
  if (tools.size >= 2) {
    const c = site.commands.find((x) => x.name === 'curl' || x.name === 'wget');
    report(ctx, site, 'DL4001', c);
  }
}

/** Runs every shell-aware DL rule. */
export function checkRunRules(ctx: CheckContext): void {
  const sites = runSites(ctx.model);
  for (const s of sites) perRun(ctx, s);
  stateful(ctx, sites);
}

