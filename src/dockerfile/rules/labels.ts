/**
 * Label rules: DL3048 (key syntax) always, and the `label-schema` rules DL3049–DL3058 when a
 * schema is configured (`Rule/DL3048.hs` … `Rule/DL3058.hs`).
 */
import type { Instr } from '../model.js';
import type { LabelType } from '../types.js';
import type { CheckContext } from './context.js';

/** Common SPDX license identifiers (a subset of spdx.org/licenses; hadolint uses Cabal's full list). */
const SPDX = new Set(
  `0BSD AFL-3.0 AGPL-1.0 AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.0 Apache-1.1 Apache-2.0 APSL-2.0 Artistic-1.0 Artistic-2.0
BlueOak-1.0.0 BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear BSD-4-Clause BSL-1.0 CAL-1.0 CC-BY-3.0 CC-BY-4.0
CC-BY-SA-3.0 CC-BY-SA-4.0 CC-BY-NC-4.0 CC-BY-ND-4.0 CC0-1.0 CDDL-1.0 CDDL-1.1 CECILL-2.1 CPL-1.0 ECL-2.0 EFL-2.0 EPL-1.0 EPL-2.0 EUPL-1.1 EUPL-1.2
GFDL-1.3 GFDL-1.3-only GFDL-1.3-or-later GPL-1.0 GPL-2.0 GPL-2.0-only GPL-2.0-or-later GPL-3.0 GPL-3.0-only GPL-3.0-or-later HPND ICU IPL-1.0 ISC
LGPL-2.0 LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1 LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0-only LGPL-3.0-or-later LPPL-1.3c MIT MIT-0
MPL-1.0 MPL-1.1 MPL-2.0 MPL-2.0-no-copyleft-exception MS-PL MS-RL MulanPSL-2.0 NCSA OFL-1.1 OpenSSL OSL-3.0 PHP-3.01 PostgreSQL PSF-2.0
Python-2.0 QPL-1.0 Ruby SSPL-1.0 Unicode-DFS-2016 Unlicense UPL-1.0 Vim W3C WTFPL X11 Zlib ZPL-2.1`.split(/\s+/),
);

const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Whether `value` has the format `type` of a label schema. */
export function labelValueValid(type: LabelType, value: string): boolean {
  switch (type) {
    case 'url':
      try {
        const u = new URL(value);
        return u.protocol.length > 1 && !/\s/.test(value);
      } catch {
        return false;
      }
    case 'rfc3339':
      return RFC3339.test(value);
    case 'spdx':
      return SPDX.has(value) || /^LicenseRef-[A-Za-z0-9.-]+$/.test(value);
    case 'hash':
      return /^[0-9a-f]+$/.test(value) && (value.length === 40 || value.length === 7);
    case 'semver':
      return SEMVER.test(value);
    case 'email':
      return EMAIL.test(value);
    default:
      return true;
  }
}

/** hadolint DL3048: lower-case alphanumerics, `.` and `-`; starts with a letter, ends alphanumeric; no reserved namespaces, no `..` or `--`. */
export function labelKeyValid(key: string): boolean {
  return (
    /^[a-z]/.test(key) &&
    /[a-z0-9]$/.test(key) &&
    /^[a-z0-9.-]+$/.test(key) &&
    !/^(com\.docker\.|io\.docker\.|org\.dockerproject\.)/.test(key) &&
    !key.includes('..') &&
    !key.includes('--')
  );
}

const CODE_FOR: Record<LabelType, string | undefined> = { text: undefined, url: 'DL3052', rfc3339: 'DL3053', spdx: 'DL3054', hash: 'DL3055', semver: 'DL3056', email: 'DL3058' };
const WHAT: Record<string, string> = {
  DL3052: 'is not a valid URL',
  DL3053: 'is not a valid time format - must conform to RFC3339',
  DL3054: 'is not a valid SPDX license identifier',
  DL3055: 'is not a valid git hash',
  DL3056: 'does not conform to semantic versioning',
  DL3058: 'is not a valid email format - must conform to RFC5322',
};

/** Runs DL3048–DL3058. */
export function checkLabelRules(ctx: CheckContext): void {
  const { model, options } = ctx;
  const schema = options.labelSchema ?? {};
  const schemaKeys = Object.keys(schema);
  const labelInstrs: Instr[] = [];
  for (const instr of model.instrs) {
    const t = instr.trigger ?? instr;
    if (t.keyword !== 'LABEL') continue;
    labelInstrs.push(instr);
    if (t.props.some((p) => !labelKeyValid(p.name))) ctx.report({ code: 'DL3048', instr, message: 'Invalid label key.' });
    if (options.strictLabels && schemaKeys.length > 0 && t.props.some((p) => !(p.name in schema))) {
      ctx.report({ code: 'DL3050', instr, message: 'Superfluous label(s) present.' });
    }
    for (const p of t.props) {
      const type = schema[p.name];
      if (type === undefined) continue;
      const v = p.value ?? '';
      if (v === '') {
        ctx.report({ code: 'DL3051', instr, message: `Label \`${p.name}\` is empty.` });
        continue;
      }
      const code = CODE_FOR[type];
      if (code && !v.includes('$') && !labelValueValid(type, v)) ctx.report({ code, instr, message: `Label \`${p.name}\` ${WHAT[code]}.` });
    }
  }
  if (schemaKeys.length === 0) return;
  // DL3049: per stage, labels defined in the stage or inherited from the stage it is built FROM.
  const copiedFrom = new Set<string>();
  const parents = new Set<number>();
  for (const st of model.stages) {
    if (st.parent !== undefined) parents.add(st.parent);
    for (const i of st.instrs) {
      const f = i.flags.find((x) => x.name === 'from');
      if (i.keyword === 'COPY' && f?.value) copiedFrom.add(f.value.toLowerCase());
    }
  }
  const have: Array<Set<string>> = [];
  for (const st of model.stages) {
    const set = new Set<string>(st.parent !== undefined ? have[st.parent] : []);
    for (const i of st.instrs) if (i.keyword === 'LABEL') for (const p of i.props) set.add(p.name);
    have[st.index] = set;
    const silent = (st.alias !== undefined && copiedFrom.has(st.alias)) || copiedFrom.has(String(st.index)) || parents.has(st.index);
    if (silent) continue;
    for (const key of schemaKeys) if (!set.has(key)) ctx.report({ code: 'DL3049', instr: st.from, message: `Label \`${key}\` is missing.` });
  }
}
