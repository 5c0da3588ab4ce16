#!/usr/bin/env node
/**
 * Builds dist/exec/main.bundle.cjs: the lean `pitlane exec` entry (dist/exec/main.js) and every
 * module it imports statically, compiled by tsc, as one CommonJS file. bin/pitlane.js loads it
 * instead of the ES modules when it is up to date: on Node 20 the ES module loader alone costs
 * about 10 ms of CPU at start-up, and each further module file about half a millisecond, while
 * `pitlane exec` has to start a container about as fast as `docker run --rm` does.
 *
 * Usage: node scripts/build-exec-bundle.mjs   (after `tsc -p tsconfig.build.json`; `npm run build` runs both)
 *
 * - Each module is converted from ES module to CommonJS syntax by TypeScript's own
 *   `transpileModule` (typescript is already the build's compiler), and wrapped in a function of
 *   a small module table, in the order of a depth-first walk of the static imports from the entry.
 * - Dynamic `import()`s stay real ES module imports of the files next to the original module
 *   (the CLI on a usage error, the --server client, the watchdog): they are rewritten to a
 *   loader function that resolves relative specifiers against the original module's location.
 * - The bundle records the size and modification time of every dist/ file it was built from;
 *   `isFresh()` compares them, so that bin/pitlane.js never runs a bundle older than a later
 *   `tsc` build (it then loads the ES modules, as before).
 * - A module that uses `import.meta` or top-level `await` cannot become CommonJS: the build fails
 *   naming it (keep such code behind a dynamic import).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Posix-style path of `target` relative to `from` (a directory), for ids and specifiers. */
function posixRelative(from, target) {
  return relative(from, target).split(sep).join('/');
}

/** The relative specifiers of `import ... from '...'` / `export ... from '...'` declarations in `code`, and whether it has dynamic imports, import.meta or top-level await. */
function scan(code, fileName) {
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const imports = [];
  const problems = [];
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      imports.push(statement.moduleSpecifier.text);
    }
  }
  const visit = (node, inFunction) => {
    if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) problems.push('import.meta');
    if (ts.isAwaitExpression(node) && !inFunction) problems.push('top-level await');
    if (ts.isForOfStatement(node) && node.awaitModifier && !inFunction) problems.push('top-level for await');
    ts.forEachChild(node, (child) => visit(child, inFunction || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)));
  };
  visit(source, false);
  return { imports, problems };
}

/** A `before` transformer that turns `import(x)` into `importEsm(x)`, which TypeScript's CommonJS output leaves alone. */
function dynamicImportRewriter(context) {
  const { factory } = context;
  const visit = (node) => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      return factory.createCallExpression(factory.createIdentifier('importEsm'), undefined, ts.visitNodes(node.arguments, visit));
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (sourceFile) => ts.visitNode(sourceFile, visit);
}

/**
 * Builds the bundle of `entry` (a file under `distDir`) into `out`.
 * @returns the ids (paths relative to distDir) of the modules it contains, entry first.
 * @throws Error when a module cannot become CommonJS or an import does not resolve.
 */
export function buildExecBundle({ distDir, entry, out }) {
  const root = resolve(distDir);
  const order = [];
  const modules = new Map();
  const walk = (file) => {
    const id = posixRelative(root, file);
    if (modules.has(id)) return;
    if (id.startsWith('..')) throw new Error(`${file} is outside ${root}`);
    const code = readFileSync(file, 'utf8');
    const { imports, problems } = scan(code, file);
    if (problems.length > 0) throw new Error(`${id} cannot be bundled as CommonJS (${[...new Set(problems)].join(', ')}); import it dynamically instead`);
    modules.set(id, { file, code });
    order.push(id);
    for (const specifier of imports) if (specifier.startsWith('.')) walk(resolve(dirname(file), specifier));
  };
  walk(resolve(entry));

  const bundleDir = dirname(resolve(out));
  const sources = {};
  const definitions = [];
  for (const id of order) {
    const { file, code } = modules.get(id);
    const { size, mtimeMs } = statSync(file);
    sources[id] = [mtimeMs, size];
    const { outputText, diagnostics } = ts.transpileModule(code, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true, sourceMap: false, removeComments: true },
      transformers: { before: [dynamicImportRewriter] },
      reportDiagnostics: true,
    });
    if (diagnostics && diagnostics.length > 0) throw new Error(`${id}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
    definitions.push(`${JSON.stringify(id)}: function (exports, require, module, importEsm) {\n${outputText.replace(/^\/\/# sourceMappingURL=.*$/m, '')}\n}`);
  }

  const text = `'use strict';
// The lean \`pitlane exec\` entry as one CommonJS file, generated by scripts/build-exec-bundle.mjs
// from ${posixRelative(bundleDir, resolve(entry))} and the modules it imports; do not edit. bin/pitlane.js loads
// it when isFresh() says every module is as it was built from, else the ES modules themselves.
const ROOT = require('node:path').join(__dirname, ${JSON.stringify(posixRelative(bundleDir, root) || '.')});
/** id (path under ROOT) -> [mtimeMs, size] of the file the module was built from. */
const SOURCES = ${JSON.stringify(sources)};
const MODULES = {
${definitions.join(',\n')}
};
const cache = Object.create(null);

/** Joins a relative specifier to the directory of module \`id\` (posix ids, no leading ./). */
function resolveId(id, specifier) {
  const parts = id.split('/').slice(0, -1);
  for (const part of specifier.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

function load(id) {
  const cached = cache[id];
  if (cached) return cached.exports;
  const define = MODULES[id];
  if (!define) throw new Error(\`pitlane exec bundle: no module \${id}\`);
  const module = { exports: {} };
  cache[id] = module;
  const localRequire = (specifier) => (specifier.startsWith('.') ? load(resolveId(id, specifier)) : require(specifier));
  const importEsm = (specifier) =>
    import(specifier.startsWith('.') ? require('node:url').pathToFileURL(require('node:path').join(ROOT, resolveId(id, specifier))).href : specifier);
  define.call(module.exports, module.exports, localRequire, module, importEsm);
  return module.exports;
}

/** Whether every module's file still has the modification time and size it was bundled from. */
exports.isFresh = function isFresh() {
  const { statSync } = require('node:fs');
  const { join } = require('node:path');
  for (const id of Object.keys(SOURCES)) {
    const stat = statSync(join(ROOT, id), { throwIfNoEntry: false });
    const [mtimeMs, size] = SOURCES[id];
    if (!stat || stat.mtimeMs !== mtimeMs || stat.size !== size) return false;
  }
  return true;
};

/** The entry module's exports. */
exports.load = function () {
  return load(${JSON.stringify(order[0])});
};

/** The ids of the bundled modules, entry first. */
exports.modules = Object.keys(MODULES);
`;
  writeFileSync(out, text);
  return order;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const ids = buildExecBundle({ distDir: join(repo, 'dist'), entry: join(repo, 'dist/exec/main.js'), out: join(repo, 'dist/exec/main.bundle.cjs') });
  console.log(`dist/exec/main.bundle.cjs: ${ids.length} modules (${ids.join(', ')})`);
}
