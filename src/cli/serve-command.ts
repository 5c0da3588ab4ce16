/** `pitlane serve`: runs the API, gateway and deployment workers until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { Output } from './output.js';

/** Registers `serve`. */
export function registerServeCommand(program: Command, output: Output, env: NodeJS.ProcessEnv, setExit: (wait: Promise<number>) => void): void {
  program
    .command('serve')
    .description('Run the Pitlane server: API, gateway and deployment workers (stops on SIGINT/SIGTERM).')
    .option('--host <host>', 'address to listen on (env PITLANE_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env PITLANE_PORT, default 7300)')
    .option('--data-dir <dir>', 'directory for the database and build contexts (env PITLANE_DATA_DIR, default ./.pitlane)')
    .addHelpText(
      'after',
      '\nOther settings come from environment variables (PITLANE_ADMIN_TOKEN, PITLANE_DOCKER_ACCESS, ...); see the README.\n' +
        'At first start without PITLANE_ADMIN_TOKEN an admin token is generated and printed once.',
    )
    .action(async (options: { host?: string; port?: string; dataDir?: string }) => {
      const { loadConfig } = await import('../config.js');
      const { startServer } = await import('../server.js');
      const config = loadConfig(env, { host: options.host, port: options.port, dataDir: options.dataDir });
      // The key and the admin token are read once: child processes (git, docker) never inherit them.
      for (const name of ['PITLANE_SECRET_KEY', 'PITLANE_ADMIN_TOKEN']) {
        delete env[name];
        delete process.env[name];
      }
      const server = await startServer(config);
      output.err(`Pitlane listening on ${server.url} (data in ${config.dataDir})\n`);
      if (server.generatedToken) {
        output.err(
          `\nAdmin token (shown once, stored only as a hash):\n  ${server.generatedToken}\n` +
            `Use it with:  export PITLANE_URL=${server.url} PITLANE_TOKEN=${server.generatedToken}\n\n`,
        );
      }
      setExit(
        new Promise<number>((resolve) => {
          let stopping = false;
          const stop = (): void => {
            if (stopping) return;
            stopping = true;
            output.err('stopping Pitlane...\n');
            server.close().then(
              () => resolve(0),
              () => resolve(1),
            );
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        }),
      );
    });
}
