import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, invalid } from '../../errors/index.js';
import type { Job, JobContext, JobHandler, JobOutcome, JobQueue } from '../../jobs/queue.js';
import type { ConnectionService } from './connections.js';
import { DRIVERS } from './connections.js';
import { checkReadOnlyQuery, quoteTable } from './sql.js';
import { checkUrl, detectFormat, fetchToFile, type UrlPolicy } from './url.js';

export const IMPORT_JOB = 'dataset-import';
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const URL_FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'xlsx'] as const;
export type UrlFormat = (typeof URL_FORMATS)[number];

/** What a source records with the version it produced: where the data came from, never credentials. */
export type SourceInfo = { kind: 'upload' | 'url' | 'connection' | 'images' | 'recipe' } & Record<
  string,
  unknown
>;

/** The part of the dataset service the sources use (DatasetService implements it). */
export interface FileImporter {
  importFile(
    projectId: string,
    name: string,
    file: { path: string; format: UrlFormat },
    options: {
      source: SourceInfo;
      maxBytes?: number;
      onProgress?: (fraction: number, message: string) => void;
      signal?: AbortSignal;
    },
  ): Promise<{ version: { id: string; version: number; contentHash: string }; created: boolean }>;
}

export interface ImportRequest {
  readonly connection?: string | undefined;
  readonly table?: string | undefined;
  readonly query?: string | undefined;
  readonly url?: string | undefined;
  readonly format?: string | undefined;
}

type ImportPayload =
  | {
      projectId: string;
      dataset: string;
      source: 'connection';
      connection: string;
      table?: string;
      query?: string;
    }
  | { projectId: string; dataset: string; source: 'url'; url: string; format?: UrlFormat };

export interface SourceLimits {
  readonly timeoutMs: number;
  readonly maxRows: number;
  readonly maxBytes: number;
}

/**
 * Imports from saved database connections and URLs, as jobs. A request is checked before it is
 * queued (the connection exists, the query is a single SELECT, the URL is allowed); the job
 * streams the rows or bytes to a temporary file, hands it to the dataset service and deletes it.
 * A failed import records nothing, and an unchanged source gives back the existing version.
 */
export class SourceService {
  constructor(
    private readonly datasets: FileImporter,
    private readonly connections: ConnectionService,
    private readonly jobs: JobQueue,
    private readonly policy: UrlPolicy,
    private readonly limits: SourceLimits,
    private readonly workDir: string,
  ) {}

  async submit(projectId: string, dataset: string, request: ImportRequest, createdBy: string): Promise<Job> {
    if (!DATASET_NAME.test(dataset))
      throw invalid(
        'dataset',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    let payload: ImportPayload;
    if (request.connection !== undefined) {
      if (request.url !== undefined) throw invalid('url', 'give either a connection or a url, not both');
      if (request.format !== undefined) throw invalid('format', 'only for a url');
      if ((request.table === undefined) === (request.query === undefined))
        throw invalid(request.table === undefined ? 'table' : 'query', 'give either a table or a query');
      const connection = await this.connections.get(projectId, request.connection);
      if (request.query !== undefined) checkReadOnlyQuery(request.query, connection.kind);
      if (request.table !== undefined) quoteTable(request.table, connection.kind);
      payload = {
        projectId,
        dataset,
        source: 'connection',
        connection: connection.name,
        ...(request.table !== undefined ? { table: request.table } : { query: request.query! }),
      };
    } else if (request.url !== undefined) {
      if (request.table !== undefined || request.query !== undefined)
        throw invalid(request.table !== undefined ? 'table' : 'query', 'only with a connection');
      if (request.format !== undefined && !(URL_FORMATS as readonly string[]).includes(request.format))
        throw invalid('format', `must be one of ${URL_FORMATS.join(', ')}`);
      checkUrl(request.url, this.policy);
      payload = {
        projectId,
        dataset,
        source: 'url',
        url: request.url,
        ...(request.format !== undefined ? { format: request.format as UrlFormat } : {}),
      };
    } else throw invalid('connection', 'give a connection (with a table or a query) or a url');
    // A second attempt only after a crash (an AppError fails at once); re-running is safe: same content, same version.
    return this.jobs.enqueue({ projectId, type: IMPORT_JOB, payload, createdBy, maxAttempts: 2 });
  }

  /** The job handler. Errors keep their catalogue code at the start of the job's error text. */
  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const payload = job.payload as ImportPayload;
    await mkdir(this.workDir, { recursive: true, mode: 0o700 });
    await sweepStale(this.workDir);
    const tmp = join(this.workDir, `${job.id}-${randomBytes(6).toString('hex')}.part`);
    try {
      const outcome =
        payload.source === 'connection'
          ? await this.fromConnection(payload, tmp, ctx)
          : await this.fromUrl(payload, tmp, ctx);
      // The version is recorded: a cancel that comes now cannot undo it.
      return { result: outcome, recorded: true };
    } catch (error) {
      if (error instanceof AppError && !error.message.startsWith(error.code))
        throw new AppError(error.code, `${error.code}: ${error.message}`, error.errors, { cause: error });
      throw error;
    } finally {
      await rm(tmp, { force: true });
    }
  };

  private async fromConnection(
    p: Extract<ImportPayload, { source: 'connection' }>,
    tmp: string,
    ctx: JobContext,
  ) {
    const { connection, spec } = await this.connections.spec(p.projectId, p.connection);
    const sql = p.table !== undefined ? `SELECT * FROM ${quoteTable(p.table, spec.kind)}` : p.query!;
    checkReadOnlyQuery(sql, spec.kind);
    ctx.progress(0.02, `connecting to ${connection.name}`);
    const read = await DRIVERS[spec.kind].read(spec, {
      sql,
      out: tmp,
      limits: { maxRows: this.limits.maxRows, maxBytes: this.limits.maxBytes },
      timeoutMs: this.limits.timeoutMs,
      signal: ctx.signal,
      onRows: (rows) => ctx.progress(0.05, `${rows} rows read`, { rows }),
    });
    if (read.columns.length === 0) throw new AppError('SOURCE_QUERY_FAILED', 'the query returned no columns');
    if (read.rows === 0) throw new AppError('DATASET_EMPTY', 'the query returned no rows: nothing to import');
    ctx.progress(0.5, `${read.rows} rows read; storing`, { rows: read.rows });
    const source: SourceInfo = {
      kind: 'connection',
      connection: connection.name,
      type: spec.kind,
      ...(spec.kind === 'sqlite'
        ? { path: connection.path }
        : { host: connection.host, port: connection.port, database: connection.database }),
      ...(p.table !== undefined ? { table: p.table } : { query: p.query }),
      rows: read.rows,
    };
    const { version, created } = await this.datasets.importFile(
      p.projectId,
      p.dataset,
      { path: tmp, format: 'jsonl' },
      {
        source,
        maxBytes: this.limits.maxBytes,
        onProgress: (fraction, message) => ctx.progress(0.5 + 0.5 * fraction, message),
        signal: ctx.signal,
      },
    );
    return { dataset: p.dataset, version: version.version, versionId: version.id, created, rows: read.rows };
  }

  private async fromUrl(p: Extract<ImportPayload, { source: 'url' }>, tmp: string, ctx: JobContext) {
    ctx.progress(0.02, 'downloading');
    const fetched = await fetchToFile(
      p.url,
      tmp,
      this.policy,
      { maxBytes: this.limits.maxBytes, timeoutMs: this.limits.timeoutMs },
      ctx.signal,
      (bytes, total) =>
        ctx.progress(total ? 0.5 * (bytes / total) : 0.05, `${bytes} bytes downloaded`, { bytes }),
    );
    const format = detectFormat(p.format, fetched.contentType, fetched.finalUrl);
    ctx.progress(0.5, `${fetched.bytes} bytes downloaded; importing as ${format}`);
    const strip = (u: string) => {
      const url = new URL(u);
      // A query string may hold a signed token: kept out of the stored source.
      return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
    };
    const source: SourceInfo = {
      kind: 'url',
      url: strip(fetched.url),
      ...(fetched.finalUrl !== fetched.url ? { finalUrl: strip(fetched.finalUrl) } : {}),
      contentType: fetched.contentType,
      bytes: fetched.bytes,
      ...(fetched.etag ? { etag: fetched.etag } : {}),
      ...(fetched.lastModified ? { lastModified: fetched.lastModified } : {}),
    };
    const { version, created } = await this.datasets.importFile(
      p.projectId,
      p.dataset,
      { path: tmp, format },
      {
        source,
        maxBytes: this.limits.maxBytes,
        onProgress: (fraction, message) => ctx.progress(0.5 + 0.5 * fraction, message),
        signal: ctx.signal,
      },
    );
    return {
      dataset: p.dataset,
      version: version.version,
      versionId: version.id,
      created,
      bytes: fetched.bytes,
      format,
    };
  }
}

/** Temporary files left by a process killed mid-import (a day old or more) are removed. */
async function sweepStale(dir: string): Promise<void> {
  const cutoff = Date.now() - 24 * 3600 * 1000;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < cutoff) await rm(path, { force: true });
  }
}
