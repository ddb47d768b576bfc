import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt } from '../context.js';
import { bytes, date, fields, table } from '../format.js';
import type { Dataset, DatasetVersion, DatasetWithVersions, Items } from '../types.js';

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').alias('datasets').description('import and inspect datasets');

  dataset
    .command('import')
    .description('upload a CSV file as a new version of a dataset')
    .argument('<file>', 'CSV file with a header row')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-n, --name <name>', 'dataset name')
    .action(async (file: string, opts: { project: string; name: string }, cmd: Command) => {
      const ctx = context(cmd);
      const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(
          `cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
        );
      });
      if (!info.isFile()) throw new CliError(`${file} is not a file`);
      // Streamed, never held in memory: datasets can be far larger than the process.
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
      const response = await ctx.client.send('POST', path`/v1/projects/${opts.project}/datasets`, {
        query: { name: opts.name },
        body: body as globalThis.ReadableStream<Uint8Array>,
        headers: { 'content-type': 'text/csv', 'content-length': String(info.size) },
      });
      const version = (await response.json()) as DatasetVersion;
      ctx.show(version, () =>
        response.status === 201
          ? `Imported ${file} as dataset ${version.dataset} version ${version.version}: ${version.rowCount} rows, ${version.schema.columns.length} columns (${bytes(version.sizeBytes)})\n`
          : `Unchanged: ${file} has the same content as dataset ${version.dataset} version ${version.version}\n`,
      );
    });

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
