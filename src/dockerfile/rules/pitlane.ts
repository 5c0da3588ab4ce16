/**
 * Pitlane's own rules (PL1xxx) for practices hadolint does not check: the course's "lean,
 * cache-friendly image" lessons (peers.md sections 3.2 and 6). Where a PL rule overlaps a DL
 * rule, it only reports what the DL rule misses, so one problem is never reported twice.
 */
import type { Instr, Stage } from '../model.js';
import { substituteArgs } from '../model.js';
import type { ShellCommand } from '../shell.js';
import { dropQuotes, parseImageRef } from '../text.js';
import { argsNoFlags, cmdHasArgs } from './commands.js';
import { commandOffset, mergeable, runSites, type CheckContext, type RunSite } from './context.js';
import { copyParts, isSensitiveName } from './instructions.js';

// ---------------------------------------------------------------- helpers

const PM_UPDATE: Array<[string, string[]]> = [
  ['apt-get', ['update']],
  ['apt', ['update']],
  ['apk', ['update']],
  ['yum', ['makecache']],
  ['dnf', ['makecache']],
  ['zypper', ['refresh', 'ref']],
];
const PM_INSTALL: Array<[string, string[]]> = [
  ['apt-get', ['install']],
  ['apt', ['install']],
  ['apk', ['add']],
  ['yum', ['install']],
  ['dnf', ['install']],
  ['microdnf', ['install']],
  ['zypper', ['install', 'in']],
];

function pmOf(c: ShellCommand, table: Array<[string, string[]]>): string | undefined {
  for (const [name, verbs] of table) if (c.name === name && c.argv.slice(1).some((a) => verbs.includes(a))) return name === 'apt' ? 'apt-get' : name;
  return undefined;
}

const CLEAN_ONLY = (c: ShellCommand): boolean =>
  c.name === 'rm' ||
  cmdHasArgs(c, ['apt-get', 'apt', 'yum', 'dnf', 'microdnf', 'zypper'], ['clean', 'autoclean', 'cc']) ||
  (c.name === 'apk' && c.argv.includes('cache')) ||
  (['npm', 'yarn', 'pnpm'].includes(c.name) && c.argv.includes('cache')) ||
  (c.name.startsWith('pip') && c.argv.includes('cache')) ||
  cmdHasArgs(c, ['apt-get', 'apt'], ['autoremove']) ||
  c.name === 'true';

function isUpgrade(c: ShellCommand): boolean {
  const a = c.argv.slice(1);
  switch (c.name) {
    case 'apt-get':
    case 'apt':
    case 'aptitude':
      return a.some((x) => ['upgrade', 'dist-upgrade', 'full-upgrade', 'safe-upgrade'].includes(x));
    case 'apk':
      return a.includes('upgrade');
    case 'yum':
    case 'dnf':
    case 'microdnf':
      return a.some((x) => ['update', 'upgrade', 'distro-sync', 'upgrade-minimal'].includes(x));
    case 'zypper':
      return a.some((x) => ['update', 'up', 'patch'].includes(x));
    default:
      return false;
  }
}

/** Sources that are the whole build context. */
function copiesWholeContext(instr: Instr): boolean {
  if (instr.keyword !== 'COPY' && instr.keyword !== 'ADD') return false;
  if (instr.flags.some((f) => f.name === 'from')) return false;
  const parts = copyParts(instr);
  if (!parts) return false;
  return parts.sources.some((s) => ['.', './', '*', './*', '.*'].includes(dropQuotes(s)));
}

/** Installs dependencies from manifest files of the context (what a lockfile-first COPY would cache). */
function installsDependencies(c: ShellCommand): boolean {
  const a = c.argv.slice(1);
  const n = c.name;
  if (n.startsWith('pip') || (n.startsWith('python') && a.includes('pip'))) {
    return a.includes('install') && (a.some((x) => x === '-r' || x.startsWith('--requirement') || (x.startsWith('-r') && x.length > 2)) || a.includes('.') || a.includes('-e'));
  }
  switch (n) {
    case 'npm':
      return a[0] === 'ci' || ((a[0] === 'install' || a[0] === 'i') && argsNoFlags(c).length <= 1);
    case 'yarn':
    case 'pnpm':
      return a.length === 0 || a[0] === 'install' || (a[0]?.startsWith('-') ?? false);
    case 'poetry':
    case 'pipenv':
    case 'bundle':
    case 'composer':
      return a.includes('install') || a.includes('sync');
    case 'uv':
      return a.includes('sync') || (a.includes('pip') && a.includes('install'));
    case 'go':
      return a[0] === 'mod' && a[1] === 'download';
    case 'cargo':
      return a[0] === 'fetch' || a[0] === 'build';
    case 'mvn':
    case 'gradle':
    case './gradlew':
    case 'gradlew':
      return true;
    case 'dotnet':
      return a[0] === 'restore';
    default:
      return false;
  }
}

const BUILD_TOOL = /^(gcc(-\d+)?|g\+\+(-\d+)?|gcc-c\+\+|cc|c\+\+|clang(-\d+)?|llvm(-\d+)?|make|cmake|build-essential|build-base|autoconf|automake|libtool|pkg-config|pkgconf|golang(-go)?|go|rustc|cargo|gfortran|nasm|yasm|ninja-build|ninja|meson|bison|flex|maven|gradle|openjdk-\d+-jdk(-headless)?|default-jdk|musl-dev|linux-headers|.+-dev|.+-devel)$/;

function stripVersion(p: string): string {
  return p.replace(/[=<>~].*$/, '');
}

// ---------------------------------------------------------------- variables (PL1010)

/** `$NAME` / `${NAME}` references the Dockerfile itself expands (outside single quotes, not escaped, no `:-`/`:+` default). */
export function referencedVariables(text: string, escape: string): string[] {
  const out: string[] = [];
  let single = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape) {
      i++;
      continue;
    }
    if (c === "'") {
      single = !single;
      continue;
    }
    if (single || c !== '$') continue;
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i, i + 200));
    if (!m) continue;
    if (m[1] !== undefined) {
      if (m[2] === '') out.push(m[1]);
    } else out.push(m[3]!);
    i += m[0].length - 1;
  }
  return out;
}

const PLATFORM_ARGS = ['BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT', 'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE', 'BUILDKIT_SBOM_SCAN_STAGE'];
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
/** Variables commonly set by base images (their ENV is not visible to a static linter). */
const BASE_IMAGE_ENV = [
  'PATH', 'HOME', 'HOSTNAME', 'LANG', 'LC_ALL', 'TERM', 'USER', 'SHELL', 'JAVA_HOME', 'JAVA_VERSION', 'GOPATH', 'GOROOT', 'GOLANG_VERSION',
  'PYTHON_VERSION', 'PYTHON_SHA256', 'PYTHON_PIP_VERSION', 'NODE_VERSION', 'YARN_VERSION', 'RUBY_VERSION', 'RUBY_MAJOR', 'GEM_HOME',
  'BUNDLE_PATH', 'BUNDLE_APP_CONFIG', 'CARGO_HOME', 'RUSTUP_HOME', 'RUST_VERSION', 'NGINX_VERSION', 'PHP_VERSION', 'PHP_INI_DIR',
  'MAVEN_HOME', 'MAVEN_CONFIG', 'GRADLE_HOME', 'DOTNET_VERSION', 'ASPNET_VERSION', 'PGDATA', 'PG_MAJOR', 'CATALINA_HOME', 'APP_ROOT',
];
const EXPANDING = new Set(['ADD', 'COPY', 'ENV', 'EXPOSE', 'FROM', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

// ---------------------------------------------------------------- secrets (PL1005)

const SECRET_TOKENS = new Set(['PASSWD', 'PASSPHRASE', 'CREDENTIALS', 'CREDENTIAL', 'CREDS', 'APIKEY', 'JWT', 'BEARER', 'PRIVKEY', 'SECRETKEY']);
const KEY_PREFIXES = new Set(['ACCESS', 'SIGNING', 'ENCRYPTION', 'MASTER', 'SESSION', 'AUTH', 'LICENSE', 'SSH', 'DEPLOY', 'ADMIN', 'ROOT']);
const NOT_SECRET = /(GPG|PGP|PUBLIC|PUBKEY|FINGERPRINT|KEYRING|KEYSERVER|AUTHOR|_KEY_ID$|_KEY_URL$|_KEY_PATH$|_KEY_FILE$|_FILE$|_PATH$|_DIR$|_URL$)/i;
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/^AKIA[0-9A-Z]{16}$/, 'an AWS access key id'],
  [/^(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})$/, 'a GitHub token'],
  [/^xox[abprs]-[A-Za-z0-9-]{10,}$/, 'a Slack token'],
  [/^(sk|rk)_(live|test)_[A-Za-z0-9]{16,}$/, 'a Stripe key'],
  [/^sk-[A-Za-z0-9_-]{20,}$/, 'an API secret key'],
  [/^glpat-[A-Za-z0-9_-]{20,}$/, 'a GitLab token'],
  [/^npm_[A-Za-z0-9]{36}$/, 'an npm token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+$/, 'a JSON Web Token'],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@$]+:[^/\s@$]+@/i, 'a URL with an embedded password'],
];

/** Why a name looks secret to PL1005 (and not to DL3064), or undefined. */
export function secretLookingName(name: string): boolean {
  if (isSensitiveName(name) || NOT_SECRET.test(name)) return false;
  const tokens = name.toUpperCase().split(/[_\-.]+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (SECRET_TOKENS.has(t)) return true;
    if ((t === 'PASS' || t === 'PAT' || t === 'PWD') && tokens.length > 1 && i === tokens.length - 1) return true;
    if (t === 'KEY' && i > 0 && KEY_PREFIXES.has(tokens[i - 1]!)) return true;
    if (t === 'KEY' && tokens.length === 2 && i === 1 && /^(APP|DJANGO|RAILS|FLASK|JWT|HMAC|CIPHER|CRYPT|LICENCE)$/.test(tokens[0]!)) return true;
  }
  return false;
}

/** What a value looks like when it looks like a credential. */
export function secretLookingValue(value: string): string | undefined {
  if (value.includes('$')) return undefined;
  for (const [re, what] of SECRET_VALUES) if (re.test(value)) return what;
  return undefined;
}

// ---------------------------------------------------------------- the rules

/** Runs every PL1xxx rule. */
export function checkPitlaneRules(ctx: CheckContext): void {
  const { model, options } = ctx;
  const r = (code: string, instr: Instr, message: string, offset?: number, fixable?: boolean): void => {
    const f: Parameters<CheckContext['report']>[0] = { code, instr, message };
    if (offset !== undefined) f.offset = offset;
    if (fixable !== undefined) f.fixable = fixable;
    ctx.report(f);
  };
  const sites = runSites(model);
  const siteOf = new Map<Instr, RunSite>();
  for (const s of sites) if (!s.inOnbuild) siteOf.set(s.run, s);

  for (const instr of model.instrs) {
    const t = instr.trigger ?? instr;
    // PL1001: DEBIAN_FRONTEND via ENV.
    if (t.keyword === 'ENV' && t.props.some((p) => p.name === 'DEBIAN_FRONTEND')) {
      r('PL1001', instr, '`DEBIAN_FRONTEND` set with `ENV` persists into the image, its containers and child images; set it with `ARG DEBIAN_FRONTEND=noninteractive` (build time only)', undefined, t === instr);
    }
    // PL1005: secret-looking ENV/ARG not covered by DL3064.
    if (t.keyword === 'ENV' || t.keyword === 'ARG') {
      for (const p of t.props) {
        if (isSensitiveName(p.name)) continue;
        const what = p.value ? secretLookingValue(p.value) : undefined;
        if (secretLookingName(p.name) || what) {
          const why = what ? `its value looks like ${what}` : 'its name looks like a secret';
          r('PL1005', instr, `\`${t.keyword} ${p.name}\`: ${why}; ${t.keyword} values stay in the image history, use a build secret (\`RUN --mount=type=secret\`) instead`);
          break;
        }
      }
    }
    // PL1008: port 22.
    if (t.keyword === 'EXPOSE') {
      for (const a of t.args) {
        const [lo, hi] = a.split('/')[0]!.split('-').map(Number);
        if (lo !== undefined && (lo === 22 || (hi !== undefined && lo <= 22 && hi >= 22))) {
          r('PL1008', instr, 'Port 22 (SSH) is exposed: running an SSH server in a container widens the attack surface; use `docker exec` to get a shell');
          break;
        }
      }
    }
    // PL1009: whole context copied without .dockerignore.
    if (options.hasDockerignore === false && copiesWholeContext(t)) {
      r('PL1009', instr, `\`${t.keyword} .\` copies the whole build context but there is no \`.dockerignore\`: .git, local secrets and build output end up in the image and bust the cache`);
    }
    // PL1007: ADD that behaves like COPY and is not reported by DL3020.
    if (t.keyword === 'ADD') {
      if (t.heredocs.length > 0) r('PL1007', instr, 'ADD with a here-document behaves exactly like COPY; use COPY');
      else {
        const parts = copyParts(t);
        if (parts) {
          const srcs = parts.sources.map(dropQuotes);
          const remote = (s: string): boolean => /^(https?|git):\/\//.test(s) || s.startsWith('git@');
          const hadolintArchive = (s: string): boolean => /\.(tar|Z|bz2|gz|lz|lzma|tZ|tb2|tbz|tbz2|tgz|tlz|tpz|txz|xz)$/.test(s);
          const dl3020 = !srcs.every((s) => hadolintArchive(s) || /^https?:\/\//.test(s));
          const extractable = (s: string): boolean => /\.(tar|tgz|tbz2?|tb2|txz|tar\.(gz|bz2|xz))$/i.test(s);
          const plainLocal = srcs.filter((s) => !remote(s) && !extractable(s));
          if (!dl3020 && plainLocal.length > 0) {
            r('PL1007', instr, `ADD does not extract ${plainLocal.map((s) => `\`${s}\``).join(', ')} (not a tar archive), so it copies it like COPY would; use COPY`);
          }
        }
      }
    }
    // PL1006: package upgrades.
    const site = siteOf.get(t);
    if (site) {
      const up = site.commands.find(isUpgrade);
      if (up && !(up.name === 'zypper' && up.argv.some((a) => a === 'dist-upgrade' || a === 'dup'))) {
        r('PL1006', instr, `\`${up.argv.slice(0, 3).join(' ')}\` upgrades packages inside the image: the layer is unpinned and differs on every rebuild; use a newer base image (or pin the packages you need)`, commandOffset(site, up));
      }
    }
  }

  checkConsecutiveRuns(ctx, sites);
  checkContextOrder(ctx);
  checkUser(ctx);
  checkVariables(ctx);
  checkImageTags(ctx);
  checkBuildTools(ctx, sites);
}

/** PL1002: RUNs that belong in one layer. */
function checkConsecutiveRuns(ctx: CheckContext, sites: RunSite[]): void {
  const { model } = ctx;
  const byRun = new Map<Instr, RunSite>();
  for (const s of sites) if (!s.inOnbuild) byRun.set(s.run, s);
  for (let i = 0; i + 1 < model.instrs.length; i++) {
    const ia = model.instrs[i]!;
    const ib = model.instrs[i + 1]!;
    if (ia.keyword !== 'RUN' || ib.keyword !== 'RUN' || ia.stage !== ib.stage) continue;
    const a = byRun.get(ia);
    const b = byRun.get(ib);
    if (!a || !b) continue;
    const key = (x: Instr): string => x.flags.map((f) => `${f.name}=${f.value ?? ''}`).sort().join(' ');
    if (key(ia) !== key(ib)) continue;
    const fix = mergeable(a, b);
    // (a) an index update whose install is in another layer.
    const lastUpdate = [...a.commands].reverse().find((c) => pmOf(c, PM_UPDATE));
    if (lastUpdate) {
      const pm = pmOf(lastUpdate, PM_UPDATE);
      const laterInstall = a.commands.some((c) => c.index > lastUpdate.index && pmOf(c, PM_INSTALL) === pm);
      if (!laterInstall) {
        r(ctx, ia, `\`${lastUpdate.argv.slice(0, 2).join(' ')}\` runs in its own layer: the cached index goes stale and later installs fail or install old versions; update and install in the same RUN`, fix);
        continue;
      }
    }
    // (b) a RUN that only cleans up what an earlier layer created.
    const bc = b.commands.filter((c) => c.wrapper === undefined);
    if (bc.length > 0 && bc.every(CLEAN_ONLY)) {
      r(ctx, ib, 'This RUN only deletes files created by an earlier layer: the files stay in that layer and the image does not shrink; clean up in the RUN that created them', fix);
      continue;
    }
    // (c) installs with the same package manager split over layers.
    const pmsA = new Set(a.commands.map((c) => pmOf(c, PM_INSTALL)).filter(Boolean));
    const pmB = b.commands.map((c) => pmOf(c, PM_INSTALL)).find((p) => p && pmsA.has(p));
    if (pmB) {
      r(ctx, ib, `Packages are installed with \`${pmB}\` in consecutive RUNs: each layer keeps its own index and cache; install them in one RUN`, fix);
    }
  }
  function r(c: CheckContext, instr: Instr, message: string, fixable: boolean): void {
    c.report({ code: 'PL1002', instr, message, fixable });
  }
}

/** PL1003: `COPY .` before the dependency install of the same stage. */
function checkContextOrder(ctx: CheckContext): void {
  for (const st of ctx.model.stages) {
    let installedBefore = false;
    let wholeCopy: Instr | undefined;
    for (const instr of st.instrs) {
      if (copiesWholeContext(instr)) {
        if (!installedBefore && wholeCopy === undefined) wholeCopy = instr;
        continue;
      }
      if (instr.keyword !== 'RUN' || !instr.run?.shell) continue;
      const dep = instr.run.shell.commands.find(installsDependencies);
      if (!dep) continue;
      if (wholeCopy) {
        ctx.report({
          code: 'PL1003',
          instr: wholeCopy,
          message: `The whole context is copied before \`${dep.argv.slice(0, 3).join(' ')}\` (line ${instr.line}): any source change re-runs the dependency install; copy the dependency manifests (lockfile, requirements.txt, package.json...) first, install, then copy the rest`,
        });
        wholeCopy = undefined;
        installedBefore = true;
      } else installedBefore = true;
    }
  }
}

/** PL1004: no USER in the final stage (nor in the stages it is built FROM). */
function checkUser(ctx: CheckContext): void {
  const stages = ctx.model.stages;
  if (stages.length === 0) return;
  let st: Stage | undefined = stages[stages.length - 1]!;
  const final = st;
  while (st) {
    if (st.instrs.some((i) => i.keyword === 'USER')) return;
    st = st.parent !== undefined ? stages[st.parent] : undefined;
  }
  if (final.image?.name === 'scratch' && !final.instrs.some((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')) return;
  ctx.report({ code: 'PL1004', instr: final.from, message: 'The final stage sets no USER, so the container runs as root; add a non-root `USER` (numeric UID) after installing packages' });
}

/** PL1010: variables used but never defined. */
function checkVariables(ctx: CheckContext): void {
  const { model } = ctx;
  const globalNames = new Set<string>(PLATFORM_ARGS);
  const stageScope: Array<Set<string>> = [];
  let scope = new Set<string>();
  for (const instr of model.instrs) {
    if (instr.keyword === 'FROM') {
      const st = model.stages[instr.stage]!;
      scope = new Set<string>([...PROXY_ARGS, ...BASE_IMAGE_ENV]);
      if (st.parent !== undefined) for (const n of stageScope[st.parent] ?? []) scope.add(n);
      stageScope[instr.stage] = scope;
    }
    if (EXPANDING.has(instr.keyword) && instr.heredocs.length === 0 && !(instr.json && instr.keyword !== 'FROM')) {
      const text = instr.keyword === 'FROM' ? instr.args[0] ?? '' : instr.argsText;
      const sameEnv = new Set(instr.keyword === 'ENV' ? instr.props.map((p) => p.name) : []);
      const visible = instr.keyword === 'FROM' || instr.stage < 0 ? globalNames : scope;
      const flagsText = instr.flags.filter((f) => f.name === 'from' || f.name === 'chown' || f.name === 'platform').map((f) => f.value ?? '').join(' ');
      const missing = [...referencedVariables(`${flagsText} ${text}`, model.escape)].filter((n) => !visible.has(n) && !sameEnv.has(n));
      if (missing.length > 0) {
        const uniq = [...new Set(missing)];
        const where = instr.keyword === 'FROM' ? 'before the first FROM (global ARGs are the only variables FROM can use)' : 'in this stage';
        ctx.report({ code: 'PL1010', instr, message: `${uniq.map((n) => `\`$${n}\``).join(', ')} ${uniq.length > 1 ? 'are' : 'is'} used but not defined by ARG or ENV ${where}; it expands to an empty string` });
      }
    }
    if (instr.keyword === 'ARG') for (const p of instr.props) (instr.stage < 0 ? globalNames : scope).add(p.name);
    if (instr.keyword === 'ENV' && instr.stage >= 0) for (const p of instr.props) scope.add(p.name);
  }
}

/** PL1011: untagged or `latest` images that DL3006/DL3007 do not see. */
function checkImageTags(ctx: CheckContext): void {
  const { model } = ctx;
  const aliases = new Set(model.stages.map((s) => s.alias).filter((a): a is string => a !== undefined));
  const bad = (ref: string): string | undefined => {
    const p = parseImageRef(ref);
    if (!p || p.digest !== undefined || p.name === 'scratch' || p.name === '') return undefined;
    if (p.tag === undefined || p.tag === '') return 'has no tag';
    if (p.tag === 'latest') return 'uses the `latest` tag';
    return undefined;
  };
  for (const st of model.stages) {
    if (!st.rawImage.includes('$') || st.parent !== undefined) continue;
    const resolved = substituteArgs(st.rawImage, model.globalArgs);
    if (aliases.has(resolved.toLowerCase())) continue;
    if (parseImageRef(resolved)?.name === '' || resolved.trim() === '' || resolved.startsWith(':')) {
      ctx.report({ code: 'PL1011', instr: st.from, message: `\`FROM ${st.rawImage}\` resolves to an empty image name: give the global ARG a default` });
      continue;
    }
    const why = bad(resolved);
    if (why) ctx.report({ code: 'PL1011', instr: st.from, message: `\`FROM ${st.rawImage}\` resolves to \`${resolved}\`, which ${why}; pin a version in the ARG default` });
  }
  for (const instr of model.instrs) {
    const refs: string[] = [];
    const from = instr.keyword === 'COPY' ? instr.flags.find((f) => f.name === 'from')?.value : undefined;
    if (from) refs.push(from);
    if (instr.run) for (const m of instr.run.mounts) if (m.from) refs.push(m.from);
    for (const ref of refs) {
      const l = ref.toLowerCase();
      if (aliases.has(l) || /^\d+$/.test(l) || ref.includes('$') || !/[/:.]/.test(ref)) continue;
      const why = bad(ref);
      if (why) ctx.report({ code: 'PL1011', instr, message: `Image \`${ref}\` ${why}; pin a version so the build is reproducible` });
    }
  }
}

/** PL1012: compilers and build tools installed in the final stage and not removed. */
function checkBuildTools(ctx: CheckContext, sites: RunSite[]): void {
  const stages = ctx.model.stages;
  if (stages.length === 0) return;
  const final = stages[stages.length - 1]!;
  const finalSites = sites.filter((s) => s.stage === final.index && !s.inOnbuild);
  const removals: Array<{ at: number; names: Set<string> }> = [];
  for (const s of finalSites) {
    for (const c of s.commands) {
      if (cmdHasArgs(c, ['apt-get', 'apt', 'yum', 'dnf', 'microdnf', 'zypper'], ['purge', 'remove', 'erase', 'rm', 'autoremove']) || cmdHasArgs(c, 'apk', ['del'])) {
        removals.push({ at: s.run.index, names: new Set(argsNoFlags(c).map(stripVersion)) });
      }
    }
  }
  for (const s of finalSites) {
    const tools: string[] = [];
    for (const c of s.commands) {
      if (!pmOf(c, PM_INSTALL)) continue;
      const virtual = c.name === 'apk' ? (c.argv[c.argv.indexOf('--virtual') + 1] ?? c.argv[c.argv.indexOf('-t') + 1]) : undefined;
      const virtualRemoved = virtual !== undefined && (c.argv.includes('--virtual') || c.argv.includes('-t')) && removals.some((r) => r.at >= s.run.index && r.names.has(virtual));
      if (virtualRemoved) continue;
      for (const p of argsNoFlags(c, ['t', 'virtual', 'o', 'c', 'repository', 'X'])) {
        const name = stripVersion(p);
        if (!BUILD_TOOL.test(name)) continue;
        if (removals.some((r) => r.at >= s.run.index && r.names.has(name))) continue;
        tools.push(name);
      }
    }
    if (tools.length > 0) {
      const uniq = [...new Set(tools)];
      ctx.report({
        code: 'PL1012',
        instr: s.instr,
        message: `Build tools ${uniq.slice(0, 6).map((t) => `\`${t}\``).join(', ')}${uniq.length > 6 ? '…' : ''} stay in the final image; compile in an earlier stage and COPY --from only the result`,
      });
    }
  }
}
