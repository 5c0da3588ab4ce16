/** `pitlane list | describe | call | logs | build-logs | delete`: reading and calling deployed jobs. */
import { text as readText } from 'node:stream/consumers';
import type { Command } from 'commander';
import type { JobView } from '../deploy/index.js';
import { toApiError, type PitlaneClient } from './client.js';
import { CliExit, table, type Output } from './output.js';

/** Splits `NAME[@VERSION]`. */
export function parseJobReference(reference: string, version?: string): { name: string; version: string } {
  const at = reference.indexOf('@');
  if (at === -1) return { name: reference, version: version ?? 'latest' };
  return { name: reference.slice(0, at), version: reference.slice(at + 1) || 'latest' };
}

/** Pipes a streaming text response to the output until it ends. */
async function pipeText(body: AsyncIterable<Buffer | string>, output: Output): Promise<void> {
  for await (const chunk of body) output.out(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
}

/** Registers the job commands. */
export function registerJobCommands(program: Command, output: Output, client: () => PitlaneClient, stdin: () => NodeJS.ReadableStream): void {
  program
    .command('list')
    .description('List deployed job versions.')
    .option('--json', 'print JSON', false)
    .action(async (options: { json: boolean }) => {
      const { jobs } = await client().json<{ jobs: JobView[] }>('GET', '/api/v1/jobs');
      if (options.json) {
        output.out(`${JSON.stringify(jobs, null, 2)}\n`);
        return;
      }
      if (jobs.length === 0) {
        output.out('no jobs deployed\n');
        return;
      }
      output.out(
        table(
          ['NAME', 'VERSION', 'STATUS', 'TYPE', 'REPLICAS', 'DEPLOYED'],
          jobs.map((j) => [j.name, j.version, j.status, j.jobtype, String(j.replicas.length), j.deployed_at]),
        ),
      );
    });

  program
    .command('describe')
    .description('Show one job version (NAME, NAME@VERSION, NAME@latest, NAME@1.x).')
    .argument('<job>', 'NAME[@VERSION]')
    .option('--json', 'print JSON', false)
    .action(async (reference: string, options: { json: boolean }) => {
      const { name, version } = parseJobReference(reference);
      const job = await client().json<JobView>('GET', `/api/v1/jobs/${encodeURIComponent(name)}/${encodeURIComponent(version)}`);
      if (options.json) {
        output.out(`${JSON.stringify(job, null, 2)}\n`);
        return;
      }
      const lines = [
        ['name', job.name],
        ['version', job.version],
        ['status', job.status + (job.status_reason ? ` (${job.status_reason})` : '')],
        ['job type', job.jobtype],
        ['image', `${job.image_tag} ${job.image_id}`],
        ['deployment', job.deployment_id],
        ['deployed at', job.deployed_at],
        ['url', `${client().settings.url}${job.url}/api/v1/...`],
        ['replicas', job.replicas.map((r) => `#${r.replica_index} ${r.container_id.slice(0, 12)} ${r.address ?? 'no address'}`).join(', ')],
      ];
      output.out(lines.map(([k, v]) => `${(k ?? '').padEnd(12)} ${v}`).join('\n') + '\n');
    });

  program
    .command('call')
    .description('Call a job through the gateway and print its answer (JSON body from --data or stdin).')
    .argument('<name>', 'job name')
    .argument('[version]', 'exact version, latest, or a wildcard like 1.x', 'latest')
    .option('--data <json>', 'request body (JSON); read from stdin when omitted and stdin is not a terminal')
    .option('--path <path>', 'path under the job', '/api/v1/perform')
    .option('-X, --method <method>', 'HTTP method', 'POST')
    .option('--json', 'print the whole answer as JSON (status, headers, body)', false)
    .action(async (name: string, version: string, options: { data?: string; path: string; method: string; json: boolean }) => {
      let body = options.data;
      const input = stdin() as NodeJS.ReadStream;
      if (body === undefined && options.method !== 'GET' && !input.isTTY) body = await readText(input);
      if (body !== undefined && body.trim() !== '') {
        try {
          JSON.parse(body);
        } catch (error) {
          throw new CliExit(2, `--data is not valid JSON: ${(error as Error).message}`);
        }
      }
      const path = options.path.startsWith('/') ? options.path : `/${options.path}`;
      const response = await client().raw(options.method.toUpperCase(), `/pub/job/${encodeURIComponent(name)}/${encodeURIComponent(version)}${path}`, {
        body: body && body.trim() !== '' ? body : undefined,
        headers: body ? { 'content-type': 'application/json' } : {},
      });
      const text = await response.body.text();
      if (options.json) {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        output.out(`${JSON.stringify({ status: response.statusCode, request_id: response.headers['x-request-id'], body: parsed }, null, 2)}\n`);
        if (response.statusCode >= 400) throw new CliExit(1);
        return;
      }
      if (response.statusCode >= 400) {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        throw toApiError(response.statusCode, parsed);
      }
      output.out(text.endsWith('\n') ? text : `${text}\n`);
    });

  program
    .command('logs')
    .description("Print a job version's container output.")
    .argument('<name>', 'job name')
    .argument('[version]', 'exact version, latest, or a wildcard', 'latest')
    .option('-f, --follow', 'keep streaming new output', false)
    .option('--tail <lines>', 'number of lines from the end', '100')
    .option('--replica <index>', 'replica index', '0')
    .option('--json', 'print the lines as a JSON array (not with --follow)', false)
    .action(async (name: string, version: string, options: { follow: boolean; tail: string; replica: string; json: boolean }) => {
      const query = `tail=${encodeURIComponent(options.tail)}&follow=${options.follow && !options.json}&replica=${encodeURIComponent(options.replica)}`;
      const response = await client().raw('GET', `/api/v1/jobs/${encodeURIComponent(name)}/${encodeURIComponent(version)}/logs?${query}`);
      if (response.statusCode >= 400) throw toApiError(response.statusCode, JSON.parse(await response.body.text()));
      if (options.json) {
        const lines = (await response.body.text()).split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        output.out(`${JSON.stringify(lines)}\n`);
        return;
      }
      await pipeText(response.body, output);
    });

  program
    .command('build-logs')
    .description('Print the build log of a deployment.')
    .argument('<deployment-id>', 'deployment id')
    .option('-f, --follow', 'stream until the deployment ends', false)
    .option('--json', 'print JSON lines with ids and times', false)
    .action(async (id: string, options: { follow: boolean; json: boolean }) => {
      if (options.follow && !options.json) {
        const response = await client().raw('GET', `/api/v1/deploy/${encodeURIComponent(id)}/logs?follow=true`);
        if (response.statusCode >= 400) throw toApiError(response.statusCode, JSON.parse(await response.body.text()));
        await pipeText(response.body, output);
        return;
      }
      const answer = await client().json<{ status: string; lines: { id: number; time: string; line: string }[] }>(
        'GET',
        `/api/v1/deploy/${encodeURIComponent(id)}/logs`,
      );
      if (options.json) output.out(`${JSON.stringify(answer, null, 2)}\n`);
      else output.out(answer.lines.map((l) => `${l.line}\n`).join(''));
    });

  program
    .command('delete')
    .description("Delete a job version: its containers and image tags.")
    .argument('<name>', 'job name')
    .argument('<version>', 'exact version')
    .option('--json', 'print JSON', false)
    .action(async (name: string, version: string, options: { json: boolean }) => {
      const answer = await client().json<unknown>('DELETE', `/api/v1/jobs/${encodeURIComponent(name)}/${encodeURIComponent(version)}`);
      output.out(options.json ? `${JSON.stringify(answer)}\n` : `deleted ${name} ${version}\n`);
    });
}
