import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './engine.js';
import type { ColumnType } from './schema.js';

/** A page of rows as JSON objects by column name. */
export interface RowsPage {
  readonly columns: { name: string; type: ColumnType }[];
  readonly rows: Record<string, unknown>[];
  /** Rows in the version. */
  readonly total: number;
  readonly offset?: number;
  readonly limit?: number;
  readonly sample?: number;
  readonly seed?: number;
}

interface VersionLike {
  readonly rowCount: number;
  readonly schema: { readonly columns: readonly { readonly name: string; readonly type: ColumnType }[] };
}

/** A DuckDB value as JSON: whole numbers beyond 2^53 as strings, times as ISO-8601 (UTC). */
function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

function select(version: VersionLike): string {
  return version.schema.columns.map((c) => quoteIdent(c.name)).join(', ');
}

async function page(
  c: DuckDBConnection,
  sql: string,
  version: VersionLike,
): Promise<Record<string, unknown>[]> {
  const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const col of version.schema.columns) out[col.name] = jsonValue(r[col.name]);
    return out;
  });
}

export async function readRows(
  c: DuckDBConnection,
  path: string,
  version: VersionLike,
  limit: number,
  offset: number,
): Promise<RowsPage> {
  const sql = `SELECT ${select(version)} FROM read_parquet(${quoteLiteral(path)}) LIMIT ${Math.trunc(limit)} OFFSET ${Math.trunc(offset)}`;
  return {
    columns: version.schema.columns.map((col) => ({ name: col.name, type: col.type })),
    rows: await page(c, sql, version),
    total: version.rowCount,
    offset,
    limit,
  };
}

/**
 * A deterministic random sample: rows ordered by a hash of their position and the seed, the
 * first `size` taken, returned in stored order. Same version, size and seed: same rows.
 */
export async function sampleRows(
  c: DuckDBConnection,
  path: string,
  version: VersionLike,
  size: number,
  seed: number,
): Promise<RowsPage> {
  const from = `read_parquet(${quoteLiteral(path)}, file_row_number = true)`;
  const sql = `SELECT ${select(version)} FROM (SELECT * FROM ${from} ORDER BY hash(file_row_number, ${Math.trunc(seed)}::BIGINT), file_row_number LIMIT ${Math.trunc(size)}) ORDER BY file_row_number`;
  return {
    columns: version.schema.columns.map((col) => ({ name: col.name, type: col.type })),
    rows: await page(c, sql, version),
    total: version.rowCount,
    sample: size,
    seed,
  };
}
