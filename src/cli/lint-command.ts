/**
 * `pitlane lint [FILES...]`: Pitlane's Dockerfile linter (hadolint's DL rules plus Pitlane's PL
 * rules) on local files, with hadolint's configuration (`.hadolint.yaml`), output formats and exit
 * code semantics (non-zero when a finding reaches the failure threshold); `--fix` rewrites what can
 * be fixed safely and `--diff` shows that change without writing.
 */
import type { Command } from 'commander';
import type { FailureThreshold, LintConfig, OutputFormat } from '../dockerfile/index.js';
import { CliExit, type Output } from './output.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `lint`. */
export function registerLintCommand(program: Command, output: Output): void {
  program
    .command('lint')
    .description('Lint Dockerfiles with hadolint\'s rules and Pitlane\'s own (docs/lint-rules.md).')
    .argument('[files...]', 'Dockerfiles to lint', ['Dockerfile'])
    .option('-f, --format <format>', 'tty, json (hadolint\'s rows), sarif, checkstyle or codeclimate')
    .option('-c, --config <file>', 'configuration file (default: .hadolint.yaml found the way hadolint finds it)')
    .option('-t, --failure-threshold <level>', 'exit non-zero when a finding is at least: error, warning, info, style, ignore or none (default info, as hadolint)')
    .option('--ignore <code>', 'rule code to skip (repeatable)', collect, [])
    .option('--trusted-registry <registry>', 'registry FROM may use (repeatable; enables DL3026)', collect, [])
    .option('--fix', 'rewrite what can be fixed safely, keeping comments and formatting', false)
    .option('--diff', 'with --fix: show the change as a unified diff instead of writing it', false)
    .option('--no-color', 'no colours in tty output')
    .addHelpText('after', '\nPragmas: "# hadolint ignore=DL3008" (next instruction), "# hadolint global ignore=...", also spelled "# pitlane ...".')
    .action(async (files: string[], options: { format?: string; config?: string; failureThreshold?: string; ignore: string[]; trustedRegistry: string[]; fix: boolean; diff: boolean; color: boolean }) => {
      const lint = await import('../dockerfile/index.js');
      const helpers = await import('../dockerfile/cli-helpers.js');
      const loaded = helpers.loadLintConfig({ configPath: options.config, cwd: process.cwd() }).config;
      const flags: LintConfig = {};
      if (options.ignore.length > 0) flags.ignored = options.ignore;
      if (options.trustedRegistry.length > 0) flags.trustedRegistries = options.trustedRegistry;
      if (options.failureThreshold) flags.failureThreshold = options.failureThreshold as FailureThreshold;
      if (options.format) flags.format = options.format as OutputFormat;
      const config = lint.mergeLintConfig(loaded, flags);
      const format = (config.format ?? 'tty') as OutputFormat;
      if (!['tty', 'json', 'sarif', 'checkstyle', 'codeclimate'].includes(format)) throw new CliExit(2, `unknown format "${format}"`);
      const threshold = (config.failureThreshold ?? 'info') as FailureThreshold;
      if (!['error', 'warning', 'info', 'style', 'ignore', 'none'].includes(threshold)) throw new CliExit(2, `unknown failure threshold "${threshold}"`);
      let failed = false;
      for (const file of files) {
        if (options.fix) {
          const fixed = helpers.fixFile(file, config, options.diff);
          if (options.diff) {
            output.out(lint.unifiedDiff(fixed.before, fixed.text, file));
            continue;
          }
          output.err(fixed.applied.length > 0 ? `${file}: applied ${fixed.applied.join(', ')}\n` : `${file}: nothing to fix\n`);
        }
        const result = helpers.lintFile(file, config);
        const text = lint.formatFindings(result, format, file, { color: options.color && process.stdout.isTTY });
        if (text) output.out(text.endsWith('\n') ? text : `${text}\n`);
        if (!config.noFail && lint.exceedsThreshold(result.findings, threshold)) failed = true;
      }
      if (failed) throw new CliExit(1);
    });
}
