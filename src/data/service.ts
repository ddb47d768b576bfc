import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError, invalid, notFound } from '../errors/index.js';
import type { ArtifactStore, ArtifactWriter } from '../store/artifacts.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { convertToParquet, recastParquet, cleanText, type SourceSpec, type StoredColumn } from './convert.js';
import { quoteIdent, quoteLiteral, type DataEngine } from './engine.js';
import {
  detectEncoding,
  checkFileSize,
  FILE_FORMATS,
  readHead,
  settleDialect,
  sniffMagic,
  transcodeToUtf8,
  type CsvOptions,
  type FileFormat,
} from './input.js';
import { backgroundSha256 } from './hasher.js';
import { profileParquet, type DatasetProfile } from './profile.js';
import { readRows, sampleRows, type RowsPage } from './rows.js';
import { COLUMN_TYPES, type ColumnType, type DatasetSchema } from './schema.js';
import { xlsxToCsv } from './xlsx.js';

export type { FileFormat } from './input.js';
export type { DatasetProfile } from './profile.js';

export interface Dataset {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly latestVersion: number | null;
}

/** Where a version came from; stored as JSON with the version (never credentials). */
export interface SourceInfo {
  readonly kind: 'upload' | 'url' | 'connection' | 'images' | 'recipe' | 'schema';
  readonly [detail: string]: unknown;
}

export interface Lineage {
  /** Dataset version ids this version was produced from. */
  readonly inputs: string[];
  readonly recipeVersionId?: string | undefined;
}

export interface DatasetVersion {
  readonly id: string;
  readonly datasetId: string;
  readonly dataset: string;
  readonly version: number;
  /** SHA-256 of the stored file (Parquet; CSV for versions imported before the DuckDB engine). */
  readonly contentHash: string;
  readonly format: 'csv' | 'parquet';
  readonly sizeBytes: number;
  readonly rowCount: number;
  readonly schema: DatasetSchema;
  /** `<kind>:<format>`, e.g. `upload:csv`. */
  readonly source: string;
  readonly sourceInfo: SourceInfo | null;
  readonly lineage: Lineage | null;
  readonly createdAt: string;
}

export interface ImportFile {
  /** A local file the caller wrote; the service reads it and never deletes it. */
  readonly path: string;
  readonly format: FileFormat;
  readonly csv?: CsvOptions | undefined;
  readonly sheet?: string | undefined;
}

export interface ImportOptions {
  readonly source: SourceInfo;
  readonly maxBytes?: number | undefined;
  readonly schemaOverrides?: Record<string, ColumnType> | undefined;
  readonly lineage?: Lineage | undefined;
  /**
   * Identity of the source content. Default: the SHA-256 of the input file. Combined with the
   * import settings (format, CSV overrides, sheet, schema overrides) unless the import is a plain
   * CSV with none, so that a CSV uploaded before the DuckDB engine is still recognised.
   */
  readonly contentKey?: string | undefined;
  readonly onProgress?: ((fraction: number, message: string) => void) | undefined;
  /**
   * A job's cancellation: checked before the file is committed to the artifact store and again
   * inside the transaction that records the version, so that a cancelled import records nothing.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * The file is a Parquet file Mass's DuckDB wrote (a recipe's output): columns already in their
   * storage types are kept as written instead of being rewritten (see convertToParquet).
   */
  readonly asWritten?: boolean | undefined;
}

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkName(name: string): void {
  if (!DATASET_NAME.test(name))
    throw invalid(
      'name',
      'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
    );
}

export function checkColumnTypes(columns: Record<string, unknown>, path: string): Record<string, ColumnType> {
  for (const [name, type] of Object.entries(columns))
    if (!(COLUMN_TYPES as readonly unknown[]).includes(type))
      throw invalid(`${path}/${name}`, `must be one of ${COLUMN_TYPES.join(', ')}`);
  return columns as Record<string, ColumnType>;
}

/** A JSON string with sorted keys: equal settings give equal text. */
function canonical(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Datasets and their immutable versions. A version is a Parquet file in the artifact store (named
 * by its SHA-256) with its schema, profile, source and lineage. DuckDB (through DataEngine) reads
 * every supported format, types the columns and writes the Parquet; the profile queries are ours.
 */
export class DatasetService {
  constructor(
    private readonly store: MetadataStore,
    private readonly artifacts: ArtifactStore,
    private readonly engine: DataEngine,
  ) {}

  /**
   * Imports a local file as a new version of dataset `name`. Re-importing identical content (same
   * identity, see ImportOptions.contentKey) returns the latest version with created=false. Nothing
   * is recorded, neither a row nor a stored file, unless the whole import succeeded.
   */
  async importFile(
    projectId: string,
    name: string,
    file: ImportFile,
    options: ImportOptions,
    /** The file's SHA-256, when the caller computed it while writing the file (an upload). */
    fileHash?: string,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    checkName(name);
    if (!(FILE_FORMATS as readonly string[]).includes(file.format))
      throw invalid('format', `must be one of ${FILE_FORMATS.join(', ')}`);
    const overrides = checkColumnTypes(options.schemaOverrides ?? {}, 'schema');
    const progress = options.onProgress ?? (() => undefined);
    progress(0.01, 'reading the file');
    const size = await checkFileSize(file.path, options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    const settings = {
      format: file.format,
      csv: file.csv && Object.keys(file.csv).length > 0 ? file.csv : undefined,
      sheet: file.sheet,
      schema: Object.keys(overrides).length > 0 ? overrides : undefined,
    };
    const plain = file.format === 'csv' && !settings.csv && !settings.sheet && !settings.schema;
    const keyOf = (base: string) => (plain ? base : sha256(canonical({ content: base, ...settings })));
    // The file's SHA-256 is computed while DuckDB converts it, on a thread of lower priority that
    // takes the CPU the conversion leaves idle; the identity check waits for it.
    const hashing = fileHash !== undefined ? Promise.resolve(fileHash) : backgroundSha256(file.path);
    hashing.catch(() => undefined);
    const known = options.contentKey !== undefined ? keyOf(options.contentKey) : undefined;
    try {
      if (known !== undefined) {
        const existing = await this.latestWithKey(projectId, name, known);
        if (existing) return { version: existing, created: false };
      }
      const identity = hashing.then(async (sha) => {
        const key = known ?? keyOf(sha);
        const existing = known === undefined ? await this.latestWithKey(projectId, name, key) : undefined;
        return { sha, key, existing };
      });
      identity.catch(() => undefined);
      return await this.importNew(projectId, name, file, options, overrides, size, identity);
    } finally {
      // Never leave the hashing stream reading a file the caller is about to remove.
      await hashing.catch(() => undefined);
    }
  }

  private async importNew(
    projectId: string,
    name: string,
    file: ImportFile,
    options: ImportOptions,
    overrides: Record<string, ColumnType>,
    size: number,
    identity: Promise<{ sha: string; key: string; existing: DatasetVersion | undefined }>,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    const progress = options.onProgress ?? (() => undefined);
    await mkdir(this.engine.workDir, { recursive: true });
    const work = await mkdtemp(join(this.engine.workDir, 'import-'));
    let staged: Promise<ArtifactWriter> | undefined;
    let recorded = false;
    try {
      const { spec, details } = await this.prepare(file, work);
      progress(0.1, 'converting to Parquet');
      const out = join(work, 'data.parquet');
      type Done =
        | { unchanged: DatasetVersion }
        | (Awaited<ReturnType<typeof profileParquet>> & { id: Awaited<typeof identity> });
      const done = await this.engine.withConnection(async (c): Promise<Done> => {
        // Identical content found while converting: the conversion is interrupted.
        let unchanged: DatasetVersion | undefined;
        const watching = identity.then(
          (id) => {
            if (id.existing) {
              unchanged = id.existing;
              c.interrupt();
            }
          },
          () => c.interrupt(),
        );
        let columns: StoredColumn[];
        try {
          // Text read as text is checked by the profile, which reads it anyway (see cleanText).
          columns = await convertToParquet(c, spec, out, overrides, {
            textLater: true,
            asWritten: options.asWritten === true,
          });
        } catch (error) {
          await watching;
          await identity; // a failure to read the file wins
          if (unchanged) return { unchanged };
          throw error;
        }
        const id = await identity;
        if (id.existing) return { unchanged: id.existing };
        progress(0.6, 'profiling');
        // The file goes to the artifact store while DuckDB profiles it (its writer hashes on this
        // thread); it is committed only once the profile succeeded, else dropped.
        staged = this.artifacts.adopt(out);
        staged.catch(() => undefined);
        let profiled = await this.engine.withConnection((side) => profileParquet(c, out, columns, side));
        if (profiled.unclean.length > 0) {
          // Text with spaces around values, blank ones or spelled missing ones (few files):
          // cleaned, then profiled again.
          const first = staged;
          staged = undefined;
          await first.then((w) => w.abort());
          const cleanedColumns = await cleanText(c, out, columns, profiled.unclean);
          staged = this.artifacts.adopt(out);
          staged.catch(() => undefined);
          profiled = await this.engine.withConnection((side) => profileParquet(c, out, cleanedColumns, side));
        }
        return { ...profiled, id };
      });
      if ('unchanged' in done) return { version: done.unchanged, created: false };
      const { profile, schema, id } = done;
      if (schema.rowCount === 0)
        throw new AppError(
          'DATASET_EMPTY',
          spec.kind === 'csv' ? 'the file has a header but no data rows' : 'the file has no records',
        );
      progress(0.9, 'storing the version');
      const sourceInfo: SourceInfo = {
        ...options.source,
        file: { format: file.format, bytes: size, sha256: id.sha, ...details },
      };
      const writer = await staged!;
      options.signal?.throwIfAborted();
      recorded = true;
      const version = await this.record(
        projectId,
        name,
        writer,
        {
          key: id.key,
          schema,
          profile,
          source: `${options.source.kind}:${file.format}`,
          sourceInfo,
          lineage: options.lineage ?? null,
        },
        options.signal,
      );
      progress(1, version.created ? `version ${version.version.version}` : 'unchanged');
      return version;
    } finally {
      // A staged file whose import failed after all is dropped from the artifact store.
      if (staged && !recorded) await staged.then((w) => w.abort()).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Streams a request body to a temporary file (never into memory), stopping at `maxBytes`, then
   * imports it; the temporary file is removed whatever happens.
   */
  async importStream(
    projectId: string,
    name: string,
    body: AsyncIterable<Buffer | string>,
    file: Omit<ImportFile, 'path'>,
    options: ImportOptions & { maxBytes: number },
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    checkName(name);
    await mkdir(this.engine.workDir, { recursive: true });
    const work = await mkdtemp(join(this.engine.workDir, 'upload-'));
    try {
      const path = join(work, 'body');
      let size = 0;
      const limit = options.maxBytes;
      // Hashed as it arrives (the upload, not the CPU, sets the pace): the import does not read
      // the file a second time for its identity.
      const hash = createHash('sha256');
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer | string>) {
          for await (const piece of source) {
            const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
            size += chunk.byteLength;
            if (size > limit)
              throw new AppError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${limit} bytes`);
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(path, { mode: 0o600 }),
      );
      return await this.importFile(projectId, name, { ...file, path }, options, hash.digest('hex'));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Kept for callers of the CSV-only API: a CSV body as a new version. */
  async importCsv(
    projectId: string,
    name: string,
    body: AsyncIterable<Buffer | string>,
    options: { maxBytes: number; source: string },
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    return this.importStream(
      projectId,
      name,
      body,
      { format: 'csv' },
      {
        maxBytes: options.maxBytes,
        source: { kind: 'upload', label: options.source },
      },
    );
  }

  private async prepare(
    file: ImportFile,
    work: string,
  ): Promise<{ spec: SourceSpec; details: Record<string, unknown> }> {
    const { size } = await stat(file.path);
    const head = await readHead(file.path);
    const magic = sniffMagic(head);
    if (file.format === 'parquet') {
      if (magic !== 'parquet')
        throw new AppError(
          'PARQUET_INVALID',
          'the file is not a Parquet file (it does not start with PAR1)',
          [{ path: 'file', message: 'not Parquet' }],
        );
      return { spec: { kind: 'parquet', path: file.path }, details: {} };
    }
    if (file.format === 'json' || file.format === 'jsonl') {
      if (head.length === size && /^\s*(\[\s*\])?\s*$/.test(head.toString('utf8')))
        throw new AppError('DATASET_EMPTY', 'the file has no records');
      return { spec: { kind: 'json', path: file.path, lines: file.format === 'jsonl' }, details: {} };
    }
    if (file.format === 'xlsx') {
      if (magic !== 'zip')
        throw new AppError('XLSX_INVALID', 'the file is not an .xlsx workbook (not a zip archive)', [
          { path: 'file', message: 'not a zip archive' },
        ]);
      const csv = join(work, 'sheet.csv');
      const { sheet } = await xlsxToCsv(file.path, csv, file.sheet, Math.max(64 * 2 ** 20, 32 * size));
      const text = (await readHead(csv)).toString('utf8');
      const dialect = settleDialect(text, 'csv', { delimiter: ',', quote: '"', header: true }, 'utf-8');
      return { spec: { kind: 'csv', path: csv, dialect }, details: { sheet } };
    }
    const options = file.csv ?? {};
    const encoding = detectEncoding(head, head.length >= size, options.encoding);
    let path = file.path;
    let text: string;
    if (encoding === 'utf-8') {
      text = head.toString('utf8');
    } else {
      path = join(work, 'utf8.csv');
      await transcodeToUtf8(file.path, path, encoding);
      text = (await readHead(path)).toString('utf8');
    }
    const dialect = settleDialect(text, file.format, options, encoding);
    return {
      spec: { kind: 'csv', path, dialect },
      details: { encoding, delimiter: dialect.delimiter, quote: dialect.quote, header: dialect.header },
    };
  }

  private async findDataset(projectId: string, name: string) {
    return this.store.db
      .selectFrom('datasets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  private async latestWithKey(
    projectId: string,
    name: string,
    key: string,
  ): Promise<DatasetVersion | undefined> {
    const dataset = await this.findDataset(projectId, name);
    if (!dataset) return undefined;
    const latest = await this.store.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('dataset_id', '=', dataset.id)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return latest && (latest.content_key ?? latest.content_hash) === key
      ? toVersion(latest, name)
      : undefined;
  }

  /** Stores the Parquet file and records the version in one transaction. */
  /** Commits a file (a path, or a writer it was staged into) and records it as the next version. */
  private async record(
    projectId: string,
    name: string,
    parquet: string | ArtifactWriter,
    meta: {
      key: string;
      schema: DatasetSchema;
      profile: DatasetProfile;
      source: string;
      sourceInfo: SourceInfo;
      lineage: Lineage | null;
    },
    signal?: AbortSignal,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    const writer = typeof parquet === 'string' ? await this.artifacts.adopt(parquet) : parquet;
    if (signal?.aborted) {
      await writer.abort();
      signal.throwIfAborted();
    }
    const ref = await writer.commit();
    return this.store.transaction(async (trx) => {
      let dataset = await trx
        .selectFrom('datasets')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!dataset) {
        dataset = { id: newId('ds'), project_id: projectId, name, created_at: nowIso() };
        await trx.insertInto('datasets').values(dataset).execute();
      }
      const latest = await trx
        .selectFrom('dataset_versions')
        .selectAll()
        .where('dataset_id', '=', dataset.id)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (latest && (latest.content_key ?? latest.content_hash) === meta.key)
        return { version: toVersion(latest, name), created: false };
      // Cancelled after the commit: the transaction rolls back and no version is recorded (the
      // committed content stays unreferenced in the store, which has no delete yet).
      signal?.throwIfAborted();
      const row = {
        id: newId('dsv'),
        dataset_id: dataset.id,
        project_id: projectId,
        version: (latest?.version ?? 0) + 1,
        content_hash: ref.hash,
        format: 'parquet',
        size_bytes: ref.size,
        row_count: meta.schema.rowCount,
        schema_json: JSON.stringify(meta.schema),
        source: meta.source,
        created_at: nowIso(),
        content_key: meta.key,
        source_json: JSON.stringify(meta.sourceInfo),
        lineage_json: meta.lineage ? JSON.stringify(meta.lineage) : null,
        profile_json: JSON.stringify(meta.profile),
      };
      await trx.insertInto('dataset_versions').values(row).execute();
      return { version: toVersion(row, name), created: true };
    });
  }

  /**
   * The local path of a version's Parquet file, for DuckDB to read (read-only). Versions stored
   * as CSV before the DuckDB engine are converted once, typed by their stored schema, into a cache
   * named by the CSV's hash.
   */
  async parquetPath(version: DatasetVersion): Promise<string> {
    const stored = await this.artifacts.localPath(version.contentHash);
    if (version.format === 'parquet') return stored;
    const dir = join(this.engine.workDir, '..', '..', 'cache', 'parquet');
    const target = join(dir, `${version.contentHash}.parquet`);
    try {
      await stat(target);
      return target;
    } catch {
      // not converted yet
    }
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${version.contentHash}.${newId('tmp')}.part`);
    const overrides: Record<string, ColumnType> = {};
    for (const col of version.schema.columns) overrides[col.name] = col.type;
    try {
      await this.engine.withConnection(async (c) => {
        const head = (await readHead(stored)).toString('utf8');
        const dialect = settleDialect(head, 'csv', { delimiter: ',', quote: '"', header: true }, 'utf-8');
        await convertToParquet(c, { kind: 'csv', path: stored, dialect }, temp, overrides);
      });
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
    return target;
  }

  /** The stored profile of a version (computed and kept on first request for older versions). */
  async profile(version: DatasetVersion): Promise<DatasetProfile> {
    const row = await this.store.db
      .selectFrom('dataset_versions')
      .select('profile_json')
      .where('id', '=', version.id)
      .executeTakeFirst();
    if (row?.profile_json) return JSON.parse(row.profile_json) as DatasetProfile;
    const path = await this.parquetPath(version);
    const columns: StoredColumn[] = version.schema.columns.map((c) => ({
      name: c.name,
      storage: c.type === 'categorical' || c.type === 'text' ? 'string' : c.type,
      forced: c.type,
    }));
    const { profile } = await this.engine.withConnection((c) => profileParquet(c, path, columns));
    await this.store.db
      .updateTable('dataset_versions')
      .set({ profile_json: JSON.stringify(profile) })
      .where('id', '=', version.id)
      .execute();
    return profile;
  }

  /** Rows `offset`.. of a version, in stored order. */
  async rows(version: DatasetVersion, limit: number, offset: number): Promise<RowsPage> {
    const path = await this.parquetPath(version);
    return this.engine.withConnection((c) => readRows(c, path, version, limit, offset));
  }

  /** A random sample of `size` rows, the same for the same seed. */
  async sample(version: DatasetVersion, size: number, seed: number): Promise<RowsPage> {
    const path = await this.parquetPath(version);
    return this.engine.withConnection((c) => sampleRows(c, path, version, size, seed));
  }

  /**
   * A new version of the same dataset with some columns cast to other types (versions are
   * immutable), with lineage to the version it came from. A value that does not convert refuses
   * the whole edit, naming the column, the row and the value.
   */
  async editSchema(
    projectId: string,
    version: DatasetVersion,
    columns: Record<string, unknown>,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    const overrides = checkColumnTypes(columns, 'columns');
    if (Object.keys(overrides).length === 0)
      throw invalid('columns', 'name at least one column and its new type');
    const known = new Set(version.schema.columns.map((c) => c.name));
    for (const name of Object.keys(overrides))
      if (!known.has(name))
        throw invalid(`columns/${name}`, `the dataset has no column ${JSON.stringify(name)}`);
    const key = sha256(canonical({ from: version.id, schema: overrides }));
    const existing = await this.latestWithKey(projectId, version.dataset, key);
    if (existing) return { version: existing, created: false };
    const source = await this.parquetPath(version);
    await mkdir(this.engine.workDir, { recursive: true });
    const work = await mkdtemp(join(this.engine.workDir, 'schema-'));
    try {
      const out = join(work, 'data.parquet');
      // Keep every other column's type (categorical stays categorical even if it looks like text).
      const all: Record<string, ColumnType> = {};
      for (const c of version.schema.columns) all[c.name] = c.type;
      Object.assign(all, overrides);
      const { profile, schema } = await this.engine.withConnection(async (c) => {
        const stored = await recastParquet(c, source, out, all);
        return this.engine.withConnection((side) => profileParquet(c, out, stored, side));
      });
      return await this.record(projectId, version.dataset, out, {
        key,
        schema,
        profile,
        source: 'schema:parquet',
        sourceInfo: { kind: 'schema', from: version.id, columns: overrides },
        lineage: { inputs: [version.id] },
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async list(projectId: string): Promise<Dataset[]> {
    const rows = await this.store.db
      .selectFrom('datasets')
      .leftJoin('dataset_versions', 'dataset_versions.dataset_id', 'datasets.id')
      .select(['datasets.id', 'datasets.name', 'datasets.created_at'])
      .select((eb) => eb.fn.max('dataset_versions.version').as('latest'))
      .where('datasets.project_id', '=', projectId)
      .groupBy(['datasets.id', 'datasets.name', 'datasets.created_at'])
      .orderBy('datasets.name')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdAt: r.created_at,
      latestVersion: r.latest === null ? null : Number(r.latest),
    }));
  }

  async get(projectId: string, name: string): Promise<Dataset & { versions: DatasetVersion[] }> {
    const dataset = await this.findDataset(projectId, name);
    if (!dataset) throw notFound('dataset', name);
    const rows = await this.store.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('dataset_id', '=', dataset.id)
      .orderBy('version', 'desc')
      .execute();
    const versions = rows.map((r) => toVersion(r, name));
    return {
      id: dataset.id,
      name,
      createdAt: dataset.created_at,
      latestVersion: versions[0]?.version ?? null,
      versions,
    };
  }

  /** A version by number, or the latest when `version` is undefined. */
  async getVersion(projectId: string, name: string, version?: number): Promise<DatasetVersion> {
    let query = this.store.db
      .selectFrom('dataset_versions')
      .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id')
      .selectAll('dataset_versions')
      .where('datasets.project_id', '=', projectId)
      .where('datasets.name', '=', name);
    query =
      version === undefined
        ? query.orderBy('dataset_versions.version', 'desc').limit(1)
        : query.where('dataset_versions.version', '=', version);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('dataset version', version === undefined ? name : `${name}@${version}`);
    return toVersion(row, name);
  }

  async getVersionById(projectId: string, id: string): Promise<DatasetVersion> {
    const row = await this.store.db
      .selectFrom('dataset_versions')
      .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id')
      .selectAll('dataset_versions')
      .select('datasets.name as dataset_name')
      .where('dataset_versions.project_id', '=', projectId)
      .where('dataset_versions.id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('dataset version', id);
    return toVersion(row, row.dataset_name);
  }

  /**
   * The artifact hash of the version as CSV with a header row, for consumers that stream rows
   * (batch scoring). CSV versions are their own file; a Parquet version is written out by DuckDB
   * on each call (about a second per million rows) and the content-addressed store keeps one copy.
   */
  async csvArtifact(version: DatasetVersion): Promise<string> {
    if (version.format === 'csv') return version.contentHash;
    const parquet = await this.parquetPath(version);
    const temp = join(this.engine.workDir, `${newId('csv')}.csv`);
    try {
      await this.engine.withConnection(async (c) => {
        const from = `read_parquet(${quoteLiteral(parquet)})`;
        // Dates stored as DATE are written as timestamps, as every datetime column always was.
        const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS();
        const select = described
          .map((d) => {
            const q = quoteIdent(String(d.column_name));
            return String(d.column_type) === 'DATE' ? `CAST(${q} AS TIMESTAMP) AS ${q}` : q;
          })
          .join(', ');
        await c.run(
          `COPY (SELECT ${select} FROM ${from}) TO ${quoteLiteral(temp)} (FORMAT csv, HEADER true, DELIMITER ',')`,
        );
      });
      return (await (await this.artifacts.adopt(temp)).commit()).hash;
    } finally {
      await rm(temp, { force: true });
    }
  }
}

interface VersionRow {
  id: string;
  dataset_id: string;
  version: number;
  content_hash: string;
  format: string;
  size_bytes: number;
  row_count: number;
  schema_json: string;
  source: string;
  created_at: string;
  source_json?: string | null;
  lineage_json?: string | null;
}

function toVersion(r: VersionRow, dataset: string): DatasetVersion {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    dataset,
    version: Number(r.version),
    contentHash: r.content_hash,
    format: r.format === 'parquet' ? 'parquet' : 'csv',
    sizeBytes: Number(r.size_bytes),
    rowCount: Number(r.row_count),
    schema: JSON.parse(r.schema_json) as DatasetSchema,
    source: r.source,
    sourceInfo: r.source_json ? (JSON.parse(r.source_json) as SourceInfo) : null,
    lineage: r.lineage_json ? (JSON.parse(r.lineage_json) as Lineage) : null,
    createdAt: r.created_at,
  };
}
