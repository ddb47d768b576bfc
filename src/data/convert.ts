import { copyFile, link, rename } from 'node:fs/promises';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { AppError, invalid } from '../errors/index.js';
import { quoteIdent, quoteLiteral } from './engine.js';
import { readHead, type CsvDialect } from './input.js';
import type { ColumnType } from './schema.js';

/** How a column is stored in the Parquet file of a version. */
export type Storage = 'integer' | 'numeric' | 'boolean' | 'datetime' | 'string';

/** The relation an import reads from, as DuckDB sees it. */
export type SourceSpec =
  | { readonly kind: 'csv'; readonly path: string; readonly dialect: CsvDialect }
  | { readonly kind: 'json'; readonly path: string; readonly lines: boolean }
  | { readonly kind: 'parquet'; readonly path: string };

export interface StoredColumn {
  readonly name: string;
  readonly storage: Storage;
  /** The type the caller asked for (categorical or text for strings), if any. */
  readonly forced?: ColumnType | undefined;
  /**
   * Text written as read, not yet checked (the caller asked to check it later: the profile does,
   * and cleanText fixes the file if needed): for values with spaces around them or blank ones
   * ('spaces'), and also for the spellings of a missing value ('spellings': a CSV read with
   * blank-only nulls, see convertToParquet).
   */
  readonly raw?: RawText;
}

export type RawText = 'spaces' | 'spellings';

/** Spellings of a missing value in CSV files, as pandas and R write them. */
export const MISSING_SPELLINGS = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None', '?'];
/** The spellings other than blank. */
const SPELLED = MISSING_SPELLINGS.filter((s) => s !== '');
const TRUE_SPELLINGS = ['true', 'yes', 't', 'y'];
const FALSE_SPELLINGS = ['false', 'no', 'f', 'n'];

export function storageOfType(type: ColumnType): Storage {
  return type === 'categorical' || type === 'text' ? 'string' : type;
}

/** The storage of a DuckDB column type, or undefined for nested types (struct, list, map, JSON). */
export function storageOf(duckType: string): Storage | undefined {
  const t = duckType.toUpperCase();
  if (t === 'BOOLEAN') return 'boolean';
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$/.test(t)) return 'integer';
  if (/^(UBIGINT|HUGEINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL)/.test(t)) return 'numeric';
  if (/^(DATE|TIMESTAMP)/.test(t)) return 'datetime';
  if (/^(VARCHAR|TIME|INTERVAL|UUID|ENUM|BIT|BLOB)/.test(t)) return 'string';
  return undefined;
}

/** The expression reading a source column into its natural storage (trimmed strings, finite numbers). */
function natural(ref: string, duckType: string, storage: Storage): string {
  switch (storage) {
    case 'integer':
      return `CAST(${ref} AS BIGINT)`;
    case 'numeric':
      return `(CASE WHEN isfinite(CAST(${ref} AS DOUBLE)) THEN CAST(${ref} AS DOUBLE) END)`;
    case 'boolean':
      return ref;
    case 'datetime':
      // Dates stay dates (four bytes a value, and a cast less per value); readers take both.
      if (duckType.toUpperCase() === 'DATE') return ref;
      return /WITH TIME ZONE|TIMESTAMPTZ/i.test(duckType)
        ? `make_timestamp(epoch_us(${ref}))`
        : `CAST(${ref} AS TIMESTAMP)`;
    case 'string':
      return `NULLIF(trim(CAST(${ref} AS VARCHAR)), '')`;
  }
}

const list = (xs: string[]) => xs.map(quoteLiteral).join(', ');

/**
 * Converts a value of storage `from` to storage `to`; NULL where it cannot (the caller checks
 * that no present value became NULL before trusting it).
 */
export function convert(x: string, from: Storage, to: Storage): string {
  if (from === to) return x;
  switch (to) {
    case 'string':
      // Through TIMESTAMP: a date stored as DATE reads as text as it always did (2024-03-01 00:00:00).
      return from === 'datetime' ? `CAST(CAST(${x} AS TIMESTAMP) AS VARCHAR)` : `CAST(${x} AS VARCHAR)`;
    case 'integer':
      if (from === 'string') return `TRY_CAST(${x} AS BIGINT)`;
      if (from === 'numeric')
        return `(CASE WHEN ${x} = trunc(${x}) AND abs(${x}) < 9e18 THEN CAST(${x} AS BIGINT) END)`;
      if (from === 'boolean') return `CAST(${x} AS BIGINT)`;
      return `CAST(epoch(${x}) AS BIGINT)`;
    case 'numeric':
      if (from === 'string')
        return `(CASE WHEN isfinite(TRY_CAST(${x} AS DOUBLE)) THEN TRY_CAST(${x} AS DOUBLE) END)`;
      if (from === 'datetime') return `CAST(epoch(${x}) AS DOUBLE)`;
      return `CAST(${x} AS DOUBLE)`;
    case 'boolean':
      if (from === 'string')
        return `(CASE WHEN lower(${x}) IN (${list(TRUE_SPELLINGS)}) THEN true WHEN lower(${x}) IN (${list(FALSE_SPELLINGS)}) THEN false END)`;
      if (from === 'integer' || from === 'numeric')
        return `(CASE WHEN ${x} = 1 THEN true WHEN ${x} = 0 THEN false END)`;
      return 'CAST(NULL AS BOOLEAN)';
    case 'datetime':
      if (from === 'string') return `TRY_CAST(${x} AS TIMESTAMP)`;
      if (from === 'integer' || from === 'numeric')
        return `make_timestamp(TRY_CAST(${x} * 1000000 AS BIGINT))`;
      return 'CAST(NULL AS TIMESTAMP)';
  }
}

interface RelationColumn {
  readonly name: string;
  readonly ref: string;
  readonly duckType: string;
}

interface Relation {
  readonly sql: string;
  readonly columns: RelationColumn[];
  /** A CSV's sniffed types (the fast path). */
  readonly sniffed?: Sniffed;
}

/** What DuckDB's sniffer found in a CSV file: each column's type and the date formats. */
interface Sniffed {
  readonly types: string[];
  readonly dateFormat: string | null;
  readonly timestampFormat: string | null;
}

function csvArgs(spec: Extract<SourceSpec, { kind: 'csv' }>, nulls = MISSING_SPELLINGS): string[] {
  const d = spec.dialect;
  return [
    quoteLiteral(spec.path),
    `delim=${quoteLiteral(d.delimiter)}`,
    `quote=${quoteLiteral(d.quote)}`,
    `escape=${quoteLiteral(d.quote)}`,
    `header=${d.header}`,
    'skip=0',
    `nullstr=[${list(nulls)}]`,
    'strict_mode=true',
    "encoding='utf-8'",
  ];
}

/**
 * A CSV read with every column named by position: as text (`sniffed` absent: the strictest read,
 * with line numbers in errors), or in the types the sniffer found, so that the conversion does
 * not sniff the file a second time.
 */
function csvRelation(
  spec: Extract<SourceSpec, { kind: 'csv' }>,
  sniffed?: Sniffed,
  nulls = MISSING_SPELLINGS,
): string {
  const types = sniffed?.types ?? spec.dialect.names.map(() => 'VARCHAR');
  const columns = types.map((type, i) => `${quoteLiteral(`c${i}`)}: ${quoteLiteral(type)}`).join(', ');
  const args = [...csvArgs(spec, nulls), 'auto_detect=false', `columns={${columns}}`];
  if (sniffed?.dateFormat) args.push(`dateformat=${quoteLiteral(sniffed.dateFormat)}`);
  if (sniffed?.timestampFormat) args.push(`timestampformat=${quoteLiteral(sniffed.timestampFormat)}`);
  return `read_csv(${args.join(', ')})`;
}

/** DuckDB's sniffer on the first 20,480 rows: the column types and date formats it detects. */
async function sniffCsv(c: DuckDBConnection, spec: Extract<SourceSpec, { kind: 'csv' }>): Promise<Sniffed> {
  const row = (
    await c.runAndReadAll(
      `SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv(${csvArgs(spec).join(', ')}, sample_size=20480)`,
    )
  ).getRowObjectsJS()[0]!;
  const columns = row.Columns as { name: string; type: string }[];
  return {
    types: columns.map((col) => String(col.type)),
    dateFormat: row.DateFormat === null ? null : String(row.DateFormat),
    timestampFormat: row.TimestampFormat === null ? null : String(row.TimestampFormat),
  };
}

/** DuckDB's message without its SQL echo ("LINE 1: ..."), one line. */
function duckMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n\nLINE')[0]!.trim();
}

/** A DuckDB error reading a CSV, as CSV_INVALID naming the line (or ENCODING_INVALID). */
function csvFailure(error: unknown): AppError {
  const text = duckMessage(error);
  const line = /CSV Error on Line: (\d+)/.exec(text)?.[1];
  const at = line ? ` (line ${line})` : '';
  if (/Invalid unicode|not utf-8 encoded/i.test(text))
    return new AppError(
      'ENCODING_INVALID',
      `the file is not valid UTF-8${at}; name its encoding with encoding (e.g. windows-1252)`,
      [{ path: 'encoding', message: 'invalid UTF-8' }],
      { cause: error },
    );
  let detail: string;
  if (/Expected Number of Columns|too many columns|column count|not enough columns/i.test(text))
    detail = `a row has a different number of fields than the header${at}`;
  else if (/unterminated quote|quoted value|quote/i.test(text))
    detail = `broken quoting: a quoted field is not closed or is followed by other characters${at}`;
  else detail = `${text.split('\n').slice(0, 3).join(' ')}${at}`;
  return new AppError('CSV_INVALID', detail, [{ path: line ? `line/${line}` : 'file', message: detail }], {
    cause: error,
  });
}

async function describe(c: DuckDBConnection, relation: string): Promise<{ name: string; type: string }[]> {
  const reader = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

async function openRelation(c: DuckDBConnection, spec: SourceSpec, strict: boolean): Promise<Relation> {
  if (spec.kind === 'csv') {
    const sniffed = strict ? undefined : await sniffCsv(c, spec);
    const found = sniffed?.types.length ?? spec.dialect.names.length;
    if (found !== spec.dialect.names.length)
      throw new AppError(
        'CSV_INVALID',
        `the header has ${spec.dialect.names.length} columns but the rows have ${found}`,
        [{ path: 'line/2', message: 'a different number of fields than the header' }],
      );
    const sql = csvRelation(spec, sniffed);
    return {
      sql,
      sniffed,
      columns: spec.dialect.names.map((name, i) => ({
        name,
        ref: quoteIdent(`c${i}`),
        duckType: sniffed?.types[i] ?? 'VARCHAR',
      })),
    };
  }
  if (spec.kind === 'json') {
    const sql = `read_json(${quoteLiteral(spec.path)}, format=${spec.lines ? "'newline_delimited'" : "'auto'"}, records='true', sample_size=-1, maximum_object_size=67108864)`;
    let names: string[];
    let types: DuckDBType[];
    try {
      // One bind (read_json reads the whole file to detect the types), with the types as objects:
      // struct fields and their types without parsing type names.
      const reader = await c.runAndReadAll(`SELECT * FROM ${sql} LIMIT 0`);
      names = reader.columnNames();
      types = reader.columnTypes();
    } catch (error) {
      throw new AppError(
        'JSON_INVALID',
        `the JSON file cannot be read: ${duckMessage(error).split('\n')[0]}`,
        [{ path: 'file', message: 'not a list of JSON records' }],
      );
    }
    return { sql, columns: flattenJson(names, types) };
  }
  const sql = `read_parquet(${quoteLiteral(spec.path)})`;
  let described: { name: string; type: string }[];
  try {
    described = await describe(c, sql);
  } catch (error) {
    throw new AppError(
      'PARQUET_INVALID',
      `the Parquet file cannot be read: ${duckMessage(error).split('\n')[0]}`,
      [{ path: 'file', message: 'not a readable Parquet file' }],
    );
  }
  return {
    sql,
    columns: described.map((d) => ({ name: d.name, ref: quoteIdent(d.name), duckType: d.type })),
  };
}

/** DuckDB's SQL name of a type, as DESCRIBE gives it (what `storageOf` and `natural` read). */
function sqlTypeName(type: DuckDBType): string {
  if (type.alias === 'JSON') return 'JSON';
  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) return 'TIMESTAMP WITH TIME ZONE';
  if (type.typeId === DuckDBTypeId.TIME_TZ) return 'TIME WITH TIME ZONE';
  return type.toString();
}

const AS_JSON_TEXT = new Set<DuckDBTypeId>([
  DuckDBTypeId.LIST,
  DuckDBTypeId.ARRAY,
  DuckDBTypeId.MAP,
  DuckDBTypeId.UNION,
]);

/**
 * The columns of JSON records, nested objects flattened as pandas.json_normalize does: the field
 * `city` of `address` becomes the column `address.city`, recursively (a missing or null object
 * gives nulls in all its columns); lists and objects DuckDB reads as a MAP (keys that vary from
 * record to record) become a column of their JSON text. Two fields that flatten to the same name
 * are refused, naming it.
 */
function flattenJson(names: readonly string[], types: readonly DuckDBType[]): RelationColumn[] {
  const out: RelationColumn[] = [];
  const origin = new Map<string, string>();
  const add = (name: string, ref: string, duckType: string, path: readonly string[]) => {
    const described =
      path.length === 1
        ? `the field ${JSON.stringify(path[0])}`
        : `the field ${JSON.stringify(path.at(-1))} inside ${JSON.stringify(path.slice(0, -1).join('.'))}`;
    const earlier = origin.get(name);
    if (earlier !== undefined)
      throw new AppError(
        'JSON_INVALID',
        `the column ${JSON.stringify(name)} appears twice once nested objects are flattened (${earlier} and ${described}); rename one of them`,
        [{ path: `columns/${name}`, message: 'two fields flatten to this name' }],
      );
    origin.set(name, described);
    out.push({ name, ref, duckType });
  };
  const visit = (name: string, ref: string, type: DuckDBType, path: readonly string[]): void => {
    if (type.typeId === DuckDBTypeId.STRUCT && type.entryNames.length > 0) {
      type.entryNames.forEach((field, j) => {
        if (field.includes('\0'))
          throw new AppError('JSON_INVALID', `a field inside ${JSON.stringify(name)} has a NUL in its name`, [
            { path: `columns/${name}`, message: 'a NUL character in a field name' },
          ]);
        visit(`${name}.${field}`, `struct_extract(${ref}, ${quoteLiteral(field)})`, type.entryTypes[j]!, [
          ...path,
          field,
        ]);
      });
    } else if (AS_JSON_TEXT.has(type.typeId) || type.typeId === DuckDBTypeId.STRUCT)
      add(name, `CAST(to_json(${ref}) AS VARCHAR)`, 'VARCHAR', path);
    else add(name, ref, sqlTypeName(type), path);
  };
  names.forEach((name, i) => visit(name, quoteIdent(name), types[i]!, [name]));
  return out;
}

/**
 * The JSON-typed columns (DuckDB's type for a field that is an object or a list in some records
 * and a plain value in others, or null in every record) that hold a value: the mixed ones. The
 * others are all missing and become empty text columns.
 */
async function mixedJsonColumns(c: DuckDBConnection, relation: Relation): Promise<Set<string>> {
  const json = relation.columns.filter((col) => col.duckType.toUpperCase() === 'JSON');
  if (json.length === 0) return new Set();
  const counts = json.map((col, k) => `count(${col.ref}) AS j${k}`).join(', ');
  const row = (await c.runAndReadAll(`SELECT ${counts} FROM ${relation.sql}`)).getRowObjectsJS()[0] ?? {};
  return new Set(json.filter((_, k) => Number(row[`j${k}`]) > 0).map((col) => col.name));
}

function checkNames(columns: RelationColumn[], code: 'JSON_INVALID' | 'PARQUET_INVALID'): void {
  const seen = new Set<string>();
  columns.forEach((col, i) => {
    if (col.name.trim() === '')
      throw new AppError(code, `column ${i + 1} has no name`, [
        { path: `columns/${i}`, message: 'empty name' },
      ]);
    if (seen.has(col.name))
      throw new AppError(code, `the column ${JSON.stringify(col.name)} appears twice`, [
        { path: `columns/${i}`, message: 'duplicate column name' },
      ]);
    seen.add(col.name);
  });
}

/** For an all-text relation: the narrowest storage every present value of each column fits. */
async function inferFromText(c: DuckDBConnection, relation: Relation): Promise<Storage[]> {
  const parts: string[] = [];
  relation.columns.forEach((col, k) => {
    const v = natural(col.ref, 'VARCHAR', 'string');
    parts.push(
      `count(${v}) AS p${k}`,
      `count(${convert(v, 'string', 'integer')}) AS i${k}`,
      `count(${convert(v, 'string', 'numeric')}) AS d${k}`,
      `count(${convert(v, 'string', 'boolean')}) AS b${k}`,
      `count(${convert(v, 'string', 'datetime')}) AS t${k}`,
    );
  });
  const row = (
    await c.runAndReadAll(`SELECT ${parts.join(', ')} FROM ${relation.sql}`)
  ).getRowObjectsJS()[0]!;
  return relation.columns.map((_, k) => {
    const present = Number(row[`p${k}`]);
    if (present === 0) return 'string';
    if (Number(row[`i${k}`]) === present) return 'integer';
    if (Number(row[`d${k}`]) === present) return 'numeric';
    if (Number(row[`b${k}`]) === present) return 'boolean';
    if (Number(row[`t${k}`]) === present) return 'datetime';
    return 'string';
  });
}

/** Refuses an override that some present value cannot take, naming the column, the row and the value. */
async function checkCast(
  c: DuckDBConnection,
  relation: Relation,
  column: RelationColumn,
  to: ColumnType,
): Promise<void> {
  const from = storageOf(column.duckType) ?? 'string';
  const src = natural(column.ref, column.duckType, from);
  const target = storageOfType(to);
  const sql = `SELECT rn, CAST(v AS VARCHAR) AS v FROM (SELECT row_number() OVER () AS rn, ${src} AS v FROM ${relation.sql}) WHERE v IS NOT NULL AND ${convert('v', from, target)} IS NULL ORDER BY rn LIMIT 1`;
  const bad = (await c.runAndReadAll(sql)).getRowObjectsJS()[0];
  if (bad) {
    const row = Number(bad.rn);
    const value = String(bad.v);
    throw new AppError(
      'CAST_FAILED',
      `column ${JSON.stringify(column.name)} cannot be ${to}: row ${row} has ${JSON.stringify(value)}`,
      [{ path: `columns/${column.name}`, message: `row ${row}: ${JSON.stringify(value)} is not ${to}` }],
    );
  }
}

/** Where the columns come from and how each one is written. */
interface Plan {
  relation: Relation;
  columns: StoredColumn[];
  exprs: string[];
  /** Numeric columns written as read: their non-finite values are nulled after, if any (see `write`). */
  finiteLater: string[];
  /** Text columns written as read: trimmed after (blank values missing), if any needs it (see `write`). */
  trimLater: string[];
}

async function plan(
  c: DuckDBConnection,
  relation: Relation,
  natives: Storage[],
  overrides: Record<string, ColumnType>,
): Promise<Plan> {
  const columns: StoredColumn[] = [];
  const exprs: string[] = [];
  const finiteLater: string[] = [];
  const trimLater: string[] = [];
  for (const [k, col] of relation.columns.entries()) {
    // A forced type converts from the column as read (the text of a CSV cell), not from the
    // inferred type: "0101" imposed as categorical stays "0101".
    const own = storageOf(col.duckType) ?? 'string';
    const forced = overrides[col.name];
    const from = forced ? own : natives[k]!;
    const to = forced ? storageOfType(forced) : from;
    if (forced && to !== own) await checkCast(c, relation, col, forced);
    // Numbers read as numbers and text read as text are written as they are; the few files with
    // ±Infinity or NaN, or with text to trim, are rewritten after (see `write`): a CASE or a trim
    // per value cost about a tenth of a second a million rows.
    if (own === 'numeric' && to === 'numeric') {
      exprs.push(`CAST(${col.ref} AS DOUBLE) AS ${quoteIdent(col.name)}`);
      finiteLater.push(col.name);
    } else if (own === 'string' && to === 'string') {
      exprs.push(`CAST(${col.ref} AS VARCHAR) AS ${quoteIdent(col.name)}`);
      trimLater.push(col.name);
    } else exprs.push(`${convert(natural(col.ref, col.duckType, own), own, to)} AS ${quoteIdent(col.name)}`);
    columns.push({ name: col.name, storage: to, forced });
  }
  return { relation, columns, exprs, finiteLater, trimLater };
}

/**
 * Writes the plan's Parquet, then normalizes the columns written as read where they need it:
 * numeric columns (`finiteLater`) whose footer does not show finite bounds in every row group
 * with values (DuckDB writes no min/max for a row group holding ±Infinity or NaN) get those
 * values missing; text columns (`trimLater`) holding a value with spaces around it or a blank
 * one get trimmed, blanks missing. Only then is the file rewritten from itself, in the same row
 * order: what the casts did in the first pass, paid only by the files that need it. The text
 * check is one scan of those columns (~40 ms a million rows); with `textLater` it is left to the
 * caller (the profile reads those columns anyway) and the columns are returned `raw`.
 */
async function write(
  c: DuckDBConnection,
  p: Plan,
  out: string,
  textLater: boolean,
  /** Text read as text may hold spelled missing values (a CSV read with blank-only nulls). */
  spellings: boolean,
): Promise<StoredColumn[]> {
  await c.run(
    `COPY (SELECT ${p.exprs.join(', ')} FROM ${p.relation.sql}) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  return normalize(c, p, out, textLater, spellings);
}

/** The checks and the rewrite of `write`, on a Parquet file at `out` holding the plan's columns. */
async function normalize(
  c: DuckDBConnection,
  p: Plan,
  out: string,
  textLater: boolean,
  spellings: boolean,
): Promise<StoredColumn[]> {
  const kind: RawText = spellings ? 'spellings' : 'spaces';
  const file = quoteLiteral(out);
  const nonFinite =
    p.finiteLater.length === 0
      ? []
      : (
          await c.runAndReadAll(
            `SELECT DISTINCT path_in_schema AS p FROM parquet_metadata(${file})
             WHERE path_in_schema IN (${list(p.finiteLater)}) AND num_values > coalesce(stats_null_count, 0)
               AND NOT (coalesce(isfinite(TRY_CAST(stats_min AS DOUBLE)), false)
                        AND coalesce(isfinite(TRY_CAST(stats_max AS DOUBLE)), false))`,
          )
        )
          .getRowObjectsJS()
          .map((r) => String(r.p));
  let untrimmed: string[] = [];
  if (p.trimLater.length > 0 && !textLater) {
    const row = (
      await c.runAndReadAll(
        `SELECT ${p.trimLater.map((name, k) => `${needsCleaning(quoteIdent(name), kind)} AS t${k}`).join(', ')} FROM read_parquet(${file})`,
      )
    ).getRowObjectsJS()[0]!;
    untrimmed = p.trimLater.filter((_, k) => row[`t${k}`] === true);
  }
  await rewrite(c, out, p.columns, new Set(nonFinite), new Map(untrimmed.map((name) => [name, kind])));
  if (!textLater) return p.columns;
  const raw = new Set(p.trimLater);
  return p.columns.map((col) => (raw.has(col.name) ? { ...col, raw: kind } : col));
}

/**
 * The aggregate telling whether raw text column `q` holds a value it must not keep as it is:
 * spaces around it, blank, or (`spellings`) a spelling of a missing value.
 */
export function needsCleaning(q: string, raw: RawText): string {
  return `bool_or(${unclean(q, raw)})`;
}

/**
 * Whether one value of raw text column `q` must be cleaned (DuckDB's own trim decides what a
 * space is: U+0020 and the Unicode space separators, not tabs or line breaks).
 */
export function unclean(q: string, raw: RawText): string {
  const spelled = raw === 'spellings' ? ` OR ${q} IN (${list(SPELLED)})` : '';
  return `(${q} <> trim(${q}) OR ${q} = ''${spelled})`;
}

/** A raw text column cleaned: a spelled missing value (as read) or a blank one missing, others trimmed. */
function cleaned(q: string, raw: RawText): string {
  const trimmed = `NULLIF(trim(${q}), '')`;
  return raw === 'spellings' ? `CASE WHEN ${q} IN (${list(SPELLED)}) THEN NULL ELSE ${trimmed} END` : trimmed;
}

/**
 * Rewrites a Parquet file from itself, in the same row order, with the `nonFinite` columns' ±Infinity
 * and NaN missing and the `unclean` text columns cleaned (see `cleaned`); nothing when both are
 * empty.
 */
async function rewrite(
  c: DuckDBConnection,
  out: string,
  columns: readonly StoredColumn[],
  nonFinite: ReadonlySet<string>,
  unclean: ReadonlyMap<string, RawText>,
): Promise<void> {
  if (nonFinite.size === 0 && unclean.size === 0) return;
  const fixed = `${out}.fixed`;
  const select = columns
    .map((col) => {
      const q = quoteIdent(col.name);
      if (nonFinite.has(col.name)) return `(CASE WHEN isfinite(${q}) THEN ${q} END) AS ${q}`;
      const raw = unclean.get(col.name);
      if (raw) return `${cleaned(q, raw)} AS ${q}`;
      return q;
    })
    .join(', ');
  await c.run(
    `COPY (SELECT ${select} FROM read_parquet(${quoteLiteral(out)})) TO ${quoteLiteral(fixed)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  await rename(fixed, out);
}

/**
 * Cleans the `unclean` raw text columns of a Parquet file written by convertToParquet with
 * `textLater` (see `cleaned`), in place; returns the columns, none of them raw any more.
 */
export async function cleanText(
  c: DuckDBConnection,
  out: string,
  columns: readonly StoredColumn[],
  unclean: readonly string[],
): Promise<StoredColumn[]> {
  const kinds = new Map(columns.filter((col) => col.raw).map((col) => [col.name, col.raw!]));
  await rewrite(
    c,
    out,
    columns,
    new Set(),
    new Map(unclean.map((name) => [name, kinds.get(name) ?? 'spaces'])),
  );
  return columns.map(({ raw: _, ...col }) => col);
}

/** DuckDB's SQL names of the storage types, as a stored version's Parquet holds them. */
const STORAGE_TYPES = new Set(['BIGINT', 'DOUBLE', 'BOOLEAN', 'VARCHAR', 'DATE', 'TIMESTAMP']);
const isStorageType = (duckType: string) => STORAGE_TYPES.has(duckType.toUpperCase());

/** A hard link to `from` at `to`, or a copy across filesystems. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** How much of a CSV file spellingsInHead looks at. */
const SPELLING_HEAD_BYTES = 1 << 20;

/** Whether a field of the CSV's first MiB is a spelled missing value (NA, null, ?, ...), quoted or not. */
async function spellingsInHead(spec: Extract<SourceSpec, { kind: 'csv' }>): Promise<boolean> {
  const head = (await readHead(spec.path, SPELLING_HEAD_BYTES)).toString('utf8');
  const d = escapeRegExp(spec.dialect.delimiter);
  const q = escapeRegExp(spec.dialect.quote);
  const words = SPELLED.map(escapeRegExp).join('|');
  return new RegExp(`(?:^|${d}|[\\r\\n])(?:${q})?(?:${words})(?:${q})?(?=${d}|[\\r\\n]|$)`).test(head);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A cast failing on a spelled missing value ("Could not convert string "NA" to 'DOUBLE'"). */
function spelledFailure(error: unknown): boolean {
  const value = /Could not convert string "(.*?)"/.exec(duckMessage(error))?.[1];
  return value !== undefined && SPELLED.includes(value);
}

/**
 * Reads a source with DuckDB and writes it as one Parquet file at `out`, each column in its
 * storage type. CSV takes a fast path (DuckDB's own type detection on a sample) and falls back to
 * a strict all-text read with full-column inference when that fails (a later value that does not
 * fit the sampled type, or a malformed file, which the strict read then names by line).
 */
export async function convertToParquet(
  c: DuckDBConnection,
  spec: SourceSpec,
  out: string,
  overrides: Record<string, ColumnType>,
  {
    textLater = false,
    asWritten = false,
  }: {
    /** Leave the check of text read as text to the caller (see `write`). */
    readonly textLater?: boolean;
    /** A Parquet file Mass wrote itself: kept as it is where its columns are in their storage types. */
    readonly asWritten?: boolean;
  } = {},
): Promise<StoredColumn[]> {
  if (spec.kind === 'csv') {
    if (Object.keys(overrides).length === 0) {
      try {
        const relation = await openRelation(c, spec, false);
        const natives = relation.columns.map((col) => storageOf(col.duckType) ?? 'string');
        // DuckDB compares every value with every spelling of a missing value (~15% of the read
        // for ten): where the head of the file has none but blanks, it reads with blank-only
        // nulls. A spelling further down makes a typed column fail its cast (read again with
        // all of them); in text it stays a value until the check of raw text nulls it.
        if (!(await spellingsInHead(spec))) {
          const lean = { ...relation, sql: csvRelation(spec, relation.sniffed, ['']) };
          try {
            return await write(c, await plan(c, lean, natives, {}), out, textLater, true);
          } catch (error) {
            if (!spelledFailure(error)) throw error;
          }
        }
        const p = await plan(c, relation, natives, {});
        return await write(c, p, out, textLater, false);
      } catch (error) {
        if (error instanceof AppError && error.code !== 'CSV_INVALID') throw error;
        // An interrupted query (the import found its content already stored) is not retried.
        if (/^INTERRUPT Error/i.test(duckMessage(error))) throw error;
        // Fall through to the strict read, which either explains the failure or does the work.
      }
    }
    let relation: Relation;
    let natives: Storage[];
    try {
      relation = await openRelation(c, spec, true);
      checkOverrides(relation.columns, overrides);
      natives = await inferFromText(c, relation);
    } catch (error) {
      throw error instanceof AppError ? error : csvFailure(error);
    }
    const p = await plan(c, relation, natives, overrides);
    try {
      return await write(c, p, out, textLater, false);
    } catch (error) {
      throw csvFailure(error);
    }
  }
  const code = spec.kind === 'json' ? 'JSON_INVALID' : 'PARQUET_INVALID';
  const relation = await openRelation(c, spec, false);
  checkNames(relation.columns, code);
  checkOverrides(relation.columns, overrides);
  const mixedJson = spec.kind === 'json' ? await mixedJsonColumns(c, relation) : new Set<string>();
  const natives = relation.columns.map((col): Storage => {
    const storage = storageOf(col.duckType);
    if (storage) return storage;
    const mixed = col.duckType.toUpperCase() === 'JSON';
    // Null in every record: nothing to tell its type by, an empty text column (as in a CSV).
    if (mixed && spec.kind === 'json' && !mixedJson.has(col.name)) return 'string';
    throw new AppError(
      code,
      mixed
        ? `the field ${JSON.stringify(col.name)} is sometimes an object or a list and sometimes a plain value`
        : `the field ${JSON.stringify(col.name)} holds nested values (${col.duckType}); flatten it into plain columns first`,
      [{ path: `columns/${col.name}`, message: mixed ? 'mixed types' : 'nested values' }],
    );
  });
  const p = await plan(c, relation, natives, overrides);
  try {
    // Mass's own Parquet (a recipe's output, written by this DuckDB with zstd) whose every column
    // is already in its storage type is taken as it is: rewriting it would copy every value for
    // nothing. Its numbers and text are checked as a rewrite's would be.
    if (
      asWritten &&
      spec.kind === 'parquet' &&
      Object.keys(overrides).length === 0 &&
      relation.columns.every((col) => isStorageType(col.duckType))
    ) {
      await linkOrCopy(spec.path, out);
      return await normalize(c, p, out, textLater, false);
    }
    return await write(c, p, out, textLater, false);
  } catch (error) {
    throw new AppError(code, `the file cannot be converted: ${duckMessage(error).split('\n')[0]}`, [
      { path: 'file', message: 'unreadable' },
    ]);
  }
}

function checkOverrides(columns: RelationColumn[], overrides: Record<string, ColumnType>): void {
  const names = new Set(columns.map((c) => c.name));
  for (const name of Object.keys(overrides))
    if (!names.has(name)) throw invalid(`schema/${name}`, `the file has no column ${JSON.stringify(name)}`);
}

/**
 * Writes a new Parquet file from a stored version's Parquet with some columns cast (schema
 * editing). Every other column is copied as it is.
 */
export async function recastParquet(
  c: DuckDBConnection,
  source: string,
  out: string,
  overrides: Record<string, ColumnType>,
): Promise<StoredColumn[]> {
  const spec: SourceSpec = { kind: 'parquet', path: source };
  return convertToParquet(c, spec, out, overrides);
}
