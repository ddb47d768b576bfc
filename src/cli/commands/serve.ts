import type { Command } from 'commander';
import { describeError } from '../errors.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the Mass server (API, jobs and deployments in one process)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env PORT, default 8080)')
    .option('--home <dir>', 'data folder (env MASS_HOME, default ./.mass)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://... (env DATABASE_URL)')
    .action(async (opts: { host?: string; port?: string; home?: string; databaseUrl?: string }) => {
      const argv: string[] = [];
      if (opts.host !== undefined) argv.push('--host', opts.host);
      if (opts.port !== undefined) argv.push('--port', opts.port);
      if (opts.home !== undefined) argv.push('--home', opts.home);
      if (opts.databaseUrl !== undefined) argv.push('--database-url', opts.databaseUrl);
      // Loaded only here: the client commands start fast and never load the server's dependencies.
      const { serve } = await import('../../main.js');
      try {
        await serve(argv);
      } catch (error) {
        // The half-started platform holds the process open: report and leave.
        const e = error as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE')
          process.stderr.write(
            `mass: cannot start the server: ${e.message.replace(/^listen EADDRINUSE: /, '')} (pick another port with --port)\n`,
          );
        else if (e.code === 'EACCES')
          process.stderr.write(
            `mass: cannot start the server: ${e.message} (ports below 1024 need privileges; use --port)\n`,
          );
        else process.stderr.write(describeError(error));
        process.exit(1);
      }
    });
}
