/**
 * `pitlane init python3|node|docker-proxy [DIR]`: scaffolds a working job (manifest, code, a sample
 * input) that `pitlane deploy DIR` deploys as it is. Existing files are never overwritten.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliExit, type Output } from './output.js';

/** Files of a scaffold, by path relative to the job directory. Pure: exported for tests. */
export function scaffoldFiles(jobtype: string, name: string): Record<string, string> {
  const input = '{"numbers": [40, 2]}\n';
  switch (jobtype) {
    case 'python3':
      return {
        'job.yaml': `name: ${name}\nowner_email: you@example.com\njobtype: python3\nversion: 0.1.0\njobtype_extra:\n  entrypoint_path: job.py\n  # requirements_path: requirements.txt   # installed from Pitlane's wheelhouse first\n`,
        'job.py': [
          'class Job:',
          '    """Pitlane calls perform(**input) for every POST /api/v1/perform."""',
          '',
          '    def __init__(self):',
          '        # Load models or data here: the job is ready once this returns.',
          '        self.offset = 0',
          '',
          '    def perform(self, numbers: list[float]) -> float:',
          '        """Adds the numbers."""',
          '        return sum(numbers) + self.offset',
          '',
          '    def docs_input_example(self) -> dict:',
          '        return {"numbers": [40, 2]}',
          '',
        ].join('\n'),
        'example-input.json': input,
        '.dockerignore': '.git\n__pycache__\n*.pyc\n',
      };
    case 'node':
      return {
        'job.yaml': `name: ${name}\nowner_email: you@example.com\njobtype: node\nversion: 0.1.0\njobtype_extra:\n  entrypoint_path: job.mjs\n`,
        'job.mjs': [
          '// Pitlane calls perform(input) for every POST /api/v1/perform (it may be async).',
          'export function perform({ numbers }) {',
          "  if (!Array.isArray(numbers)) throw new TypeError('numbers must be a list');",
          '  return numbers.reduce((sum, n) => sum + n, 0);',
          '}',
          '',
          'export const docsInputExample = { numbers: [40, 2] };',
          '',
        ].join('\n'),
        'example-input.json': input,
        '.dockerignore': '.git\nnode_modules\n',
      };
    case 'docker-proxy':
      return {
        'job.yaml': `name: ${name}\nowner_email: you@example.com\njobtype: docker-proxy\nversion: 0.1.0\n`,
        Dockerfile: [
          'FROM debian:bookworm-slim',
          'ARG DEBIAN_FRONTEND=noninteractive',
          'RUN apt-get update \\',
          ' && apt-get install -y --no-install-recommends python3 \\',
          ' && rm -rf /var/lib/apt/lists/*',
          'WORKDIR /app',
          'COPY main.py /app/',
          'USER 65534',
          'EXPOSE 7004',
          'CMD ["python3", "-u", "main.py"]',
          '',
        ].join('\n'),
        'main.py': [
          '"""A docker-proxy job: any HTTP server on 0.0.0.0:7004 with POST /perform (seed 000\'s contract)."""',
          'import json',
          'from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer',
          '',
          '',
          'class Handler(BaseHTTPRequestHandler):',
          '    def do_POST(self):',
          "        length = int(self.headers.get('content-length') or 0)",
          "        data = json.loads(self.rfile.read(length) or b'{}')",
          "        body = json.dumps(sum(data.get('numbers', []))).encode()",
          '        self.send_response(200)',
          "        self.send_header('content-type', 'application/json')",
          "        self.send_header('content-length', str(len(body)))",
          '        self.end_headers()',
          '        self.wfile.write(body)',
          '',
          '    def do_GET(self):',
          '        self.send_response(200)',
          '        self.end_headers()',
          '',
          '',
          "ThreadingHTTPServer(('0.0.0.0', 7004), Handler).serve_forever()",
          '',
        ].join('\n'),
        'example-input.json': input,
        '.dockerignore': '*\n!Dockerfile\n!main.py\n',
      };
    default:
      throw new CliExit(2, `unknown job type "${jobtype}": use python3, node or docker-proxy`);
  }
}

/** Registers `init`. */
export function registerInitCommand(program: Command, output: Output): void {
  program
    .command('init')
    .description('Scaffold a working job: manifest, code and a sample input, ready for pitlane deploy.')
    .argument('<jobtype>', 'python3, node or docker-proxy')
    .argument('[dir]', 'directory to create the job in', '.')
    .option('--name <name>', 'job name (default: the directory name)')
    .action((jobtype: string, dir: string, options: { name?: string }) => {
      const root = resolve(dir);
      const name = (options.name ?? basename(root)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'my-job';
      const files = scaffoldFiles(jobtype, name);
      const clashes = Object.keys(files).filter((file) => existsSync(join(root, file)));
      if (clashes.length > 0) throw new CliExit(1, `not overwriting existing files in ${root}: ${clashes.join(', ')}`);
      mkdirSync(root, { recursive: true });
      for (const [file, content] of Object.entries(files)) writeFileSync(join(root, file), content);
      output.out(
        `Created a ${jobtype} job "${name}" in ${root}:\n${Object.keys(files).map((f) => `  ${f}`).join('\n')}\n\n` +
          `Deploy and call it:\n  pitlane deploy ${dir}\n  pitlane call ${name} < ${join(dir, 'example-input.json')}     # prints 42\n`,
      );
    });
}
