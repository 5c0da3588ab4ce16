/**
 * Rendering the image report (pure logic): a readable table (default) or JSON in dive's export
 * shape (`dive --json`, `cmd/dive/cli/internal/command/export/export.go`).
 */
import { humanizeBytes } from './go-compat.js';
import type { ImageChecksEvaluation } from './dive-ci.js';
import type { ImageReport } from './types.js';

/** dive's JSON export shape, plus a `pitlane` member with what dive does not have. */
export interface DiveExport {
  layer: Array<{
    index: number;
    id: string;
    digestId: string;
    sizeBytes: number;
    command: string;
    fileList: Array<{ path: string; typeFlag: number; linkName: string; size: number; fileMode: number; uid: number; gid: number; isDir: boolean }>;
  }>;
  image: {
    sizeBytes: number;
    inefficientBytes: number;
    efficiencyScore: number;
    fileReference: Array<{ count: number; sizeBytes: number; file: string }>;
  };
  pitlane: {
    user_size_bytes: number;
    wasted_user_percent: number | null;
    reclaimable_bytes: number;
    reclaimable: ImageReport['reclaimable'];
    layers: Array<Pick<ImageReport['layers'][number], 'index' | 'digest' | 'instruction' | 'files_added' | 'files_modified' | 'files_removed' | 'reclaimable_bytes' | 'files'>>;
  };
}

/** Converts a report to {@link DiveExport} (dive's `fileList` is empty unless the report was made with `diveFileList`). */
export function toDiveExport(report: ImageReport): DiveExport {
  return {
    layer: report.layers.map((l) => ({
      index: l.index,
      id: l.id,
      digestId: l.digest ?? '',
      sizeBytes: l.size_bytes,
      command: l.command,
      fileList: l.file_list ?? [],
    })),
    image: {
      sizeBytes: report.size_bytes,
      inefficientBytes: report.wasted_bytes,
      efficiencyScore: report.efficiency,
      fileReference: report.inefficient_files.map((f) => ({ count: f.count, sizeBytes: f.size_bytes, file: f.path })),
    },
    pitlane: {
      user_size_bytes: report.user_size_bytes,
      wasted_user_percent: Number.isFinite(report.wasted_user_percent) ? report.wasted_user_percent : null,
      reclaimable_bytes: report.reclaimable_bytes,
      reclaimable: report.reclaimable,
      layers: report.layers.map((l) => ({
        index: l.index,
        digest: l.digest,
        instruction: l.instruction,
        files_added: l.files_added,
        files_modified: l.files_modified,
        files_removed: l.files_removed,
        reclaimable_bytes: l.reclaimable_bytes,
        ...(l.files ? { files: l.files } : {}),
      })),
    },
  };
}

/**
 * Renders the report. `json`: dive's export shape (see {@link toDiveExport}), indented by 2 like
 * dive. `table` (default): image summary, one row per layer (size, added/modified/removed,
 * reclaimable, instruction), dive's analysis figures with Pitlane's reclaimable bytes, the
 * inefficient files table (Count, Wasted Space, File Path) and, when given, the CI evaluation.
 */
export function formatImageReport(report: ImageReport, format: 'table' | 'json' = 'table', checks?: ImageChecksEvaluation): string {
  if (format === 'json') return JSON.stringify(toDiveExport(report), null, 2);
  const lines: string[] = [];
  const name = report.image.repo_tags[0] ?? report.image.id ?? '(untagged image)';
  lines.push(`Image: ${name}`);
  const platform = [report.image.os, report.image.architecture].filter(Boolean).join('/');
  lines.push(
    `  id ${report.image.id ?? '(unknown)'}${platform ? `, ${platform}` : ''}, ${report.layers.length} layers, ${humanizeBytes(report.size_bytes)} (${report.size_bytes} bytes), ${report.layout} layout`,
  );
  lines.push('');
  lines.push('Layers:');
  const rows = report.layers.map((l) => [
    String(l.index),
    humanizeBytes(l.size_bytes),
    (l.digest ?? '').replace(/^sha256:/, '').slice(0, 12),
    String(l.files_added),
    String(l.files_modified),
    String(l.files_removed),
    humanizeBytes(l.reclaimable_bytes),
    truncate(oneLine(l.instruction ?? l.command), 70),
  ]);
  lines.push(...table(['#', 'Size', 'Digest', 'Added', 'Modified', 'Removed', 'Reclaimable', 'Instruction'], rows, [true, true, false, true, true, true, true, false]));
  lines.push('');
  lines.push('Analysis:');
  const wastedNote = report.wasted_bytes > 0 ? ` (${humanizeBytes(report.wasted_bytes)})` : '';
  const userWasted = report.wasted_bytes > 0 ? `${(report.wasted_user_percent * 100).toFixed(2)} %` : '0 %';
  lines.push(`  ${pad('efficiency:', 20)}${(report.efficiency * 100).toFixed(2)} %`);
  lines.push(`  ${pad('wastedBytes:', 20)}${report.wasted_bytes} bytes${wastedNote}`);
  lines.push(`  ${pad('userWastedPercent:', 20)}${userWasted}`);
  lines.push(`  ${pad('userSizeBytes:', 20)}${report.user_size_bytes} bytes (${humanizeBytes(report.user_size_bytes)})`);
  lines.push(
    `  ${pad('reclaimableBytes:', 20)}${report.reclaimable_bytes} bytes (${humanizeBytes(report.reclaimable_bytes)}): ${report.reclaimable.superseded_bytes} superseded + ${report.reclaimable.deleted_bytes} deleted, each copy once (Pitlane; dive's wastedBytes also counts the kept copy)`,
  );
  lines.push('');
  if (report.inefficient_files.length === 0) {
    lines.push('Inefficient Files: (None)');
  } else {
    lines.push('Inefficient Files:');
    lines.push(`  ${pad('Count', 5)}  ${pad('Wasted Space', 12)}  File Path`);
    for (const f of report.inefficient_files) lines.push(`  ${pad(String(f.count), 5)}  ${pad(humanizeBytes(f.size_bytes), 12)}  ${f.path}`);
    if (report.inefficient_file_count > report.inefficient_files.length) {
      lines.push(`  ... ${report.inefficient_file_count - report.inefficient_files.length} more`);
    }
  }
  if (report.notes.length > 0) {
    lines.push('');
    lines.push('Notes:');
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  if (checks) {
    lines.push('');
    lines.push('Evaluation:');
    for (const r of checks.results) lines.push(`  ${r.status.toUpperCase().padEnd(4)}  ${r.dive_key} (${r.status === 'skip' ? 'disabled' : r.message})`);
    lines.push('');
    lines.push(checks.summary);
  }
  return lines.join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 3)}...`;
}

function pad(s: string, n: number): string {
  return s.padEnd(n);
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}
