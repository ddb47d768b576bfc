import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt, type Context } from '../context.js';
import { bytes, date, fields, num, table, type Cell } from '../format.js';
import type { DatasetProfileSchema, RowsPageSchema } from '../../api/schemas.js';
import type { Static } from '@sinclair/typebox';
import type { Dataset, DatasetVersion, DatasetWithVersions, Items } from '../types.js';

type Profile = Static<typeof DatasetProfileSchema>;
type RowsPage = Static<typeof RowsPageSchema>;

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').alias('datasets').description('import and inspect datasets');

  dataset
    .command('import')
    .description(
      'upload a file (CSV, TSV, JSON, JSON Lines, Parquet, Excel .xlsx) as a new version of a dataset',
    )
    .argument('<file>', 'the file; its format comes from the extension unless --format says')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-n, --name <name>', 'dataset name')
    .option('--format <format>', `one of ${FORMATS.join(', ')} (default: from the extension, else csv)`)
    .option('--delimiter <char>', 'CSV field delimiter (default: detected; \\t or tab for a tab)')
    .option('--quote <char>', 'CSV quote character (default ")')
    .option('--no-header', 'the CSV has no header row (columns are named column_1, column_2, ...)')
    .option('--encoding <name>', 'text encoding, e.g. windows-1252 (default: detected)')
    .option('--sheet <name>', 'the sheet of an .xlsx workbook (default: the first)')
    .option('--schema <json>', 'column types to impose, e.g. \'{"zip":"categorical"}\'')
    .action(async (file: string, opts: ImportOptions, cmd: Command) => {
      const ctx = context(cmd);
      const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(
          `cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
        );
      });
      if (!info.isFile()) throw new CliError(`${file} is not a file`);
      const format = opts.format ?? formatOf(file);
      if (!(FORMATS as readonly string[]).includes(format))
        throw new CliError(`--format must be one of ${FORMATS.join(', ')}`);
      // Streamed, never held in memory: datasets can be far larger than the process.
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
      const response = await ctx.client.send('POST', path`/v1/projects/${opts.project}/datasets`, {
        query: {
          name: opts.name,
          ...(format !== 'csv' ? { format } : {}),
          delimiter: opts.delimiter,
          quote: opts.quote,
          ...(opts.header === false ? { header: 'false' } : {}),
          encoding: opts.encoding,
          sheet: opts.sheet,
          schema: opts.schema,
        },
        body: body as globalThis.ReadableStream<Uint8Array>,
        headers: { 'content-type': CONTENT_TYPES[format as Format], 'content-length': String(info.size) },
      });
      const version = (await response.json()) as DatasetVersion;
      ctx.show(version, () =>
        response.status === 201
          ? `Imported ${file} as dataset ${version.dataset} version ${version.version}: ${version.rowCount} rows, ${version.schema.columns.length} columns (${bytes(version.sizeBytes)})\n`
          : `Unchanged: ${file} has the same content as dataset ${version.dataset} version ${version.version}\n`,
      );
    });

  dataset
    .command('profile')
    .description('the profile of a dataset version: per column statistics, duplicates, correlations')
    .argument('<name>', 'dataset name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'dataset version (default: the latest)', positiveInt)
    .action(async (name: string, opts: { project: string; version?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const version = opts.version ?? (await latestVersion(ctx, opts.project, name));
      const profile = await ctx.client.request<Profile>(
        'GET',
        path`/v1/projects/${opts.project}/datasets/${name}/versions/${version}/profile`,
      );
      ctx.show(profile, () => describeProfile(name, version, profile));
    });

  dataset
    .command('preview')
    .description('the first rows of a dataset version, or a random sample')
    .argument('<name>', 'dataset name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'dataset version (default: the latest)', positiveInt)
    .option('--limit <n>', 'rows to show', positiveInt, 20)
    .option('--offset <n>', 'rows to skip', nonNegativeInt)
    .option('--sample <n>', 'a random sample of n rows instead', positiveInt)
    .option('--seed <n>', 'seed of the sample (same seed, same rows)', nonNegativeInt)
    .action(
      async (
        name: string,
        opts: {
          project: string;
          version?: number;
          limit: number;
          offset?: number;
          sample?: number;
          seed?: number;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const version = opts.version ?? (await latestVersion(ctx, opts.project, name));
        const query =
          opts.sample !== undefined
            ? { sample: opts.sample, seed: opts.seed }
            : { limit: opts.limit, offset: opts.offset };
        const page = await ctx.client.request<RowsPage>(
          'GET',
          path`/v1/projects/${opts.project}/datasets/${name}/versions/${version}/rows`,
          { query },
        );
        ctx.show(page, () => {
          const columns = page.columns.map((c) => c.name);
          const rows = page.rows.map((r) => columns.map((c) => preview(r[c])));
          const what =
            opts.sample !== undefined
              ? `${page.rows.length} sampled rows of ${page.total}`
              : `rows ${(opts.offset ?? 0) + 1}-${(opts.offset ?? 0) + page.rows.length} of ${page.total}`;
          return `${name} version ${version}: ${what}\n${table(columns, rows)}`;
        });
      },
    );

  dataset
    .command('list')
    .description('datasets of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<Dataset>>(
        'GET',
        path`/v1/projects/${opts.project}/datasets`,
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No datasets in project ${opts.project}. Import one with: mass dataset import FILE --project ${opts.project} --name NAME\n`
          : table(
              ['name', 'latest', 'created'],
              res.items.map((d) => [d.name, d.latestVersion, date(d.createdAt)]),
            ),
      );
    });

  dataset
    .command('show')
    .description('a dataset version and its schema (default: the latest version)')
    .argument('<name>', 'dataset name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'dataset version', positiveInt)
    .action(async (name: string, opts: { project: string; version?: number }, cmd: Command) => {
      const ctx = context(cmd);
      let version: DatasetVersion;
      let versionCount: number | undefined;
      if (opts.version !== undefined) {
        version = await ctx.client.request<DatasetVersion>(
          'GET',
          path`/v1/projects/${opts.project}/datasets/${name}/versions/${opts.version}`,
        );
      } else {
        const d = await ctx.client.request<DatasetWithVersions>(
          'GET',
          path`/v1/projects/${opts.project}/datasets/${name}`,
        );
        const latest = d.versions[0];
        if (!latest) throw new CliError(`dataset ${name} has no versions yet`);
        version = latest;
        versionCount = d.versions.length;
      }
      ctx.show(version, () => describeVersion(version, versionCount));
    });
}

function describeVersion(v: DatasetVersion, versionCount: number | undefined): string {
  const head = fields([
    [
      'dataset',
      `${v.dataset} version ${v.version}${versionCount !== undefined ? ` (latest of ${versionCount})` : ''}`,
    ],
    ['rows', v.rowCount],
    ['columns', v.schema.columns.length],
    ['size', `${bytes(v.sizeBytes)} (${v.format})`],
    ['sha256', v.contentHash],
    ['source', v.source],
    ['created', date(v.createdAt)],
  ]);
  const schema = table(
    ['column', 'type', 'missing', 'distinct', 'min', 'max'],
    v.schema.columns.map((c) => [
      c.name,
      c.type,
      c.missing,
      c.distinctCapped ? `${c.distinct}+` : c.distinct,
      c.min,
      c.max,
    ]),
  );
  return `${head}\n${schema}`;
}

const FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'xlsx'] as const;
type Format = (typeof FORMATS)[number];
const CONTENT_TYPES: Record<Format, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

interface ImportOptions {
  project: string;
  name: string;
  format?: string;
  delimiter?: string;
  quote?: string;
  header?: boolean;
  encoding?: string;
  sheet?: string;
  schema?: string;
}

function formatOf(file: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'ndjson' || ext === 'jsonl') return 'jsonl';
  if (ext === 'json' || ext === 'parquet' || ext === 'xlsx') return ext;
  return 'csv';
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`expected a whole number ≥ 0, got ${value}`);
  return n;
}

async function latestVersion(ctx: Context, project: string, name: string): Promise<number> {
  const d = await ctx.client.request<DatasetWithVersions>(
    'GET',
    path`/v1/projects/${project}/datasets/${name}`,
  );
  const latest = d.versions[0];
  if (!latest) throw new CliError(`dataset ${name} has no versions yet`);
  return latest.version;
}

function preview(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  const s = String(value);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

function describeProfile(name: string, version: number, p: Profile): string {
  const head = fields([
    ['dataset', `${name} version ${version}`],
    ['rows', p.rowCount],
    ['duplicate rows', p.duplicateRows],
  ]);
  const columns = table(
    ['column', 'type', 'missing', 'distinct', 'min', 'max', 'mean', 'std', 'median', 'top values'],
    p.columns.map((c) => [
      c.name,
      c.type,
      `${num(c.missingShare * 100)}%`,
      c.distinctApprox ? `~${c.distinct}` : c.distinct,
      typeof c.min === 'string' ? date(c.min) : c.min,
      typeof c.max === 'string' ? date(c.max) : c.max,
      c.mean,
      c.std,
      c.quantiles?.p50,
      c.top
        ? preview(
            c.top
              .slice(0, 3)
              .map((t) => `${String(t.value)} (${t.count})`)
              .join(', '),
          )
        : undefined,
    ]),
  );
  const corr = p.correlations;
  const strongest: [string, string, number][] = [];
  corr.matrix.forEach((row, i) =>
    row.forEach((v, j) => {
      if (j > i && v !== null) strongest.push([corr.columns[i]!, corr.columns[j]!, v]);
    }),
  );
  strongest.sort((a, b) => Math.abs(b[2]) - Math.abs(a[2]));
  const pairs =
    strongest.length === 0
      ? ''
      : `\nstrongest correlations (of ${corr.columns.length} numeric columns, ${corr.rows} rows):\n${table(
          ['column', 'column', 'pearson r'],
          strongest.slice(0, 10).map(([a, b, v]) => [a, b, v]),
        )}`;
  return `${head}\n${columns}${pairs}`;
}
