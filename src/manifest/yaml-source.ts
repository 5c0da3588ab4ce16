/**
 * Reading manifest YAML: syntax errors with line numbers, and a map from field paths back to lines.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { PitlaneError, type ErrorDetail } from '../errors.js';

/** A 1-based position in the manifest text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** The plain data of a YAML manifest and a way to find where a field was written. */
export interface LoadedYaml {
  /** The document as plain JS data (`undefined` when the document is empty). */
  value: unknown;
  /** Position of the key of a dotted field path, or of its deepest written ancestor; `undefined` if none. */
  lineOf: (path: string) => SourcePosition | undefined;
  /** Non-fatal YAML warnings (e.g. unresolved tags), with their line. */
  warnings: string[];
}

/** Maps whose scalar values Pitlane stringifies: they keep the text as written (`1.10`, not `1.1`). */
const STRINGIFIED_MAPS = ['labels', 'runtime_env', 'build_args'];

function stripLocation(message: string): string {
  const text = message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
  if (text.includes('Maximum call stack size exceeded')) return 'the document is nested too deeply';
  return text.startsWith('Source contains multiple documents') ? 'a manifest must be a single YAML document (found "---" or "...")' : text;
}

/** Replaces parsed numbers and booleans in the stringified maps by their source text. */
function keepScalarSource(doc: Document, value: unknown): void {
  if (!isMap(doc.contents) || typeof value !== 'object' || value === null) return;
  for (const mapName of STRINGIFIED_MAPS) {
    const node = doc.contents.get(mapName, true);
    const target = (value as Record<string, unknown>)[mapName];
    if (!isMap(node) || typeof target !== 'object' || target === null || Array.isArray(target)) continue;
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
      const key = String(pair.key.value);
      const parsed = pair.value.value;
      if ((typeof parsed === 'number' || typeof parsed === 'boolean') && typeof pair.value.source === 'string' && Object.hasOwn(target, key)) {
        Object.defineProperty(target, key, { value: pair.value.source, enumerable: true, writable: true, configurable: true });
      }
    }
  }
}

function locate(node: unknown, rest: string, position: (offset: number) => SourcePosition): SourcePosition | undefined {
  if (!isMap(node) && !isSeq(node)) return undefined;
  const items = isMap(node) ? node.items.map((pair) => ({ key: pair.key, value: pair.value })) : node.items.map((item, i) => ({ key: i, value: item }));
  for (const { key, value } of items) {
    const name = typeof key === 'number' ? String(key) : isScalar(key) ? String(key.value) : undefined;
    if (name === undefined || (rest !== name && !rest.startsWith(`${name}.`))) continue;
    const anchor = typeof key === 'number' ? (value as Node | null) : (key as Node);
    const here = anchor?.range ? position(anchor.range[0]) : undefined;
    if (rest === name) return here;
    const deeper = locate(value, rest.slice(name.length + 1), position);
    if (deeper !== undefined) return deeper;
    if (here !== undefined) return here;
  }
  return undefined;
}

/**
 * Parses manifest YAML text.
 *
 * @param text the file content (UTF-8 text). A single YAML 1.2 document; duplicate keys are errors.
 * @param fileName used in messages, e.g. `job.yaml`.
 * @returns the plain data, a path-to-position lookup, and YAML warnings.
 * @throws PitlaneError 400 `MANIFEST_INVALID` on syntax errors (one detail per error, with 1-based
 *   `line`/`column`) and on documents that cannot be turned into data (e.g. too many aliases).
 */
export function loadYaml(text: string, fileName: string): LoadedYaml {
  const lineCounter = new LineCounter();
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  } catch (error) {
    throw new PitlaneError(400, 'MANIFEST_INVALID', `${fileName} could not be parsed as YAML`, [{ message: String((error as Error)?.message ?? error) }]);
  }
  if (doc.errors.length > 0) {
    const details: ErrorDetail[] = doc.errors.map((error) => {
      const at = position(error.pos[0]);
      return { line: at.line, column: at.column, message: stripLocation(error.message) };
    });
    const first = details[0]!;
    throw new PitlaneError(400, 'MANIFEST_INVALID', `${fileName} is not valid YAML: ${first.message} (line ${first.line}, column ${first.column})`, details);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
    keepScalarSource(doc, value);
  } catch (error) {
    throw new PitlaneError(400, 'MANIFEST_INVALID', `${fileName} could not be read as data: ${String((error as Error)?.message ?? error)}`);
  }
  const warnings = doc.warnings.map((warning) => `${fileName} line ${position(warning.pos[0]).line}: ${stripLocation(warning.message)}`);
  return { value, warnings, lineOf: (path) => locate(doc.contents, path, position) };
}
