/**
 * `pitlane run` (submit a one-shot run, stream its output, exit with its exit code like
 * `docker run`: 124 on timeout, 125 when Pitlane itself failed) and `pitlane runs list|show|logs|cancel|results`.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { RunView } from '../runs/index.js';
import { toApiError, type PitlaneClient } from './client.js';
import { CliExit, table, type Output } from './output.js';

/** Parses `60`, `60s`, `5m`, `1h`, `1.5h` into seconds. @throws CliExit 2. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CliExit(2, `"${text}" is not a duration like 60s, 5m or 1h`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value / 1000 : unit === 's' ? value : unit === 'm' ? value * 60 : value * 3600;
}

/** Parses repeated `K=V` options into a map. @throws CliExit 2. */
export function parseKeyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliExit(2, `${flag} takes NAME=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The exit code `pitlane run` ends with for a finished run (docker run's conventions). */
export function exitCodeForRun(run: Pick<RunView, 'status' | 'exit_code'>): number {
  if (run.status === 'succeeded') return 0;
  if (run.status === 'timed_out') return 124;
  if (run.status === 'cancelled') return 130;
  if (run.status === 'failed' && typeof run.exit_code === 'number') return run.exit_code;
  return 125;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** Streams a run's output (stdout lines to stdout, stderr and Pitlane's notes to stderr) until it ends; returns the run. */
async function followRun(api: PitlaneClient, id: string, output: Output, quietSystem: boolean): Promise<RunView> {
  const response = await api.raw('GET', `/api/v1/runs/${id}/logs?follow=true&format=ndjson`);
  if (response.statusCode >= 400) throw toApiError(response.statusCode, JSON.parse(await response.body.text()));
  let pending = '';
  for await (const chunk of response.body) {
    pending += (chunk as Buffer).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (!text) continue;
      const line = JSON.parse(text) as { stream: string; line: string };
      if (line.stream === 'stdout') output.out(`${line.line}\n`);
      else if (line.stream === 'stderr') output.err(`${line.line}\n`);
      else if (!quietSystem) output.err(`${pc.dim(line.line)}\n`);
    }
  }
  for (;;) {
    const run = await api.json<RunView>('GET', `/api/v1/runs/${id}`);
    if (TERMINAL.has(run.status)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Registers `run` and `runs`. */
export function registerRunCommands(program: Command, output: Output, client: () => PitlaneClient): void {
  program
    .command('run')
    .description('Run a Dockerfile (-f) or an image (--image) to completion on Pitlane, streaming its output; exits with its exit code.')
    .option('-f, --file <dockerfile>', 'Dockerfile to build and run')
    .option('--context <dir>', 'build context directory (its .dockerignore is honoured; its Dockerfile is used when -f is not given)')
    .option('--image <image>', 'run this image instead of building')
    .option('--build-arg <name=value>', 'build argument (repeatable)', collect, [])
    .option('-e, --env <name=value>', 'environment variable (repeatable)', collect, [])
    .option('-v, --volume <src:dst[:ro]>', 'mount a named volume or an allowed host path (repeatable)', collect, [])
    .option('--timeout <duration>', 'stop the run after this long (60s, 5m, 1h)')
    .option('--network <mode>', 'none or bridge')
    .option('--workdir <dir>', 'working directory inside the container')
    .option('--results-dir <dir>', 'directory whose files are kept as results', '/data')
    .option('--memory <quantity>', 'memory limit, e.g. 256Mi')
    .option('--cpus <cores>', 'CPU limit, e.g. 0.5')
    .option('-d, --detach', 'print the run id and return at once', false)
    .option('--quiet', "hide Pitlane's own notes (build output)", false)
    .option('--json', 'print the finished run as JSON on stdout (output goes to stderr)', false)
    .argument('[command...]', 'command and arguments (after --)')
    .addHelpText('after', '\nExit codes: the container\'s own, 124 when it timed out, 130 when cancelled, 125 when Pitlane could not run it.\nExample: pitlane run --image busybox:latest -e NAME=x -- sh -c \'echo hello $NAME\'')
    .action(async (command: string[], options: Record<string, unknown>) => {
      const api = client();
      const body: Record<string, unknown> = { results_dir: options.resultsDir };
      if (options.image && (options.file || options.context)) throw new CliExit(2, 'give either --image or -f/--context');
      if (options.image) body.image = options.image;
      else if (options.file || options.context) {
        if (options.file) body.dockerfile = readFileSync(resolve(String(options.file)), 'utf8');
        const { packContextGzip } = await import('../build/context.js');
        if (options.context) body.build_context = (await buffer(packContextGzip(resolve(String(options.context))))).toString('base64');
      } else throw new CliExit(2, 'give -f DOCKERFILE, --context DIR or --image IMAGE');
      const buildArgs = parseKeyValues(options.buildArg as string[], '--build-arg');
      if (Object.keys(buildArgs).length > 0) body.build_args = buildArgs;
      const env = parseKeyValues(options.env as string[], '--env');
      if (Object.keys(env).length > 0) body.env = env;
      if ((options.volume as string[]).length > 0) body.volumes = options.volume;
      if (options.timeout) body.timeout_s = parseDuration(String(options.timeout));
      if (options.network) body.network = options.network;
      if (options.workdir) body.working_dir = options.workdir;
      if (options.memory || options.cpus) body.resources = { ...(options.memory ? { memory_max: options.memory } : {}), ...(options.cpus ? { cpu_max: options.cpus } : {}) };
      if (command.length > 0) body.command = command;
      const submitted = await api.json<{ id: string }>('POST', '/api/v1/runs', body);
      if (options.detach) {
        output.out(`${submitted.id}\n`);
        return;
      }
      if (!options.quiet && !options.json) output.err(pc.dim(`run ${submitted.id}\n`));
      let cancelling = false;
      const onInterrupt = (): void => {
        if (cancelling) process.exit(130);
        cancelling = true;
        output.err('cancelling the run (Ctrl-C again to leave it running)\n');
        void api.json('DELETE', `/api/v1/runs/${submitted.id}`).catch(() => undefined);
      };
      process.on('SIGINT', onInterrupt);
      let run: RunView;
      try {
        run = await followRun(api, submitted.id, options.json ? { out: output.err, err: output.err } : output, Boolean(options.quiet));
      } finally {
        process.off('SIGINT', onInterrupt);
      }
      if (options.json) output.out(`${JSON.stringify(run, null, 2)}\n`);
      else {
        if (run.status !== 'succeeded') output.err(`${pc.red(run.status)}: ${run.error ?? ''}\n`);
        if (run.results.length > 0) {
          output.err(`results (${run.results.length} file${run.results.length === 1 ? '' : 's'}): pitlane runs results ${run.id}\n`);
        }
      }
      throw new CliExit(exitCodeForRun(run));
    });

  const runs = program.command('runs').description('Inspect one-shot runs: list, show, logs, cancel, results.');
  runs
    .command('list')
    .description('List runs, newest first.')
    .option('--status <status>', 'only runs with this status')
    .option('--limit <n>', 'at most this many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print JSON', false)
    .action(async (options: { status?: string; limit: string; offset: string; json: boolean }) => {
      const query = new URLSearchParams({ limit: options.limit, offset: options.offset, ...(options.status ? { status: options.status } : {}) });
      const answer = await client().json<{ runs: RunView[]; total: number }>('GET', `/api/v1/runs?${query}`);
      if (options.json) {
        output.out(`${JSON.stringify(answer, null, 2)}\n`);
        return;
      }
      output.out(table(['ID', 'STATUS', 'EXIT', 'IMAGE', 'CREATED', 'DURATION'], answer.runs.map((r) => [
        r.id, r.status, r.exit_code === null ? '' : String(r.exit_code), r.image ?? '(Dockerfile)', r.created_at, r.duration_ms === null ? '' : `${(r.duration_ms / 1000).toFixed(1)}s`,
      ])));
      output.out(`${answer.runs.length} of ${answer.total}\n`);
    });
  runs
    .command('show')
    .description('Show one run: status, exit code, times, lint findings, results.')
    .argument('<id>', 'run id')
    .option('--json', 'print JSON', false)
    .action(async (id: string, options: { json: boolean }) => {
      const run = await client().json<RunView>('GET', `/api/v1/runs/${encodeURIComponent(id)}`);
      if (options.json) {
        output.out(`${JSON.stringify(run, null, 2)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['id', run.id], ['status', run.status], ['exit code', run.exit_code === null ? '' : String(run.exit_code)], ['error', run.error ?? ''],
        ['image', run.image ?? '(built from a Dockerfile)'], ['image id', run.image_id ?? ''], ['created', run.created_at], ['started', run.started_at ?? ''],
        ['finished', run.finished_at ?? ''], ['duration', run.duration_ms === null ? '' : `${run.duration_ms} ms`], ['lint findings', String(run.lint.length)],
      ];
      output.out(rows.map(([k, v]) => `${k.padEnd(14)} ${v}`).join('\n') + '\n');
      for (const file of run.results as { path: string; size: number; data?: unknown }[]) {
        output.out(`result         ${file.path} (${file.size} bytes)${file.data !== undefined ? ` ${JSON.stringify(file.data).slice(0, 200)}` : ''}\n`);
      }
    });
  runs
    .command('logs')
    .description("Print a run's output (stdout to stdout, stderr to stderr).")
    .argument('<id>', 'run id')
    .option('-f, --follow', 'stream until the run ends', false)
    .option('--json', 'print the stored lines as JSON', false)
    .action(async (id: string, options: { follow: boolean; json: boolean }) => {
      const api = client();
      if (options.follow && !options.json) {
        await followRun(api, id, output, false);
        return;
      }
      const answer = await api.json<{ lines: { stream: string; line: string }[] }>('GET', `/api/v1/runs/${encodeURIComponent(id)}/logs`);
      if (options.json) output.out(`${JSON.stringify(answer, null, 2)}\n`);
      else for (const line of answer.lines) (line.stream === 'stdout' ? output.out : output.err)(`${line.line}\n`);
    });
  runs
    .command('cancel')
    .description('Cancel a run (SIGTERM, then SIGKILL after the grace period).')
    .argument('<id>', 'run id')
    .option('--json', 'print JSON', false)
    .action(async (id: string, options: { json: boolean }) => {
      const run = await client().json<RunView>('DELETE', `/api/v1/runs/${encodeURIComponent(id)}`);
      output.out(options.json ? `${JSON.stringify(run)}\n` : `${run.id} ${run.status}\n`);
    });
  runs
    .command('results')
    .description("List a run's result files, or download one (PATH) to stdout or -o FILE.")
    .argument('<id>', 'run id')
    .argument('[path]', 'result file to download')
    .option('-o, --output <file>', 'write the downloaded file here')
    .option('--json', 'print the list as JSON', false)
    .action(async (id: string, path: string | undefined, options: { output?: string; json: boolean }) => {
      const api = client();
      if (!path) {
        const run = await api.json<RunView>('GET', `/api/v1/runs/${encodeURIComponent(id)}`);
        if (options.json) output.out(`${JSON.stringify(run.results, null, 2)}\n`);
        else output.out(table(['PATH', 'SIZE', 'SHA256'], (run.results as { path: string; size: number; sha256: string }[]).map((f) => [f.path, String(f.size), f.sha256])));
        return;
      }
      const response = await api.raw('GET', `/api/v1/runs/${encodeURIComponent(id)}/results/${path.split('/').map(encodeURIComponent).join('/')}`);
      if (response.statusCode >= 400) throw toApiError(response.statusCode, JSON.parse(await response.body.text()));
      if (options.output) await pipeline(response.body, createWriteStream(options.output));
      else for await (const chunk of response.body) output.out((chunk as Buffer).toString('utf8'));
    });
}
