import { AppError, invalid, notFound } from '../errors/index.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { CsvSchemaSniffer } from './csv.js';
import type { DatasetSchema } from './schema.js';

export interface Dataset {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly latestVersion: number | null;
}

export interface DatasetVersion {
  readonly id: string;
  readonly datasetId: string;
  readonly dataset: string;
  readonly version: number;
  readonly contentHash: string;
  readonly format: 'csv';
  readonly sizeBytes: number;
  readonly rowCount: number;
  readonly schema: DatasetSchema;
  readonly source: string;
  readonly createdAt: string;
}

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Datasets and their immutable versions. A version is a file in the artifact store (named by its
 * SHA-256) plus its inferred schema; importing identical content again returns the existing version.
 */
export class DatasetService {
  constructor(
    private readonly store: MetadataStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  /**
   * Streams a CSV body into a new dataset version. Nothing is stored unless the whole body was
   * read, fit in `maxBytes` and parsed cleanly.
   */
  async importCsv(
    projectId: string,
    name: string,
    body: AsyncIterable<Buffer | string>,
    options: { maxBytes: number; source: string },
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    if (!DATASET_NAME.test(name)) {
      throw invalid(
        'name',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    }
    const writer = await this.artifacts.begin();
    const sniffer = new CsvSchemaSniffer();
    let schema: DatasetSchema;
    try {
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (writer.size + chunk.byteLength > options.maxBytes) {
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `the file is larger than the limit of ${options.maxBytes} bytes`,
          );
        }
        await writer.write(chunk);
        sniffer.write(chunk);
      }
      schema = await sniffer.end();
    } catch (error) {
      await writer.abort();
      throw error;
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
      if (latest && latest.content_hash === ref.hash)
        return { version: toVersion(latest, name), created: false };
      const row = {
        id: newId('dsv'),
        dataset_id: dataset.id,
        project_id: projectId,
        version: (latest?.version ?? 0) + 1,
        content_hash: ref.hash,
        format: 'csv',
        size_bytes: ref.size,
        row_count: schema.rowCount,
        schema_json: JSON.stringify(schema),
        source: options.source,
        created_at: nowIso(),
      };
      await trx.insertInto('dataset_versions').values(row).execute();
      return { version: toVersion(row, name), created: true };
    });
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
    const dataset = await this.store.db
      .selectFrom('datasets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
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
}

interface VersionRow {
  id: string;
  dataset_id: string;
  version: number;
  content_hash: string;
  size_bytes: number;
  row_count: number;
  schema_json: string;
  source: string;
  created_at: string;
}

function toVersion(r: VersionRow, dataset: string): DatasetVersion {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    dataset,
    version: Number(r.version),
    contentHash: r.content_hash,
    format: 'csv',
    sizeBytes: Number(r.size_bytes),
    rowCount: Number(r.row_count),
    schema: JSON.parse(r.schema_json) as DatasetSchema,
    source: r.source,
    createdAt: r.created_at,
  };
}
