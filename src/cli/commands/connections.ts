import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt } from '../context.js';
import { date, table } from '../format.js';
import type { Job } from '../types.js';
import { reportJob, waitForJob } from '../wait.js';

interface Connection {
  name: string;
  kind: string;
  host: string | null;
  port: number | null;
  database: string | null;
  user: string | null;
  path: string | null;
  ssl: { mode: string; hasCa: boolean };
  hasPassword: boolean;
  createdAt: string;
}

interface AddOptions {
  project: string;
  kind: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  path?: string;
  ssl?: string;
  sslCa?: string;
  passwordEnv?: string;
  passwordStdin?: boolean;
}

/** The password from an environment variable or stdin: never a command-line argument (ps, shell history). */
function readPassword(opts: AddOptions): string | undefined {
  if (opts.passwordStdin) {
    const text = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (text === '') throw new CliError('--password-stdin: nothing was read from stdin');
    return text;
  }
  const variable = opts.passwordEnv ?? 'MASS_CONNECTION_PASSWORD';
  const value = process.env[variable];
  if (opts.passwordEnv !== undefined && value === undefined) throw new CliError(`${variable} is not set`);
  return value === '' ? undefined : value;
}

function where(c: Connection): string {
  return c.kind === 'sqlite'
    ? (c.path ?? '')
    : `${c.user ?? ''}@${c.host ?? ''}:${c.port ?? ''}/${c.database ?? ''}`;
}

/** `mass connections ...` and `mass dataset import-from` (registered on the existing dataset command). */
export function registerConnectionCommands(program: Command): void {
  const connections = program
    .command('connections')
    .alias('connection')
    .description('saved database connections (PostgreSQL, MySQL/MariaDB, SQLite) of a project');

  connections
    .command('add')
    .description(
      'save a connection; the password comes from $MASS_CONNECTION_PASSWORD, --password-env or --password-stdin',
    )
    .argument('<name>', 'connection name')
    .requiredOption('-p, --project <project>', 'project name')
    .addOption(
      new Option('--kind <kind>', 'database kind')
        .choices(['postgres', 'mysql', 'sqlite'])
        .makeOptionMandatory(),
    )
    .option('--host <host>', 'server host (postgres, mysql)')
    .option('--port <port>', 'server port (default 5432 / 3306)', positiveInt)
    .option('--database <database>', 'database name')
    .option('--user <user>', 'user name (use one that may only read)')
    .option('--path <file>', 'sqlite: absolute path of a file inside MASS_SQLITE_SOURCE_DIRS on the server')
    .addOption(
      new Option('--ssl <mode>', 'TLS: disable, require, verify (default disable)').choices([
        'disable',
        'require',
        'verify',
      ]),
    )
    .option('--ssl-ca <file>', 'PEM file of the certificate authority to trust (with --ssl verify)')
    .option('--password-env <variable>', 'read the password from this environment variable')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, opts: AddOptions, cmd: Command) => {
      const ctx = context(cmd);
      const password = opts.kind === 'sqlite' ? undefined : readPassword(opts);
      const ssl =
        opts.ssl !== undefined || opts.sslCa !== undefined
          ? { mode: opts.ssl, ...(opts.sslCa ? { ca: readFileSync(opts.sslCa, 'utf8') } : {}) }
          : undefined;
      const created = await ctx.client.request<Connection>(
        'POST',
        path`/v1/projects/${opts.project}/connections`,
        {
          json: {
            name,
            kind: opts.kind,
            host: opts.host,
            port: opts.port,
            database: opts.database,
            user: opts.user,
            path: opts.path,
            password,
            ssl,
          },
        },
      );
      ctx.show(
        created,
        () =>
          `Saved connection ${created.name} (${created.kind} ${where(created)})${created.hasPassword ? ', password encrypted' : ''}\n`,
      );
    });

  connections
    .command('list')
    .description('connections of a project (passwords are never shown)')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: Connection[] }>(
        'GET',
        path`/v1/projects/${opts.project}/connections`,
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No connections in project ${opts.project}. Add one with: mass connections add NAME --project ${opts.project} --kind postgres ...\n`
          : table(
              ['name', 'kind', 'where', 'ssl', 'password', 'created'],
              res.items.map((c) => [
                c.name,
                c.kind,
                where(c),
                c.ssl.mode,
                c.hasPassword ? 'set' : '-',
                date(c.createdAt),
              ]),
            ),
      );
    });

  connections
    .command('test')
    .description('connect and print the server version, or why the connection fails')
    .argument('<name>', 'connection name')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (name: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ connection: string; version: string; ms: number }>(
        'POST',
        path`/v1/projects/${opts.project}/connections/${name}/test`,
      );
      ctx.show(res, () => `Connected to ${res.connection} in ${res.ms} ms: ${res.version}\n`);
    });

  connections
    .command('remove')
    .alias('rm')
    .description('delete a connection (datasets imported through it stay)')
    .argument('<name>', 'connection name')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (name: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.request('DELETE', path`/v1/projects/${opts.project}/connections/${name}`);
      ctx.show({ removed: name }, () => `Removed connection ${name}\n`);
    });

  const dataset = program.commands.find((c) => c.name() === 'dataset');
  if (!dataset) throw new Error('register the dataset commands before the connection commands');
  dataset
    .command('import-from')
    .description(
      'import a new dataset version from a saved connection (--table or --query) or a URL, as a job',
    )
    .argument('<dataset>', 'dataset name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--connection <name>', 'saved connection')
    .option('--table <table>', 'table (or schema.table) to import whole')
    .option('--query <sql>', 'one read-only SELECT or WITH query')
    .option(
      '--from-url <url>',
      'an http(s) file (CSV, TSV, JSON, JSON Lines, Parquet, xlsx); --url is the Mass server',
    )
    .addOption(
      new Option('--format <format>', 'the URL file format (default: from its Content-Type or name)').choices(
        ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'xlsx'],
      ),
    )
    .option('--no-wait', 'print the queued job and return at once')
    .action(
      async (
        name: string,
        opts: {
          project: string;
          connection?: string;
          table?: string;
          query?: string;
          fromUrl?: string;
          format?: string;
          wait: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        if ((opts.connection === undefined) === (opts.fromUrl === undefined))
          throw new CliError('give either --connection (with --table or --query) or --from-url');
        if (opts.connection !== undefined && (opts.table === undefined) === (opts.query === undefined))
          throw new CliError('with --connection, give either --table or --query');
        const job = await ctx.client.request<Job>(
          'POST',
          path`/v1/projects/${opts.project}/datasets/${name}/import`,
          {
            json: {
              connection: opts.connection,
              table: opts.table,
              query: opts.query,
              url: opts.fromUrl,
              format: opts.format,
            },
          },
        );
        if (!opts.wait) {
          ctx.show(
            job,
            () =>
              `Queued import job ${job.id}. Follow it with: mass jobs wait ${job.id} --project ${opts.project}\n`,
          );
          return;
        }
        if (!ctx.json) process.stderr.write(`Import job ${job.id} queued\n`);
        const done = await waitForJob(ctx.client, opts.project, job.id);
        if (done.status !== 'succeeded' || ctx.json) return reportJob(ctx, done);
        const r = done.result as {
          dataset: string;
          version: number;
          created: boolean;
          rows?: number;
          bytes?: number;
        };
        ctx.out(
          r.created
            ? `Imported dataset ${r.dataset} version ${r.version}${r.rows !== undefined ? `: ${r.rows} rows` : ''}\n`
            : `Unchanged: the source has the same content as dataset ${r.dataset} version ${r.version}\n`,
        );
      },
    );
}
