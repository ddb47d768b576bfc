import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import type { SweepReport } from '../../store/sweep.js';
import { CliError } from '../client.js';
import { context, number } from '../context.js';
import { bytes, date } from '../format.js';

function hours(value: string): number {
  const n = number(value);
  if (n < 0) throw new InvalidArgumentError('must be a number of hours ≥ 0.');
  return n;
}

function describeSweep(r: SweepReport): string {
  const files = (t: { count: number; bytes: number }) =>
    `${t.count} file${t.count === 1 ? '' : 's'} (${bytes(t.bytes)})`;
  const grace = `${Math.round((r.graceSeconds / 3600) * 100) / 100} h`;
  const head = r.dryRun ? `Dry run: would delete ${files(r.unreferenced)}` : `Deleted ${files(r.deleted)}`;
  let text =
    `${head}: referenced by nothing and last written before ${date(r.cutoff)} (grace ${grace}).\n` +
    `Kept ${files(r.referenced)} referenced and ${files(r.young)} younger than the grace period, of ${files(r.stored)} stored.\n`;
  if (!r.dryRun && r.deleted.count < r.unreferenced.count)
    text += `${r.unreferenced.count - r.deleted.count} file(s) were written again during the sweep and kept.\n`;
  if (r.missing > 0)
    text += `Warning: ${r.missing} referenced file(s) are missing from the artifact store.\n`;
  return text;
}

/** Site administration of the artifact store. */
export function registerArtifactCommands(program: Command): void {
  const artifacts = program.command('artifacts').description('the artifact store (site admin)');
  artifacts
    .command('sweep')
    .description('delete stored files that nothing references and that are older than the grace period')
    .option('--dry-run', 'count what would be deleted; delete nothing')
    .option(
      '--grace-hours <h>',
      'keep unreferenced files younger than this (default 24; at least 1 via the server)',
      hours,
    )
    .option('--home <dir>', 'sweep offline, opening the database and artifacts of this data folder directly')
    .option('--database-url <url>', 'with --home: the metadata database (default sqlite:<home>/mass.db)')
    .action(
      async (
        opts: { dryRun?: boolean; graceHours?: number; home?: string; databaseUrl?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        let report: SweepReport;
        if (opts.home) {
          report = await sweepOffline(opts.home, opts.databaseUrl, {
            dryRun: opts.dryRun === true,
            graceMs: opts.graceHours === undefined ? undefined : opts.graceHours * 3_600_000,
          });
        } else {
          if (opts.databaseUrl) throw new CliError('--database-url needs --home');
          report = await ctx.client.request<SweepReport>('POST', '/v1/admin/artifacts/sweep', {
            json: {
              ...(opts.dryRun ? { dryRun: true } : {}),
              ...(opts.graceHours !== undefined ? { graceHours: opts.graceHours } : {}),
            },
          });
        }
        ctx.show(report, () => describeSweep(report));
      },
    );
}

/** The same sweep as the server's, composed here from the data folder (loaded lazily: client commands stay fast). */
async function sweepOffline(
  home: string,
  databaseUrl: string | undefined,
  options: { dryRun: boolean; graceMs: number | undefined },
): Promise<SweepReport> {
  const [{ loadConfig }, { openMetadataStore }, { FsArtifactStore }, { sweepArtifacts }] = await Promise.all([
    import('../../config/config.js'),
    import('../../store/open.js'),
    import('../../store/fs/index.js'),
    import('../../store/sweep.js'),
  ]);
  const [{ DataEngine }, { DatasetService }, { ImageService, imageLimitsOf }, { imageFileReferences }] =
    await Promise.all([
      import('../../data/engine.js'),
      import('../../data/service.js'),
      import('../../data/sources/images.js'),
      import('../../data/sources/image-references.js'),
    ]);
  let config;
  try {
    config = loadConfig({ home, databaseUrl: databaseUrl ?? `sqlite:${join(home, 'mass.db')}` });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  // Opening a SQLite path that is not there would create an empty database, and against an empty
  // database every stored file looks unreferenced.
  const sqlite = config.databaseUrl.startsWith('sqlite:')
    ? config.databaseUrl.slice('sqlite:'.length)
    : undefined;
  if (sqlite !== undefined && !existsSync(sqlite.startsWith('//') ? fileURLToPath(`file:${sqlite}`) : sqlite))
    throw new CliError(`no database at ${config.databaseUrl}: give the data folder of a Mass installation`);
  if (!existsSync(join(config.home, 'artifacts')))
    throw new CliError(`no artifact folder at ${join(config.home, 'artifacts')}`);
  const store = openMetadataStore(config.databaseUrl);
  const engine = new DataEngine({
    home: config.home,
    memoryLimit: config.dataMemoryLimit,
    threads: config.dataThreads,
  });
  try {
    const artifacts = new FsArtifactStore(join(config.home, 'artifacts'));
    const datasets = new DatasetService(store, artifacts, engine);
    const images = new ImageService(
      datasets,
      artifacts,
      engine,
      imageLimitsOf(config),
      join(config.home, 'tmp', 'sources'),
    );
    return await sweepArtifacts(store, artifacts, {
      references: [imageFileReferences(datasets, images)],
      ...options,
    });
  } catch (error) {
    // Refusals, an unreadable image version, a database without Mass's tables: said in one line.
    throw new CliError(`cannot sweep: ${(error as Error).message}`);
  } finally {
    await engine.close();
    await store.close();
  }
}
