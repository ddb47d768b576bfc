import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import { lockDown, quoteIdent, quoteLiteral } from './engine.js';
import { isMissing, parseBoolean, parseNumber, type ColumnSchema, type DatasetSchema } from './schema.js';

/** A column read for computation: numbers with NaN for missing, or strings with null for missing. */
export type TableColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly name: string; readonly kind: 'categorical'; readonly values: (string | null)[] };

/**
 * Reads the named columns of a stored CSV into memory, typed by the dataset's schema: numeric
 * columns into Float64Array, categorical, boolean and text columns as strings (booleans normalised
 * to 'true' / 'false').
 */
export async function readCsvColumns(
  path: string,
  wanted: readonly ColumnSchema[],
  rowCount: number,
): Promise<TableColumn[]> {
  const parser = createReadStream(path).pipe(parse({ bom: true, skip_empty_lines: true }));
  let header: string[] | undefined;
  let indices: number[] = [];
  const numeric = wanted.map((c) => (c.type === 'numeric' ? new Float64Array(rowCount) : undefined));
  const strings = wanted.map((c) =>
    c.type === 'numeric' ? undefined : new Array<string | null>(rowCount).fill(null),
  );
  let i = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record.map((h) => h.trim());
      indices = wanted.map((c) => {
        const at = header!.indexOf(c.name);
        if (at < 0) throw new Error(`column ${c.name} is not in the stored file`);
        return at;
      });
      continue;
    }
    if (i >= rowCount) throw new Error('the stored file has more rows than its schema says');
    for (let k = 0; k < wanted.length; k++) {
      const raw = record[indices[k]!]!;
      const nums = numeric[k];
      if (nums) {
        nums[i] = isMissing(raw) ? NaN : parseNumber(raw);
      } else {
        const type = wanted[k]!.type;
        strings[k]![i] = isMissing(raw) ? null : type === 'boolean' ? parseBoolean(raw) : raw.trim();
      }
    }
    i++;
  }
  return wanted.map((c, k) =>
    c.type === 'numeric'
      ? { name: c.name, kind: 'numeric', values: numeric[k]! }
      : { name: c.name, kind: 'categorical', values: strings[k]! },
  );
}

/**
 * The schema as training sees it: integers and datetimes are numbers (datetimes as epoch
 * seconds), the four other types as before. Training code keeps its two kinds of column.
 */
export function trainingSchema(schema: DatasetSchema): DatasetSchema {
  return {
    rowCount: schema.rowCount,
    columns: schema.columns.map((c) =>
      c.type === 'integer'
        ? { ...c, type: 'numeric', integer: true }
        : c.type === 'datetime'
          ? { ...c, type: 'numeric', integer: false }
          : c,
    ),
  };
}

/** A dataset version with its schema as training sees it (see trainingSchema). */
export function trainingView<T extends { readonly schema: DatasetSchema }>(version: T): T {
  return { ...version, schema: trainingSchema(version.schema) };
}

async function isParquet(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.toString('latin1') === 'PAR1';
  } finally {
    await handle.close();
  }
}

/**
 * Reads the named columns of a stored version (its Parquet file, or its CSV file for versions
 * stored before the DuckDB engine) into memory as TableColumns: numeric columns (integers,
 * numbers, datetimes as epoch seconds) into Float64Array with NaN for missing; categorical,
 * boolean ('true' / 'false') and text columns as strings with null for missing. Opens its own
 * single-threaded DuckDB: it runs inside a training worker thread.
 */
export async function readColumns(
  path: string,
  wanted: readonly ColumnSchema[],
  rowCount: number,
): Promise<TableColumn[]> {
  if (!(await isParquet(path)))
    return readCsvColumns(path, trainingSchema({ columns: wanted, rowCount }).columns, rowCount);
  const db = await DuckDBInstance.create(':memory:', {
    threads: '1',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  try {
    await lockDown(db, [dirname(path)]);
    const c = await db.connect();
    try {
      const from = `read_parquet(${quoteLiteral(path)})`;
      const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS();
      const types = new Map(
        described.map((d) => [String(d.column_name), String(d.column_type).toUpperCase()]),
      );
      const numericOf = (c: ColumnSchema) =>
        c.type === 'numeric' || c.type === 'integer' || c.type === 'datetime';
      const exprs = wanted.map((col) => {
        const type = types.get(col.name);
        if (type === undefined) throw new Error(`column ${col.name} is not in the stored file`);
        const x = quoteIdent(col.name);
        if (numericOf(col)) {
          if (type.startsWith('TIMESTAMP') || type === 'DATE') return `CAST(epoch(${x}) AS DOUBLE)`;
          return `CAST(${x} AS DOUBLE)`;
        }
        if (type === 'BOOLEAN') return `CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END`;
        return `CAST(${x} AS VARCHAR)`;
      });
      const numeric = wanted.map((col) => (numericOf(col) ? new Float64Array(rowCount) : undefined));
      const strings = wanted.map((col) =>
        numericOf(col) ? undefined : new Array<string | null>(rowCount).fill(null),
      );
      const result = await c.stream(`SELECT ${exprs.join(', ')} FROM ${from}`);
      let at = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        if (at + n > rowCount) throw new Error('the stored file has more rows than its schema says');
        for (let k = 0; k < wanted.length; k++) {
          const values = chunk.getColumnValues(k);
          const nums = numeric[k];
          if (nums)
            for (let i = 0; i < n; i++) nums[at + i] = values[i] === null ? NaN : (values[i] as number);
          else {
            const target = strings[k]!;
            for (let i = 0; i < n; i++) target[at + i] = values[i] === null ? null : String(values[i]);
          }
        }
        at += n;
      }
      return wanted.map((col, k) =>
        numericOf(col)
          ? { name: col.name, kind: 'numeric', values: numeric[k]! }
          : { name: col.name, kind: 'categorical', values: strings[k]! },
      );
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}
