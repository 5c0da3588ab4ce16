/**
 * hadolint's DL rules on instructions other than the shell body of `RUN`: FROM, COPY/ADD, USER,
 * WORKDIR, EXPOSE, ENV/ARG, CMD/ENTRYPOINT, HEALTHCHECK, ONBUILD, MAINTAINER and instruction order.
 * Each follows `src/Hadolint/Rule/DLxxxx.hs`; deviations are noted inline.
 */
import type { Instr } from '../model.js';
import { dropQuotes, parseImageRef } from '../text.js';
import type { CheckContext } from './context.js';

const SENSITIVE = new Set([
  'ACCESS_TOKEN', 'APPLICATION_KEY', 'APP_SECRET', 'AUTH_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
  'BITTREX_API_KEY', 'BITTREX_API_SECRET', 'CF_PASSWORD', 'CF_USERNAME', 'CIRCLE_TOKEN', 'CI_DEPLOY_PASSWORD',
  'CI_DEPLOY_USER', 'DOCKERHUB_PASSWORD', 'DOCKER_EMAIL', 'DOCKER_PASSWORD', 'DOCKER_USERNAME',
  'FACEBOOK_ACCESS_TOKEN', 'FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET', 'FIREBASE_API_TOKEN', 'FIREBASE_TOKEN',
  'FOSSA_API_KEY', 'GH_ENTERPRISE_TOKEN', 'GH_TOKEN', 'GITHUB_ENTERPRISE_TOKEN', 'GITHUB_TOKEN', 'HEROKU_API_KEY',
  'HEROKU_API_USER', 'NPM_AUTH_TOKEN', 'NPM_TOKEN', 'OKTA_AUTHN_GROUPID', 'OKTA_CLIENT_ORGURL', 'OKTA_CLIENT_TOKEN',
  'OKTA_OAUTH2_CLIENTID', 'OKTA_OAUTH2_CLIENTSECRET', 'OPENAI_API_KEY', 'OS_PASSWORD', 'OS_USERNAME',
  'POSTGRES_PASSWORD', 'SLACK_TOKEN', 'STRIPE_API_KEY', 'STRIPE_DEVICE_NAME', 'TRAVIS_OS_NAME',
  'TRAVIS_SECURE_ENV_VARS', 'TRAVIS_SUDO', 'VAULT_CLIENT_KEY', 'VAULT_TOKEN',
]);
const SUSPICIOUS = ['api_key', 'client_key', 'password', 'private', 'secret', 'token', 'username'];

/** hadolint DL3064's test on an ARG/ENV name (`Rule/DL3064.hs`). */
export function isSensitiveName(name: string): boolean {
  if (SENSITIVE.has(name.toUpperCase())) return true;
  const lower = name.toLowerCase();
  return SUSPICIOUS.some((s) => lower.includes(s));
}

const ARCHIVES = ['.tar', '.Z', '.bz2', '.gz', '.lz', '.lzma', '.tZ', '.tb2', '.tbz', '.tbz2', '.tgz', '.tlz', '.tpz', '.txz', '.xz'];

/** Sources and destination of COPY/ADD (exec form or words); empty for heredoc forms. */
export function copyParts(instr: Instr): { sources: string[]; dest: string } | undefined {
  if (instr.heredocs.length > 0) return undefined;
  const words = instr.json ?? instr.args;
  if (words.length < 2) return undefined;
  return { sources: words.slice(0, -1), dest: words[words.length - 1]! };
}

function flag(instr: Instr, name: string): string | undefined {
  const f = instr.flags.find((x) => x.name === name);
  return f ? (f.value ?? '') : undefined;
}

function isRootUser(u: string): boolean {
  return u.startsWith('root:') || u.startsWith('0:') || u === 'root' || u === '0';
}

function hasVariable(s: string): boolean {
  return s.includes('$');
}

/** Registry allowed by `trustedRegistries` (hadolint DL3026, with `*.domain` wildcards). */
function registryAllowed(registry: string | undefined, name: string, allowed: string[]): boolean {
  if (registry === undefined) return name === 'scratch' || allowed.includes('docker.io') || allowed.includes('hub.docker.com');
  return allowed.some((a) => a === registry || (a.startsWith('*.') && registry.endsWith(a.slice(1))));
}

/** Runs the instruction-level DL rules. */
export function checkInstructionRules(ctx: CheckContext): void {
  const { model, options } = ctx;
  const r = (code: string, instr: Instr, message: string): void => ctx.report({ code, instr, message });
  const trusted = options.trustedRegistries ?? [];

  // DL3061: instruction order.
  let seenFrom = false;
  for (const instr of model.instrs) {
    if (instr.keyword === 'FROM') seenFrom = true;
    else if (!seenFrom && instr.keyword !== 'ARG') r('DL3061', instr, 'Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.');
  }

  const aliases = new Set<string>();
  const aliasLines = new Map<string, number>();
  const lastRootUser = new Map<number, Instr>();
  for (const st of model.stages) {
    const from = st.from;
    const raw = st.rawImage;
    const ref = parseImageRef(raw);
    const lowerRaw = raw.toLowerCase();
    const isStageRef = aliases.has(lowerRaw);
    // DL3006 / DL3007 on the image as written; references built from variables are left to PL1011.
    if (ref && !hasVariable(raw) && !isStageRef && ref.name !== 'scratch' && ref.digest === undefined) {
      if (ref.tag === undefined) r('DL3006', from, 'Always tag the version of an image explicitly');
      else if (ref.tag === 'latest') r('DL3007', from, 'Using latest is prone to errors if the image will ever update. Pin the version explicitly to a release tag');
    }
    // DL3026: trusted registries.
    if (trusted.length > 0 && ref && !isStageRef && !hasVariable(raw) && !registryAllowed(ref.registry, ref.name, trusted)) {
      r('DL3026', from, 'Use only an allowed registry in the FROM image');
    }
    // DL3029 / DL3065: --platform. A variable (e.g. $BUILDPLATFORM) is allowed, as BuildKit's FromPlatformFlagConstDisallowed.
    if (st.platform !== undefined && st.platform !== '') {
      if (st.platform === '$TARGETPLATFORM' || st.platform === '${TARGETPLATFORM}') r('DL3065', from, 'Setting `FROM --platform` to predefined `$TARGETPLATFORM` in is redundant as this is the default behavior');
      else if (!hasVariable(st.platform)) r('DL3029', from, 'Do not use --platform flag with FROM');
    }
    if (st.alias !== undefined) {
      // DL3024: unique aliases. DL3063: reserved names.
      if (aliasLines.has(st.alias)) r('DL3024', from, `Duplicate stage name \`${st.alias}\`: FROM aliases (stage names) must be unique`);
      else aliasLines.set(st.alias, from.line);
      if (st.alias === 'scratch' || st.alias === 'context') r('DL3063', from, `Stage name \`${st.alias}\` should not be a reserved word`);
      aliases.add(st.alias);
    }

    let healthchecks = 0;
    let cmds = 0;
    let entrypoints = 0;
    for (const instr of st.instrs) {
      switch (instr.keyword) {
        case 'HEALTHCHECK':
          if (++healthchecks > 1) r('DL3012', instr, 'Multiple `HEALTHCHECK` instructions');
          break;
        case 'CMD':
          if (++cmds > 1) r('DL4003', instr, 'Multiple `CMD` instructions found. If you list more than one `CMD` then only the last `CMD` will take effect');
          break;
        case 'ENTRYPOINT':
          if (++entrypoints > 1) r('DL4004', instr, 'Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` then only the last `ENTRYPOINT` will take effect');
          break;
        case 'USER': {
          const u = instr.args.join(' ');
          if (isRootUser(u)) lastRootUser.set(st.index, instr);
          else lastRootUser.delete(st.index);
          break;
        }
        default:
          break;
      }
      // COPY --from checks (DL3022, DL3023, DL3067).
      if (instr.keyword === 'COPY') {
        const src = flag(instr, 'from');
        if (src !== undefined && src !== '') {
          const s = src.toLowerCase();
          const isIndex = /^\d+$/.test(s) && Number(s) < st.index;
          const isImage = /[/:@.]/.test(s) || hasVariable(s);
          if (st.alias !== undefined && s === st.alias) r('DL3023', instr, '`COPY --from` cannot reference its own `FROM` alias');
          else if (!aliases.has(s) && !isIndex && !isImage) r('DL3022', instr, '`COPY --from` should reference a previously defined `FROM` alias');
          const parts = copyParts(instr);
          if (parts && parts.sources.some((x) => dropQuotes(x) === '/')) r('DL3067', instr, 'Do not copy an entire filesystem from another stage');
        }
      }
    }
  }
  for (const instr of lastRootUser.values()) r('DL3002', instr, 'Last USER should not be root');

  // DL3057 (ignore level by default): no HEALTHCHECK at all.
  if (model.stages.length > 0 && !model.instrs.some((i) => i.keyword === 'HEALTHCHECK')) {
    r('DL3057', model.stages[model.stages.length - 1]!.from, '`HEALTHCHECK` instruction missing.');
  }

  // DL3045: COPY to a relative destination without WORKDIR (per stage, inherited through FROM <stage>).
  const workdirSet: boolean[] = [];
  for (const st of model.stages) {
    let set = st.parent !== undefined ? workdirSet[st.parent] ?? false : false;
    for (const instr of st.instrs) {
      if (instr.keyword === 'WORKDIR') set = true;
      if (instr.keyword === 'COPY' && !set) {
        const parts = copyParts(instr);
        if (!parts) continue;
        const d = dropQuotes(parts.dest);
        const abs = d.startsWith('/') || /^[A-Za-z]:[\\/]/.test(d) || d.startsWith('$');
        if (!abs) r('DL3045', instr, '`COPY` to a relative destination without `WORKDIR` set.');
      }
    }
    workdirSet[st.index] = set;
  }

  // Names defined by earlier ENV/ARG anywhere in the file (hadolint keeps them across stages).
  const envScope = new Set<string>();
  for (const instr of model.instrs) {
    const target = instr.trigger ?? instr;
    switch (target.keyword) {
      case 'WORKDIR': {
        const loc = dropQuotes(target.args.join(' '));
        if (!(loc.startsWith('$') || loc.startsWith('/') || /^[A-Za-z]:/.test(loc))) r('DL3000', instr, 'Use absolute WORKDIR');
        break;
      }
      case 'EXPOSE':
        for (const a of target.args) {
          if (hasVariable(a)) continue;
          const port = a.split('/')[0]!;
          const nums = port.split('-').map((x) => Number(x));
          if (nums.some((n) => Number.isFinite(n) && n > 65535)) {
            r('DL3011', instr, 'Valid UNIX ports range from 0 to 65535');
            break;
          }
        }
        break;
      case 'ADD': {
        const parts = copyParts(target);
        if (parts && !parts.sources.every((s) => ARCHIVES.some((e) => dropQuotes(s).endsWith(e)) || /^https?:\/\//.test(dropQuotes(s)))) {
          r('DL3020', instr, 'Use COPY instead of ADD for files and folders');
        }
        break;
      }
      case 'COPY': {
        const parts = copyParts(target);
        if (parts && parts.sources.length > 1) {
          const d = dropQuotes(parts.dest);
          if (d === '' || !d.endsWith('/')) r('DL3021', instr, 'COPY with more than 2 arguments requires the last argument to end with /');
        }
        break;
      }
      case 'CMD':
      case 'ENTRYPOINT':
        if (target.json === null) r('DL3025', instr, 'Use arguments JSON notation for CMD and ENTRYPOINT arguments');
        break;
      case 'MAINTAINER':
        r('DL4000', instr, 'MAINTAINER is deprecated');
        break;
      case 'USER': {
        const u = target.args.join(' ');
        const uid = u.includes(':') ? u.split(':')[0]! : u;
        if (!hasVariable(uid) && !/^\d+$/.test(uid)) r('DL3066', instr, 'Non-numeric user-id may not be resolvable by host system');
        break;
      }
      case 'ENV': {
        // DL3044: a pair refers to a name defined in the same ENV (and not defined before).
        const names = target.props.map((p) => p.name);
        let bad = false;
        target.props.forEach((p, idx) => {
          names.forEach((n, j) => {
            if (j === idx || envScope.has(n) || p.value === null) return;
            if (p.value.includes(`\${${n}}`) || new RegExp(`\\$${n}(?![A-Za-z0-9_])`).test(p.value)) bad = true;
          });
        });
        if (bad) r('DL3044', instr, 'Do not refer to an environment variable within the same `ENV` statement where it is defined.');
        for (const n of names) envScope.add(n);
        if (target.props.some((p) => isSensitiveName(p.name))) r('DL3064', instr, 'Potentially sensitive data should not be used in the `ARG` or `ENV` commands');
        break;
      }
      case 'ARG':
        for (const p of target.props) envScope.add(p.name);
        if (target.props.some((p) => isSensitiveName(p.name))) r('DL3064', instr, 'Potentially sensitive data should not be used in the `ARG` or `ENV` commands');
        break;
      default:
        break;
    }
    if (instr.keyword === 'ONBUILD' && instr.trigger && ['ONBUILD', 'FROM', 'MAINTAINER'].includes(instr.trigger.keyword)) {
      r('DL3043', instr, '`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.');
    }
  }
}
