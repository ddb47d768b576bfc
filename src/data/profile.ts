import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './engine.js';
import { needsCleaning, unclean as uncleanTest, type StoredColumn } from './convert.js';
import type { ColumnSchema, ColumnType, DatasetSchema } from './schema.js';

export const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
const QUANTILE_NAMES = ['p1', 'p5', 'p25', 'p50', 'p75', 'p95', 'p99'] as const;
export const HISTOGRAM_BINS = 20;
export const TOP_VALUES = 10;
/** Correlations among at most this many numeric columns (the first ones). */
export const MAX_CORRELATION_COLUMNS = 50;
/** Correlations are computed on every k-th row so that at most this many rows are used. */
export const CORRELATION_ROWS = 50_000;
/** Columns with at most this many distinct values (estimated) get exact counts per value. */
const EXACT_DISTINCT = 1100;

export type Scalar = string | number | boolean;

export interface ColumnProfile {
  readonly name: string;
  readonly type: ColumnType;
  /** Rows without a value. */
  readonly missing: number;
  readonly missingShare: number;
  readonly distinct: number;
  /** The distinct count is a HyperLogLog estimate (exact up to about a thousand values). */
  readonly distinctApprox: boolean;
  /** Numbers: numbers; datetimes: ISO-8601 strings (UTC). */
  readonly min?: number | string | null;
  readonly max?: number | string | null;
  readonly mean?: number | null;
  readonly std?: number | null;
  /** Quantiles p1, p5, p25, p50, p75, p95, p99 (exact up to 50,000 rows, else of every k-th row). */
  readonly quantiles?: Record<(typeof QUANTILE_NAMES)[number], number | null>;
  /**
   * 20 equal-width bins from min to max (right-closed, the first one from min): 21 edges, 20
   * counts summing to the present values. Above 50,000 rows the counts are estimated from the
   * sample of every k-th row (`sampled: true`), scaled to the column.
   */
  readonly histogram?: { readonly edges: number[]; readonly counts: number[]; readonly sampled?: boolean };
  /** The 10 most frequent values (categorical, text, boolean), most frequent first. */
  readonly top?: { readonly value: Scalar; readonly count: number }[];
}

export interface DatasetProfile {
  readonly rowCount: number;
  /** Rows equal to an earlier row in every column. */
  readonly duplicateRows: number;
  readonly columns: ColumnProfile[];
  /** Pearson correlations among numeric and integer columns (null where undefined). */
  readonly correlations: {
    readonly columns: string[];
    readonly matrix: (number | null)[][];
    /** Rows the correlations were computed on (every k-th row beyond 50,000 rows). */
    readonly rows: number;
  };
}

const num = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

const scalar = (v: unknown): Scalar =>
  typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : (v as Scalar);

/** The final type of a stored column: strings are text when long, spaced and mostly distinct. */
function typeOf(
  col: StoredColumn,
  present: number,
  distinct: number,
  meanLength: number,
  spaced: number,
): ColumnType {
  if (col.forced) return col.forced;
  if (col.storage !== 'string') return col.storage;
  const mostlyDistinct = distinct > Math.max(50, 0.5 * present);
  return present > 0 && spaced > 0.5 * present && (meanLength > 30 || mostlyDistinct)
    ? 'text'
    : 'categorical';
}

/**
 * Profiles a stored Parquet file in one DuckDB pass over every row (counts, moments, distinct
 * estimates, duplicate rows), one GROUPING SETS query for the exact value counts of
 * low-cardinality columns, one read of at most 50,000 evenly spaced rows of the numeric columns
 * (quantiles, histograms, correlations and the distinct count of decimals, computed here) and
 * one small group-by per high-cardinality string column for its top values. Returns the profile
 * and the version's schema, and the `raw` text columns found to hold a value they must not keep
 * as it is (`unclean`: the file must be cleaned and profiled again, see cleanText).
 */
export async function profileParquet(
  c: DuckDBConnection,
  path: string,
  columns: readonly StoredColumn[],
  /** A second connection: the sample pass then runs alongside the first full pass. */
  side?: DuckDBConnection,
): Promise<{ profile: DatasetProfile; schema: DatasetSchema; unclean: string[] }> {
  const rowsInFile = Number(
    (
      await c.runAndReadAll(`SELECT sum(num_rows) AS n FROM parquet_file_metadata(${quoteLiteral(path)})`)
    ).getRowObjectsJS()[0]!.n ?? 0,
  );
  // The sample is read on the side connection; what Node computes from it runs while DuckDB
  // goes on with the value counts there.
  const reading = readSample(side ?? c, path, columns, rowsInFile);
  // (On the next turn of the event loop: the value counts' query, chained below, starts first.)
  const sampling = reading.then(
    (read) =>
      new Promise<ReturnType<typeof summarizeSample>>((done) =>
        setImmediate(() => done(summarizeSample(columns, read))),
      ),
  );
  // Handled below; keeps a failure of the first pass from leaving this one unhandled.
  sampling.catch(() => undefined);
  const from = `read_parquet(${quoteLiteral(path)})`;
  const q = columns.map((col) => quoteIdent(col.name));
  const isNumber = (col: StoredColumn) => col.storage === 'integer' || col.storage === 'numeric';
  // Min and max of numbers from the file's footer (free, and exact).
  const bounds = await footerBounds(c, path);
  const parts: string[] = ['count(*) AS n'];
  parts.push(columns.length > 0 ? `count(DISTINCT hash(${q.join(', ')})) AS uniq` : '0 AS uniq');
  // Columns known to have few values from the footer (booleans; dictionary-encoded columns whose
  // every row group holds at most EXACT_DISTINCT values) get exact value counts without an
  // estimate first; the others a HyperLogLog estimate here, and exact counts when that is small.
  const exact: boolean[] = columns.map((col) => {
    if (col.storage === 'boolean') return true;
    if (col.storage !== 'string' && col.storage !== 'integer') return false;
    const most = bounds.get(col.name)?.dictionary;
    return most !== undefined && most <= EXACT_DISTINCT;
  });
  // Columns counted exactly on the footer's word: their counts run on the side connection once
  // the sample is read, alongside the full pass below (strings also get their length and spaces).
  const known = columns.map((_, k) => k).filter((k) => exact[k]);
  const knownCounts: Promise<ValueCounts[]> =
    known.length === 0
      ? Promise.resolve([])
      : reading
          .then(() =>
            valueCounts(
              side ?? c,
              from,
              q,
              known,
              new Set(known.filter((k) => columns[k]!.storage === 'string')),
              columns,
            ),
          )
          .then((r) => [r]);
  knownCounts.catch(() => undefined);
  /** Numeric columns whose moments are summed about a shift (their range's midpoint). */
  const shifts = new Map<number, number>();
  columns.forEach((col, k) => {
    const x = q[k]!;
    // Present values from the footer's null counts when every row group has them (DuckDB writes them).
    const nulls = bounds.get(col.name)?.nulls;
    if (nulls === undefined) parts.push(`count(${x}) AS nn${k}`);
    // Decimal columns get their distinct count from the sample (see summarizeSample).
    if (!exact[k] && col.storage !== 'numeric') parts.push(`approx_count_distinct(${x}) AS d${k}`);
    if (isNumber(col)) {
      const v = `CAST(${x} AS DOUBLE)`;
      const known = bounds.get(col.name);
      const midpoint = known?.lo === undefined || known.hi === undefined ? NaN : (known.lo + known.hi) / 2;
      if (!Number.isFinite(midpoint)) {
        if (known?.lo === undefined || known.hi === undefined)
          parts.push(`min(${v}) AS mn${k}`, `max(${v}) AS mx${k}`);
        parts.push(`avg(${v}) AS av${k}`, `stddev_samp(${v}) AS sd${k}`);
      } else {
        // Bounds known: sums of the values and their squares (a fifth of the full pass cheaper
        // than avg and stddev_samp's running updates), about the range's midpoint where the
        // values sit far from zero against their range (centred, the variance keeps its
        // precision unless the range is ~10^6 standard deviations wide). Where zero is within a
        // range's width of the midpoint, centring could gain at most a factor 9 in rounding
        // error and costs a tenth of the pass: the sums are plain.
        const shift = Math.abs(midpoint) > known!.hi! - known!.lo! ? midpoint : 0;
        shifts.set(k, shift);
        const d = shift === 0 ? v : `(${v} - CAST(${shift} AS DOUBLE))`;
        parts.push(`sum(${d}) AS s1${k}`, `sum(${d} * ${d}) AS s2${k}`);
      }
    } else if (col.storage === 'datetime') {
      parts.push(`min(${x}) AS mn${k}`, `max(${x}) AS mx${k}`);
    } else if (col.storage === 'string' && !exact[k]) {
      // (Columns counted exactly get these from their value counts below, and their values are
      // checked for spaces around them there.)
      parts.push(`avg(length(${x})) AS len${k}`, `count(${x}) FILTER (WHERE contains(${x}, ' ')) AS sp${k}`);
      if (col.raw) parts.push(`${needsCleaning(x, col.raw)} AS tr${k}`);
    }
  });
  const first = (await c.runAndReadAll(`SELECT ${parts.join(', ')} FROM ${from}`)).getRowObjectsJS()[0]!;
  const n = Number(first.n);
  columns.forEach((col, k) => {
    const nulls = bounds.get(col.name)?.nulls;
    if (nulls !== undefined) first[`nn${k}`] = n - nulls;
  });
  columns.forEach((col, k) => {
    const known = bounds.get(col.name);
    const m = Number(first[`nn${k}`]);
    if (isNumber(col) && known?.lo !== undefined && known.hi !== undefined && m > 0) {
      first[`mn${k}`] = known.lo;
      first[`mx${k}`] = known.hi;
    }
    const shift = shifts.get(k);
    if (shift !== undefined) {
      const s1 = Number(first[`s1${k}`]);
      const s2 = Number(first[`s2${k}`]);
      first[`av${k}`] = m > 0 ? shift + s1 / m : null;
      first[`sd${k}`] = m > 1 ? Math.sqrt(Math.max(0, (s2 - (s1 * s1) / m) / (m - 1))) : null;
    }
  });

  columns.forEach((col, k) => {
    if (!exact[k]) exact[k] = col.storage !== 'datetime' && Number(first[`d${k}`]) <= EXACT_DISTINCT;
  });
  const secondRow: Record<string, unknown> = {};
  // Exact value counts of the low-cardinality columns: one GROUPING SETS query (a hash
  // aggregate, several times faster than a histogram() aggregate per column). Those the footer
  // named ran beside the full pass; those found by their estimate run now.
  const later = columns.map((_, k) => k).filter((k) => exact[k] && !known.includes(k));
  const counts = [
    ...(await knownCounts),
    ...(later.length > 0 ? [await valueCounts(c, from, q, later, new Set(), columns)] : []),
  ];
  const unclean = new Set(
    columns.filter((col, k) => col.raw && first[`tr${k}`] === true).map((col) => col.name),
  );
  for (const { lists, lengths, dirty } of counts) {
    for (const [k, list] of lists) secondRow[`v${k}`] = list;
    for (const k of dirty) unclean.add(columns[k]!.name);
    for (const [k, m] of lengths) {
      first[`len${k}`] = m.present > 0 ? m.chars / m.present : null;
      first[`sp${k}`] = m.spaced;
    }
  }
  const sampled = await sampling;
  columns.forEach((col, k) => {
    if (col.storage !== 'numeric') return;
    // Distinct values of a decimal column, estimated from the sample: a column whose sampled
    // values are (nearly) all different is taken to stay so; otherwise the sample saw them all.
    const seen = Number(sampled.distinct.get(col.name) ?? 0);
    const present = Number(first[`nn${k}`]);
    const sampledPresent = Number(sampled.present.get(col.name) ?? 0);
    first[`d${k}`] =
      sampledPresent > 0 && seen > 0.9 * sampledPresent
        ? Math.min(present, Math.round((seen * present) / sampledPresent))
        : seen;
  });
  const profiles: ColumnProfile[] = [];
  const schemaColumns: ColumnSchema[] = [];
  for (const [k, col] of columns.entries()) {
    const present = Number(first[`nn${k}`]);
    const counts = exact[k]
      ? ((secondRow[`v${k}`] as { key: unknown; value: unknown }[] | null) ?? []).map((e) => ({
          value: scalar(e.key),
          count: Number(e.value),
        }))
      : undefined;
    const distinct = counts ? counts.length : Number(first[`d${k}`]);
    const type = typeOf(col, present, distinct, num(first[`len${k}`]) ?? 0, Number(first[`sp${k}`] ?? 0));
    const missing = n - present;
    const profile: Record<string, unknown> = {
      name: col.name,
      type,
      missing,
      missingShare: n > 0 ? missing / n : 0,
      distinct,
      distinctApprox: !counts && !(col.storage === 'numeric' && sampled.complete),
    };
    const schema: Record<string, unknown> = {
      name: col.name,
      type,
      missing,
      distinct,
      distinctCapped: false,
    };
    if (col.storage === 'integer' || col.storage === 'numeric') {
      const quantiles = (sampled.quantiles.get(col.name) as unknown[] | null | undefined) ?? [];
      Object.assign(profile, {
        min: num(first[`mn${k}`]),
        max: num(first[`mx${k}`]),
        mean: num(first[`av${k}`]),
        std: num(first[`sd${k}`]),
        quantiles: Object.fromEntries(QUANTILE_NAMES.map((name, i) => [name, num(quantiles[i])])),
      });
      const lo = num(first[`mn${k}`]);
      const hi = num(first[`mx${k}`]);
      const values = sampled.values.get(col.name);
      if (lo !== null && hi !== null && values)
        profile.histogram = histogramOf(values, lo, hi, present, !sampled.complete);
      schema.integer = col.storage === 'integer';
      for (const key of ['min', 'max', 'mean'] as const)
        if (profile[key] !== null) schema[key] = profile[key];
    } else if (col.storage === 'datetime') {
      profile.min = first[`mn${k}`] ? scalar(first[`mn${k}`]) : null;
      profile.max = first[`mx${k}`] ? scalar(first[`mx${k}`]) : null;
    }
    if (type === 'categorical' || type === 'text' || type === 'boolean') {
      let top = counts;
      if (!top) {
        const x = q[k]!;
        const rows = (
          await c.runAndReadAll(
            `SELECT ${x} AS v, count(*) AS n FROM ${from} WHERE ${x} IS NOT NULL GROUP BY ${x} ORDER BY n DESC, v LIMIT ${TOP_VALUES}`,
          )
        ).getRowObjectsJS();
        top = rows.map((r) => ({ value: scalar(r.v), count: Number(r.n) }));
      }
      profile.top = [...top]
        .sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)))
        .slice(0, TOP_VALUES);
    }
    profiles.push(profile as unknown as ColumnProfile);
    schemaColumns.push(schema as unknown as ColumnSchema);
  }

  return {
    profile: {
      rowCount: n,
      duplicateRows: n - Number(first.uniq),
      columns: profiles,
      correlations: sampled.correlations,
    },
    schema: { columns: schemaColumns, rowCount: n },
    unclean: [...unclean],
  };
}

interface ValueCounts {
  readonly lists: Map<number, { key: unknown; value: unknown }[]>;
  /** Raw text columns holding a value that must be cleaned. */
  readonly dirty: Set<number>;
  /** Mean length and spaced values of strings, as avg(length(x)) and a filtered count would give. */
  readonly lengths: Map<number, { chars: number; present: number; spaced: number }>;
}

/**
 * Exact value counts of columns `ks` in one GROUPING SETS query; lengths and spaces of
 * `measured`; whether a value of a raw text column must be cleaned (`dirty`, see StoredColumn.raw).
 */
async function valueCounts(
  c: DuckDBConnection,
  from: string,
  q: readonly string[],
  ks: readonly number[],
  measured: ReadonlySet<number>,
  columns: readonly StoredColumn[],
): Promise<ValueCounts> {
  const extra = (k: number) => {
    const raw = columns[k]!.raw;
    return (
      (measured.has(k) ? `, length(${q[k]!}) AS l${k}, contains(${q[k]!}, ' ') AS s${k}` : '') +
      (raw ? `, ${uncleanTest(q[k]!, raw)} AS u${k}` : '')
    );
  };
  const rows = (
    await c.runAndReadAll(
      `SELECT ${ks.map((k) => `${q[k]!} AS v${k}, GROUPING(${q[k]!}) AS g${k}${extra(k)}`).join(', ')}, count(*) AS n FROM ${from} GROUP BY GROUPING SETS (${ks.map((k) => `(${q[k]!})`).join(', ')})`,
    )
  ).getRowObjectsJS();
  const lists = new Map(ks.map((k) => [k, [] as { key: unknown; value: unknown }[]]));
  const lengths = new Map([...measured].map((k) => [k, { chars: 0, present: 0, spaced: 0 }]));
  const dirty = new Set<number>();
  for (const r of rows)
    for (const k of ks)
      if (Number(r[`g${k}`]) === 0) {
        if (r[`v${k}`] !== null && r[`v${k}`] !== undefined) {
          lists.get(k)!.push({ key: r[`v${k}`], value: r.n });
          if (r[`u${k}`] === true) dirty.add(k);
          const m = lengths.get(k);
          if (m) {
            m.chars += Number(r[`l${k}`]) * Number(r.n);
            m.present += Number(r.n);
            if (r[`s${k}`] === true) m.spaced += Number(r.n);
          }
        }
        break;
      }
  return { lists, lengths, dirty };
}

/**
 * Min and max of each column whose every row group carries statistics in the Parquet footer
 * (DuckDB writes them), read without scanning the data.
 */
async function footerBounds(
  c: DuckDBConnection,
  path: string,
): Promise<Map<string, { lo?: number; hi?: number; dictionary?: number; nulls?: number }>> {
  const rows = (
    await c.runAndReadAll(
      `SELECT path_in_schema AS p, count(*) AS groups, count(TRY_CAST(stats_min AS DOUBLE)) AS lows, count(TRY_CAST(stats_max AS DOUBLE)) AS highs, min(TRY_CAST(stats_min AS DOUBLE)) AS lo, max(TRY_CAST(stats_max AS DOUBLE)) AS hi, count(stats_distinct_count) AS dicts, max(stats_distinct_count) AS dict, count(stats_null_count) AS nullCounts, sum(stats_null_count) AS nulls FROM parquet_metadata(${quoteLiteral(path)}) GROUP BY path_in_schema`,
    )
  ).getRowObjectsJS();
  const out = new Map<string, { lo?: number; hi?: number; dictionary?: number; nulls?: number }>();
  for (const r of rows) {
    const lo = num(r.lo);
    const hi = num(r.hi);
    const entry: { lo?: number; hi?: number; dictionary?: number; nulls?: number } = {};
    const nulls = num(r.nulls);
    if (Number(r.nullCounts) === Number(r.groups) && nulls !== null) entry.nulls = nulls;
    if (
      Number(r.lows) === Number(r.groups) &&
      Number(r.highs) === Number(r.groups) &&
      lo !== null &&
      hi !== null
    )
      Object.assign(entry, { lo, hi });
    const most = num(r.dict);
    if (Number(r.dicts) === Number(r.groups) && most !== null) entry.dictionary = most;
    out.set(String(r.p), entry);
  }
  return out;
}

interface SampleRead {
  /** The numeric columns, in order. */
  readonly numeric: string[];
  /** Their sampled values, rows aligned across columns (missing values as NaN). */
  readonly aligned: Float64Array[];
  /** Every row was read. */
  readonly complete: boolean;
  /** Rows in the file. */
  readonly n: number;
}

/**
 * One read of at most 50,000 evenly spaced rows of the numeric columns (every k-th row; all rows
 * of a smaller set), as aligned lists: summarizeSample computes their quantiles, histograms,
 * distinct counts and correlations in Node (a few milliseconds for 50,000 rows, where DuckDB's
 * holistic and pairwise aggregates took hundreds).
 */
async function readSample(
  c: DuckDBConnection,
  path: string,
  columns: readonly StoredColumn[],
  n: number,
): Promise<SampleRead> {
  const numeric = columns
    .filter((col) => col.storage === 'integer' || col.storage === 'numeric')
    .map((col) => col.name);
  const step = Math.max(1, Math.ceil(n / CORRELATION_ROWS));
  if (numeric.length === 0 || n === 0) return { numeric, aligned: [], complete: true, n };
  const source =
    step === 1
      ? `read_parquet(${quoteLiteral(path)})`
      : `(SELECT * FROM read_parquet(${quoteLiteral(path)}, file_row_number = true) WHERE file_row_number % ${step} = 0)`;
  // Read straight from DuckDB's double vectors into typed arrays (converting through JavaScript
  // values took ~80 ms and a heap number per value at 50,000 × 22); rows stay aligned, which the
  // correlations need. Missing values come as NaN, so every value is valid and a vector's doubles
  // are copied as they are: @duckdb/node-api keeps them in a Float64Array view of DuckDB's chunk
  // (`items`, outside its typed API); where it does not, they are read one by one.
  const result = await c.run(
    `SELECT ${numeric.map((name) => `coalesce(CAST(${quoteIdent(name)} AS DOUBLE), 'NaN'::DOUBLE)`).join(', ')} FROM ${source}`,
  );
  const aligned = numeric.map(() => new Float64Array(result.rowCount));
  for (let k = 0, offset = 0; k < result.chunkCount; k++) {
    const chunk = result.getChunk(k);
    const m = chunk.rowCount;
    aligned.forEach((out, j) => {
      const vector = chunk.getColumnVector(j) as DuckDBVector<number>;
      const items = (vector as unknown as { items?: unknown }).items;
      if (items instanceof Float64Array && items.length >= m) out.set(items.subarray(0, m), offset);
      else for (let i = 0; i < m; i++) out[offset + i] = vector.getItem(i) ?? NaN;
    });
    offset += m;
  }
  return { numeric, aligned, complete: step === 1, n };
}

/** The sample's quantiles, values, distinct counts and correlations (see readSample). */
function summarizeSample(
  columns: readonly StoredColumn[],
  { numeric, aligned, complete, n }: SampleRead,
): {
  quantiles: Map<string, (number | null)[] | null>;
  /** Per column, its sampled values (missing values left out). */
  values: Map<string, Float64Array>;
  distinct: Map<string, number>;
  present: Map<string, number>;
  /** Every row was in the sample: its distinct counts and histograms are exact. */
  complete: boolean;
  correlations: DatasetProfile['correlations'];
} {
  const names = numeric.slice(0, MAX_CORRELATION_COLUMNS);
  const matrix = names.map((_, i) => names.map((__, j) => (i === j ? 1 : null)) as (number | null)[]);
  if (aligned.length === 0)
    return {
      quantiles: new Map(),
      values: new Map(),
      distinct: new Map(),
      present: new Map(),
      complete: true,
      correlations: { columns: names, matrix, rows: n },
    };
  const rows = aligned[0]?.length ?? 0;
  const values = new Map<string, Float64Array>();
  const quantiles = new Map<string, (number | null)[] | null>();
  const distinct = new Map<string, number>();
  const present = new Map<string, number>();
  numeric.forEach((name, k) => {
    const col = columns.find((c) => c.name === name)!;
    const all = aligned[k]!;
    const buffer = new Float64Array(all.length);
    let m = 0;
    for (let i = 0; i < all.length; i++) if (!Number.isNaN(all[i]!)) buffer[m++] = all[i]!;
    const own = buffer.subarray(0, m);
    values.set(name, own);
    quantiles.set(name, quantilesOf(own));
    // Integers get theirs from the full pass (HyperLogLog or exact counts).
    distinct.set(name, col.storage === 'numeric' ? distinctCount(own) : 0);
    present.set(name, m);
  });
  // Columns without a missing value in the sample are centred and normed once: a pair of them
  // is then one dot product. Pairs with missing values take the pairwise-complete pass.
  const unit = names.map((_, k) => {
    const x = aligned[k]!;
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i]!;
    if (Number.isNaN(sum) || x.length < 2) return null;
    const mean = sum / x.length;
    const z = new Float64Array(x.length);
    let ss = 0;
    for (let i = 0; i < x.length; i++) {
      z[i] = x[i]! - mean;
      ss += z[i]! * z[i]!;
    }
    return ss > 0 ? { z, norm: Math.sqrt(ss) } : null;
  });
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const a = unit[i];
      const b = unit[j];
      let v: number | null;
      if (a && b) {
        let dot = 0;
        for (let r = 0; r < a.z.length; r++) dot += a.z[r]! * b.z[r]!;
        v = Math.max(-1, Math.min(1, dot / (a.norm * b.norm)));
      } else v = pearson(aligned[i]!, aligned[j]!);
      matrix[i]![j] = v;
      matrix[j]![i] = v;
    }
  return {
    quantiles,
    values,
    distinct,
    complete,
    present,
    correlations: { columns: names, matrix, rows },
  };
}

/**
 * Pearson's correlation of x and y over the rows where both are present (NaN = missing), as
 * DuckDB's corr(): null with fewer than two such rows or a constant side. Two passes (means,
 * then centred sums) for accuracy.
 */
export function pearson(x: Float64Array, y: Float64Array): number | null {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    m++;
    sx += a;
    sy += b;
  }
  if (m < 2) return null;
  const mx = sx / m;
  const my = sy / m;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    const da = a - mx;
    const db = b - my;
    sxy += da * db;
    sxx += da * da;
    syy += db * db;
  }
  if (sxx === 0 || syy === 0) return null;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * The 20-bin histogram of a column from its (sampled) values: equal widths from lo to hi (the
 * column's exact min and max), bin i holding values in (e_i, e_i+1], the first one from lo.
 * A sample's counts are scaled to the column's `present` values (largest remainders, so that they
 * still sum to it).
 */
export function histogramOf(
  values: Float64Array,
  lo: number,
  hi: number,
  present: number,
  sampled: boolean,
): { edges: number[]; counts: number[]; sampled: boolean } {
  const width = hi > lo ? (hi - lo) / HISTOGRAM_BINS : 1;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + i * width);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  const last = HISTOGRAM_BINS - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // The arithmetic guess, then the edges themselves decide (v ≤ e_bin+1 closes bin).
    let bin = Math.min(last, Math.max(0, Math.ceil((v - lo) / width) - 1));
    while (bin > 0 && v <= edges[bin]!) bin--;
    while (bin < last && v > edges[bin + 1]!) bin++;
    counts[bin]!++;
  }
  if (!sampled || values.length === 0 || values.length === present) return { edges, counts, sampled: false };
  const scale = present / values.length;
  const scaled = counts.map((c) => Math.floor(c * scale));
  let left = present - scaled.reduce((a, b) => a + b, 0);
  const order = counts
    .map((c, i) => ({ i, r: c * scale - scaled[i]! }))
    .filter((e) => counts[e.i]! > 0)
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (let t = 0; left > 0 && order.length > 0; t = (t + 1) % order.length, left--) scaled[order[t]!.i]!++;
  return { edges, counts: scaled, sampled: true };
}

/**
 * Continuous quantiles (QUANTILES) of a list of numbers, exactly as DuckDB's quantile_cont
 * computes them: position q·(n−1), linear interpolation lo·(1 − fraction) + hi·fraction. Null
 * when empty. The order statistics are found by selection (Hoare's quickselect over the wanted
 * ranks at once), not by sorting the list: a few passes instead of a sort per column.
 */
export function quantilesOf(list: ArrayLike<number> | null | undefined): (number | null)[] | null {
  if (!list || list.length === 0) return null;
  const a = Float64Array.from(list);
  const n = a.length;
  const ranks = new Set<number>();
  for (const q of QUANTILES) {
    const rn = (n - 1) * q;
    ranks.add(Math.floor(rn));
    ranks.add(Math.ceil(rn));
  }
  selectRanks(
    a,
    [...ranks].sort((x, y) => x - y),
    0,
    n - 1,
  );
  return QUANTILES.map((q) => {
    const rn = (n - 1) * q;
    const lo = Math.floor(rn);
    const hi = Math.ceil(rn);
    const x = a[lo]!;
    if (lo === hi) return x;
    const d = rn - lo;
    return x * (1 - d) + a[hi]! * d;
  });
}

/**
 * Rearranges a[from..to] so that a[r] holds the value of rank r for every r in `ranks` (sorted,
 * all within from..to), as a sort would place it.
 */
function selectRanks(a: Float64Array, ranks: number[], from: number, to: number): void {
  while (ranks.length > 0 && to > from) {
    if (to - from < 16) {
      // Insertion sort of a short range.
      for (let i = from + 1; i <= to; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= from && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    // Median of three as the pivot, then Hoare's partition.
    const mid = (from + to) >>> 1;
    const x = a[from]!;
    const y = a[mid]!;
    const z = a[to]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = from;
    let j = to;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[from..j] ≤ pivot ≤ a[i..to], and a[j+1..i-1] equal the pivot.
    const left = ranks.filter((r) => r <= j);
    const right = ranks.filter((r) => r >= i);
    if (left.length > 0) selectRanks(a, left, from, j);
    ranks = right;
    from = i;
  }
}

/** The number of distinct values of a list of numbers without NaN (open addressing on their bits). */
export function distinctCount(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  let size = 16;
  while (size < 2 * n) size <<= 1;
  const table = new Float64Array(size);
  const used = new Uint8Array(size);
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const mask = size - 1;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // −0 and 0 are one value: both hash as 0.
    const lo = v === 0 ? 0 : bits[2 * i]!;
    const hi = v === 0 ? 0 : bits[2 * i + 1]!;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let slot = h & mask;
    for (;;) {
      if (used[slot] === 0) {
        used[slot] = 1;
        table[slot] = v;
        d++;
        break;
      }
      if (table[slot] === v) break;
      slot = (slot + 1) & mask;
    }
  }
  return d;
}
