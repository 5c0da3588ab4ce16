/**
 * `pitlane wheels build|upload|list|delete|builds`: the wheelhouse from the command line.
 *
 * `wheels build -r requirements.txt` sends the requirements (and local packages) to the server,
 * which builds the missing wheels in a throwaway builder container; local directories named in the
 * requirements file (`./pkg`, `../libs/pkg`, `/abs/pkg`, optionally `-e`) are packed and sent along
 * and the lines rewritten to `./<base name>`; `--source DIR` sends more directories the same way.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import pc from 'picocolors';
import { toApiError, type PitlaneClient } from './client.js';
import { CliExit, table, type Output } from './output.js';

/** A stored wheel as the API returns it. */
interface WheelView {
  filename: string;
  name: string;
  version: string;
  tags: string[];
  size: number;
  sha256: string;
  uploaded_at: string;
  source: string;
}

/** A wheel build as the API returns it. */
interface BuildView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  wheels_added: string[];
  wheels_reused: string[];
  wheels_rejected: { filename: string; message: string }[];
  error: { code: string; message: string; details: { path?: string; message: string }[] } | null;
  log: string[];
  log_total: number;
  created_at: string;
  duration_ms: number | null;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SKIPPED = new Set(['.git', '__pycache__', '.venv', 'node_modules', '.tox', '.mypy_cache', '.pytest_cache']);

/** Human-readable byte size. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Finds requirement lines that name local directories (relative to `baseDir`) and rewrites them
 * to `./<base name>`, the place the server unpacks them.
 * @returns the rewritten text and the directories to send, by base name.
 * @throws CliExit 2 when two directories share a base name.
 */
export function localRequirements(text: string, baseDir: string, extra: string[] = []): { text: string; dirs: Map<string, string> } {
  const dirs = new Map<string, string>();
  const addDir = (path: string): string => {
    const absolute = resolve(baseDir, path);
    const name = basename(absolute);
    const taken = dirs.get(name);
    if (taken && taken !== absolute) throw new CliExit(2, `two local packages are both named "${name}" (${taken} and ${absolute}); rename one`);
    dirs.set(name, absolute);
    return name;
  };
  for (const dir of extra) {
    const absolute = resolve(dir);
    if (!existsSync(absolute) || !statSync(absolute).isDirectory()) throw new CliExit(2, `--source ${dir} is not a directory`);
    addDir(absolute);
  }
  const lines = text.split(/\r?\n/).map((line) => {
    const match = /^(\s*(?:-e\s+|--editable[=\s]+)?)((?:\.{1,2}\/|\/)[^\s#;\[]*)(.*)$/.exec(line);
    if (!match) return line;
    const [, prefix = '', path = '', rest = ''] = match;
    const absolute = resolve(baseDir, path);
    if (!existsSync(absolute) || !statSync(absolute).isDirectory()) return line;
    return `${prefix}./${addDir(absolute)}${rest}`;
  });
  return { text: lines.join('\n'), dirs };
}

/** Packs directories as one tar.gz, each under its base name (VCS and cache directories left out, symlinks kept as links). */
export async function packSources(dirs: Map<string, string>): Promise<Buffer> {
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const walk = (absolute: string, name: string): void => {
    const info = lstatSync(absolute);
    if (info.isSymbolicLink()) {
      pack.entry({ name, type: 'symlink', linkname: readlinkSync(absolute), mode: 0o777 });
    } else if (info.isDirectory()) {
      pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755 });
      for (const child of readdirSync(absolute).sort()) {
        if (!SKIPPED.has(child)) walk(join(absolute, child), `${name}/${child}`);
      }
    } else if (info.isFile()) {
      pack.entry({ name, type: 'file', mode: info.mode & 0o111 ? 0o755 : 0o644 }, readFileSync(absolute));
    }
  };
  for (const [name, dir] of dirs) walk(dir, name);
  pack.finalize();
  return buffer((pack as unknown as Readable).pipe(createGzip()));
}

function printWheels(output: Output, wheels: WheelView[]): void {
  output.out(table(['NAME', 'VERSION', 'TAGS', 'SIZE', 'SHA256', 'UPLOADED', 'FILENAME'], wheels.map((w) => [
    w.name, w.version, w.tags.join(','), formatBytes(w.size), w.sha256.slice(0, 12), w.uploaded_at.replace(/\.\d+Z$/, 'Z'), w.filename,
  ])));
}

/** Registers `wheels`. */
export function registerWheelCommands(program: Command, output: Output, client: () => PitlaneClient): void {
  const wheels = program.command('wheels').description("The wheelhouse: Python wheels built once and reused by every python3 job's build.");

  wheels
    .command('build')
    .description('Build the wheels a requirements file needs (from sdists, local paths or VCS URLs pip can reach) in a builder container on the server, and store them.')
    .requiredOption('-r, --requirement <file>', 'requirements file')
    .option('--source <dir>', 'local package directory to send along, as ./<its name> in the requirements (repeatable)', collect, [])
    .option('--no-wait', 'print the build id and return')
    .option('--verbose', "print pip's output as it comes", false)
    .option('--json', 'print the finished build as JSON', false)
    .addHelpText('after', '\nLocal directories named in the requirements file (./pkg, ../pkg, /abs/pkg) are sent along automatically.\nExample: pitlane wheels build -r requirements.txt --source ../my-lib')
    .action(async (options: { requirement: string; source: string[]; wait: boolean; verbose: boolean; json: boolean }) => {
      const api = client();
      const file = resolve(options.requirement);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliExit(2, `cannot read ${options.requirement}: ${(error as Error).message}`);
      }
      const local = localRequirements(text, dirname(file), options.source);
      const form = new FormData();
      form.set('requirements', local.text);
      if (local.dirs.size > 0) {
        const archive = await packSources(local.dirs);
        form.set('source', new Blob([archive], { type: 'application/gzip' }), 'source.tar.gz');
        if (!options.json) output.err(pc.dim(`sending ${[...local.dirs.keys()].map((n) => `./${n}`).join(', ')} (${formatBytes(archive.length)})\n`));
      }
      const response = await api.raw('POST', '/api/v1/wheels/build', { body: form as never });
      const answerText = await response.body.text();
      const answer = (answerText ? JSON.parse(answerText) : {}) as { id: string; status: string };
      if (response.statusCode >= 400) throw toApiError(response.statusCode, answer);
      if (!options.wait) {
        output.out(options.json ? `${JSON.stringify(answer)}\n` : `${answer.id}\n`);
        return;
      }
      if (!options.json) output.err(pc.dim(`wheel build ${answer.id}\n`));
      let cursor = 0;
      const recent: string[] = [];
      let build: BuildView;
      for (;;) {
        build = await api.json<BuildView>('GET', `/api/v1/wheels/builds/${answer.id}?after=${cursor}`);
        cursor += build.log.length;
        for (const line of build.log) {
          recent.push(line);
          if (recent.length > 25) recent.shift();
          if (options.verbose && !options.json) output.err(pc.dim(`  │ ${line}\n`));
        }
        if (build.status === 'succeeded' || build.status === 'failed') break;
        await sleep(500);
      }
      if (options.json) output.out(`${JSON.stringify(build, null, 2)}\n`);
      else {
        for (const name of build.wheels_added) output.out(`${pc.green('added')}   ${name}\n`);
        for (const name of build.wheels_reused) output.out(`${pc.dim('reused')}  ${name}\n`);
        for (const rejected of build.wheels_rejected) output.err(`${pc.red('refused')} ${rejected.filename}: ${rejected.message}\n`);
      }
      if (build.status === 'failed') {
        if (!options.json) {
          if (!options.verbose && recent.length > 0) output.err(pc.dim(`${recent.map((l) => `  │ ${l}`).join('\n')}\n`));
          output.err(`${pc.red('✗ wheel build failed')}: ${build.error?.message ?? 'unknown error'}\n`);
          output.err(pc.dim(`full log: pitlane wheels builds ${build.id}\n`));
        }
        throw new CliExit(1);
      }
    });

  wheels
    .command('upload')
    .description('Upload wheel files to the wheelhouse (each is checked: ZIP, METADATA against the filename, RECORD hashes).')
    .argument('<files...>', '.whl files')
    .option('--json', 'print the stored wheels as JSON', false)
    .action(async (files: string[], options: { json: boolean }) => {
      const api = client();
      const stored: WheelView[] = [];
      let failed = 0;
      for (const path of files) {
        let data: Buffer;
        try {
          data = readFileSync(path);
        } catch (error) {
          output.err(`${pc.red('error')}: cannot read ${path}: ${(error as Error).message}\n`);
          failed += 1;
          continue;
        }
        const form = new FormData();
        form.set('file', new Blob([data], { type: 'application/octet-stream' }), basename(path));
        const response = await api.raw('POST', '/api/v1/wheels', { body: form as never });
        const text = await response.body.text();
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          body = text;
        }
        if (response.statusCode >= 400) {
          const error = toApiError(response.statusCode, body);
          output.err(`${pc.red('error')}: ${basename(path)}: ${error.message}\n`);
          for (const detail of error.details) output.err(`  - ${detail.path ? `${detail.path}: ` : ''}${detail.message}\n`);
          failed += 1;
          continue;
        }
        const wheel = body as WheelView;
        stored.push(wheel);
        if (!options.json) output.out(`${response.statusCode === 201 ? pc.green('uploaded') : pc.dim('unchanged')} ${wheel.filename} (${formatBytes(wheel.size)}, sha256 ${wheel.sha256.slice(0, 12)})\n`);
      }
      if (options.json) output.out(`${JSON.stringify(stored, null, 2)}\n`);
      if (failed > 0) throw new CliExit(1);
    });

  wheels
    .command('list')
    .description('List the wheels in the wheelhouse.')
    .option('--name <project>', 'only this project')
    .option('--json', 'print JSON', false)
    .action(async (options: { name?: string; json: boolean }) => {
      const query = options.name ? `?${new URLSearchParams({ name: options.name })}` : '';
      const answer = await client().json<{ wheels: WheelView[] }>('GET', `/api/v1/wheels${query}`);
      if (options.json) {
        output.out(`${JSON.stringify(answer.wheels, null, 2)}\n`);
        return;
      }
      printWheels(output, answer.wheels);
      output.out(`${answer.wheels.length} wheel${answer.wheels.length === 1 ? '' : 's'}\n`);
    });

  wheels
    .command('delete')
    .description('Delete wheels from the wheelhouse.')
    .argument('<filenames...>', 'wheel filenames (as `pitlane wheels list` shows them)')
    .action(async (filenames: string[]) => {
      const api = client();
      for (const filename of filenames) {
        await api.json('DELETE', `/api/v1/wheels/${encodeURIComponent(filename)}`);
        output.out(`deleted ${filename}\n`);
      }
    });

  wheels
    .command('builds')
    .description('List recent wheel builds, or show one with its log.')
    .argument('[id]', 'build id')
    .option('--json', 'print JSON', false)
    .action(async (id: string | undefined, options: { json: boolean }) => {
      const api = client();
      if (!id) {
        const answer = await api.json<{ builds: BuildView[] }>('GET', '/api/v1/wheels/builds');
        if (options.json) {
          output.out(`${JSON.stringify(answer.builds, null, 2)}\n`);
          return;
        }
        output.out(table(['ID', 'STATUS', 'ADDED', 'REUSED', 'CREATED', 'DURATION'], answer.builds.map((b) => [
          b.id, b.status, String(b.wheels_added.length), String(b.wheels_reused.length), b.created_at, b.duration_ms === null ? '' : `${(b.duration_ms / 1000).toFixed(1)}s`,
        ])));
        return;
      }
      const build = await api.json<BuildView>('GET', `/api/v1/wheels/builds/${encodeURIComponent(id)}`);
      if (options.json) {
        output.out(`${JSON.stringify(build, null, 2)}\n`);
        return;
      }
      for (const line of build.log) output.out(`${line}\n`);
      output.err(`${build.status === 'failed' ? pc.red(build.status) : build.status}${build.error ? `: ${build.error.message}` : ''}\n`);
    });
}
