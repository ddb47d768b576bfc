import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.js';
import { startPlatform } from './platform.js';

/** `node dist/src/main.js [--host H] [--port P] [--home DIR] [--database-url URL]`: the server. */
export async function serve(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      home: { type: 'string' },
      'database-url': { type: 'string' },
    },
    strict: true,
  });
  let config;
  try {
    config = loadConfig({
      host: values.host,
      port: values.port,
      home: values.home,
      databaseUrl: values['database-url'],
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`mass: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const platform = await startPlatform(config);
  const address = await platform.app.listen({ host: config.host, port: config.port });
  if (platform.adminKey) {
    process.stdout.write(
      `\nMass created the admin user. Its API key is shown this once; keep it safe:\n\n  ${platform.adminKey}\n\n` +
        `  export MASS_API_KEY=${platform.adminKey}\n\n`,
    );
  }
  process.stdout.write(
    `Mass ${platform.services.version} listening on ${address} (data in ${config.home}, API docs at ${address}/docs)\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    platform.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
