/**
 * The HTML pages pip reads: the PEP 503 simple index (`/wheels/simple/` and
 * `/wheels/simple/{project}/`) and a flat find-links page (`/wheels/find-links/`). Links carry
 * `#sha256=...` (pip checks it) and `data-requires-python` (PEP 503, HTML-escaped).
 */
import type { WheelRecord } from './store.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="pypi:repository-version" content="1.0">',
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    ...body.map((line) => `    ${line}<br>`),
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function fileLink(wheel: WheelRecord, prefix: string): string {
  const requires = wheel.requires_python ? ` data-requires-python="${escapeHtml(wheel.requires_python)}"` : '';
  return `<a href="${prefix}${encodeURIComponent(wheel.filename)}#sha256=${wheel.sha256}"${requires}>${escapeHtml(wheel.filename)}</a>`;
}

/** `/wheels/simple/`: one link per project (normalised name), relative to the page. */
export function simpleRootHtml(projects: Iterable<string>): string {
  const names = [...projects].sort();
  return page('Simple index', names.map((name) => `<a href="${encodeURIComponent(name)}/">${escapeHtml(name)}</a>`));
}

/** `/wheels/simple/{project}/`: the project's wheels, linked as `../../files/{filename}#sha256=...`. */
export function simpleProjectHtml(project: string, wheels: WheelRecord[]): string {
  return page(`Links for ${project}`, [...wheels].sort((a, b) => (a.filename < b.filename ? -1 : 1)).map((w) => fileLink(w, '../../files/')));
}

/** `/wheels/find-links/`: every wheel, linked as `../files/{filename}#sha256=...` (pip `--find-links URL`). */
export function findLinksHtml(wheels: WheelRecord[]): string {
  return page('Pitlane wheelhouse', [...wheels].sort((a, b) => (a.filename < b.filename ? -1 : 1)).map((w) => fileLink(w, '../files/')));
}
