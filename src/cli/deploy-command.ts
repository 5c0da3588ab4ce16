/**
 * `pitlane deploy [DIR]`: sends the manifest (DIR/job.yaml or DIR/fatman.yaml) and DIR as the build
 * context (tar.gz honouring .dockerignore), or only the manifest with `--git URL` or when the
 * manifest names an `image`; then follows the deployment phase by phase until it ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Command } from 'commander';
import pc from 'picocolors';
import { toApiError, type PitlaneClient } from './client.js';
import { CliExit, type Output } from './output.js';

interface DeploymentAnswer {
  id: string;
  status: string;
  phase: string;
  warnings: string[];
  error: string | null;
  lint?: { code: string; severity: string; message: string; line: number; column: number }[];
  job?: { name: string; version: string; url: string; status: string };
}

/** Finds the manifest file of a job directory. @throws CliExit 2 when there is none. */
export function findManifest(dir: string, explicit?: string): string {
  if (explicit) return resolve(explicit);
  for (const name of ['job.yaml', 'job.yml', 'fatman.yaml', 'fatman.yml']) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new CliExit(2, `no job.yaml or fatman.yaml in ${dir} (use --manifest FILE)`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Registers `deploy`. */
export function registerDeployCommand(program: Command, output: Output, client: () => PitlaneClient): void {
  program
    .command('deploy')
    .description('Deploy a job: upload DIR (default .) with its manifest, or deploy from git or a pre-built image, and follow the deployment.')
    .argument('[dir]', 'job directory holding job.yaml or fatman.yaml and the build context', '.')
    .option('--manifest <file>', 'manifest file (default DIR/job.yaml, then DIR/fatman.yaml)')
    .option('--git <url>', 'build from this git repository (overrides git.remote) instead of uploading DIR')
    .option('--branch <branch>', 'git branch with --git (overrides git.branch)')
    .option('--force', 'redeploy a version that is already deployed', false)
    .option('--no-wait', 'print the deployment id and return without following it')
    .option('--verbose', 'print the build log as it comes', false)
    .option('--json', 'print the final deployment as JSON', false)
    .action(async (dir: string, options: { manifest?: string; git?: string; branch?: string; force: boolean; wait: boolean; verbose: boolean; json: boolean }) => {
      const api = client();
      const root = resolve(dir);
      const manifestPath = findManifest(root, options.manifest);
      const { parseDocument } = await import('yaml');
      let manifestText = readFileSync(manifestPath, 'utf8');
      const document = parseDocument(manifestText);
      if (options.git) {
        document.setIn(['git', 'remote'], options.git);
        if (options.branch) document.setIn(['git', 'branch'], options.branch);
        manifestText = document.toString();
      }
      const plain = (document.toJS() ?? {}) as { image?: string; dockerfile_path?: string; docker?: { dockerfile_path?: string } };
      const dockerfile = plain.dockerfile_path ?? plain.docker?.dockerfile_path ?? 'Dockerfile';
      const form = new FormData();
      form.set('manifest', manifestText);
      if (options.force) form.set('force', 'true');
      if (!options.git && !plain.image) {
        const { packContextGzip } = await import('../build/context.js');
        const archive = await buffer(packContextGzip(root, dockerfile));
        form.set('build_context', new Blob([archive], { type: 'application/gzip' }), 'context.tar.gz');
        if (!options.json) output.err(`${pc.dim(`uploading ${root} (${archive.length} bytes)`)}\n`);
      }
      const response = await api.raw('POST', '/api/v1/deploy', { body: form });
      const answerText = await response.body.text();
      const answer = (answerText ? JSON.parse(answerText) : {}) as DeploymentAnswer;
      if (response.statusCode >= 400) throw toApiError(response.statusCode, answer);
      for (const warning of answer.warnings ?? []) output.err(`${pc.yellow('warning')}: ${warning}\n`);
      if (!options.wait) {
        output.out(options.json ? `${JSON.stringify(answer)}\n` : `${answer.id}\n`);
        return;
      }
      if (!options.json) output.err(`deployment ${answer.id}\n`);
      let phase = '';
      let cursor = 0;
      const recent: string[] = [];
      let final: DeploymentAnswer;
      for (;;) {
        const logs = await api.json<{ lines: { id: number; line: string }[] }>('GET', `/api/v1/deploy/${answer.id}/logs?after=${cursor}`);
        for (const line of logs.lines) {
          cursor = line.id;
          recent.push(line.line);
          if (recent.length > 30) recent.shift();
          if (options.verbose && !options.json) output.err(`${pc.dim(`  │ ${line.line}`)}\n`);
        }
        const current = await api.json<DeploymentAnswer>('GET', `/api/v1/deploy/${answer.id}`);
        if (current.phase !== phase) {
          phase = current.phase;
          if (!options.json && phase !== 'done' && phase !== 'failed') output.err(`${pc.cyan('→')} ${phase.replace(/_/g, ' ')}\n`);
        }
        if (current.status === 'done' || current.status === 'failed') {
          final = current;
          break;
        }
        // Two small local requests per poll; 50 ms keeps the end of a fast redeploy from waiting.
        await sleep(50);
      }
      if (options.json) output.out(`${JSON.stringify(final, null, 2)}\n`);
      if (!options.json && final.lint && final.lint.length > 0) {
        const colour = (severity: string): ((text: string) => string) => (severity === 'error' ? pc.red : severity === 'warning' ? pc.yellow : pc.dim);
        output.err(`lint: ${final.lint.length} finding${final.lint.length === 1 ? '' : 's'} in ${dockerfile}\n`);
        for (const f of final.lint) output.err(`  ${dockerfile}:${f.line}:${f.column} ${f.code} ${colour(f.severity)(f.severity)}: ${f.message}\n`);
      }
      if (final.status === 'failed') {
        if (!options.json) {
          if (!options.verbose && recent.length > 0) output.err(`${pc.dim(recent.slice(-15).map((l) => `  │ ${l}`).join('\n'))}\n`);
          output.err(`${pc.red('✗ deployment failed')}: ${final.error ?? 'unknown error'}\n`);
        }
        throw new CliExit(1);
      }
      if (!options.json && final.job) {
        const url = `${api.settings.url}${final.job.url}/api/v1/perform`;
        output.err(`${pc.green('✓')} ${final.job.name} ${final.job.version} is serving\n`);
        output.out(`URL: ${url}\n`);
        output.out(`Call it: curl -sS -X POST -H "Authorization: Bearer $PITLANE_TOKEN" -H 'Content-Type: application/json' -d '{}' ${url}\n`);
      }
    });
}
