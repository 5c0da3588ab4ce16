/**
 * `pitlane inspect IMAGE|ARCHIVE.tar` (the image report: layers, dive's efficiency and wasted
 * bytes, Pitlane's reclaimable bytes, with `.dive-ci` gates) and `pitlane test-image IMAGE --config
 * tests.yaml` (container-structure-test schema 2.0.0). Both talk to the local Docker engine directly.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliExit, type Output } from './output.js';

/** Registers `inspect` and `test-image`. */
export function registerImageCommands(program: Command, output: Output): void {
  program
    .command('inspect')
    .description("Report on an image's layers: sizes, the instruction that made each, files added/modified/removed, dive's efficiency and wasted bytes, and the bytes a better Dockerfile would reclaim.")
    .argument('<image>', 'image reference on the local engine, or a docker-save / OCI archive file (.tar, .tar.gz)')
    .option('--json', "print dive's export shape (plus Pitlane's fields) as JSON", false)
    .option('--files', 'list the paths each layer added, modified and removed', false)
    .option('--ci', 'apply the CI gates (.dive-ci rules) and exit 1 when one fails', false)
    .option('--ci-config <file>', 'dive CI rules file (default ./.dive-ci when present)')
    .option('--lowest-efficiency <ratio>', 'gate: fail when efficiency is below this (0..1)')
    .option('--highest-wasted-bytes <bytes>', 'gate: fail when wasted bytes exceed this (e.g. 20MB)')
    .option('--highest-user-wasted-percent <ratio>', 'gate: fail when wasted/user size exceeds this (0..1)')
    .action(async (reference: string, options: Record<string, string | boolean | undefined>) => {
      const image = await import('../image/index.js');
      let stream: Readable;
      if (existsSync(reference)) stream = createReadStream(reference);
      else {
        const { default: Docker } = await import('dockerode');
        const docker = new Docker();
        try {
          await docker.getImage(reference).inspect();
        } catch {
          throw new CliExit(1, `no image "${reference}" on the local engine and no such file`);
        }
        stream = (await docker.getImage(reference).get()) as unknown as Readable;
      }
      const report = await image.analyzeImageArchive(stream, { fileLists: Boolean(options.files), diveFileList: Boolean(options.json && options.files) });
      let checks;
      const gateFlags = ['lowestEfficiency', 'highestWastedBytes', 'highestUserWastedPercent'].some((k) => options[k] !== undefined);
      if (options.ci || gateFlags || options.ciConfig) {
        const file = typeof options.ciConfig === 'string' ? options.ciConfig : existsSync('.dive-ci') ? '.dive-ci' : undefined;
        const base = file ? image.parseDiveCiConfig(readFileSync(file, 'utf8')).rules : {};
        const rules: Record<string, unknown> = { ...base };
        if (options.lowestEfficiency !== undefined) rules['lowest-efficiency'] = options.lowestEfficiency;
        if (options.highestWastedBytes !== undefined) rules['highest-wasted-bytes'] = options.highestWastedBytes;
        if (options.highestUserWastedPercent !== undefined) rules['highest-user-wasted-percent'] = options.highestUserWastedPercent;
        checks = image.evaluateImageChecks(report, rules);
      }
      if (options.json) {
        const exported = image.toDiveExport(report) as unknown as Record<string, unknown>;
        output.out(`${JSON.stringify(checks ? { ...exported, checks } : exported, null, 2)}\n`);
      } else output.out(`${image.formatImageReport(report, 'table', checks)}\n`);
      if (checks && !checks.pass) throw new CliExit(1);
    });

  program
    .command('test-image')
    .description('Run container-structure-test tests (schema 2.0.0: commandTests, fileExistenceTests, fileContentTests, metadataTest) against an image.')
    .argument('<image>', 'image reference on the local engine')
    .requiredOption('-c, --config <file>', 'tests file (YAML)')
    .option('--json', 'print the results as JSON', false)
    .action(async (reference: string, options: { config: string; json: boolean }) => {
      const image = await import('../image/index.js');
      const { default: Docker } = await import('dockerode');
      const config = image.parseStructureTests(readFileSync(options.config, 'utf8'));
      const runner = image.createDockerStructureTestRunner(new Docker(), reference);
      let result;
      try {
        result = await image.runStructureTests(config, runner);
      } finally {
        await runner.close();
      }
      if (options.json) output.out(`${JSON.stringify(image.toStructureTestJson(result), null, 2)}\n`);
      else {
        for (const test of result.results) output.out(`${test.skipped ? 'SKIP' : test.pass ? 'PASS' : 'FAIL'} ${test.name}${test.errors.length && !test.pass ? `\n    ${test.errors.join('\n    ')}` : ''}\n`);
        output.out(`${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped (${Math.round(result.duration_ms)} ms)\n`);
      }
      if (!result.pass) throw new CliExit(1);
    });
}
