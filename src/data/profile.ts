import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './engine.js';
import type { StoredColumn } from './convert.js';
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
  /** 20 equal-width bins from min to max (right-closed, the first one from min): 21 edges, 20 counts. */
  readonly histogram?: { readonly edges: number[]; readonly counts: number[] };
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
 * Profiles a stored Parquet file in one DuckDB pass over every row (counts, moments, histograms,
 * distinct estimates, duplicate rows), one GROUPING SETS query for the exact value counts of
 * low-cardinality columns, one pass over at most 50,000 evenly spaced rows (quantiles and
 * correlations) and one small group-by per high-cardinality string column for its top values.
 * Returns the profile and the version's schema.
 */
export async function profileParquet(
  c: DuckDBConnection,
  path: string,
  columns: readonly StoredColumn[],
  /** A second connection: the sample pass then runs alongside the first full pass. */
  side?: DuckDBConnection,
): Promise<{ profile: DatasetProfile; schema: DatasetSchema }> {
  const rowsInFile = Number(
    (
      await c.runAndReadAll(`SELECT sum(num_rows) AS n FROM parquet_file_metadata(${quoteLiteral(path)})`)
    ).getRowObjectsJS()[0]!.n ?? 0,
  );
  const sampling = samplePass(side ?? c, path, columns, rowsInFile);
  // Handled below; keeps a failure of the first pass from leaving this one unhandled.
  sampling.catch(() => undefined);
  const from = `read_parquet(${quoteLiteral(path)})`;
  const q = columns.map((col) => quoteIdent(col.name));
  const isNumber = (col: StoredColumn) => col.storage === 'integer' || col.storage === 'numeric';
  // Min and max of numbers from the file's footer (free): the histograms then join the first pass.
  const bounds = await footerBounds(c, path);
  const bins: ({ lo: number; width: number } | undefined)[] = [];
  const histogramOf = (k: number, lo: number, hi: number) => {
    const width = hi > lo ? (hi - lo) / HISTOGRAM_BINS : 1;
    bins[k] = { lo, width };
    // DuckDB's histogram over boundaries: bin i counts values in (e_i, e_i+1], the first one
    // from the minimum, the last one (key NULL) everything above the 19th boundary.
    const inner = Array.from({ length: HISTOGRAM_BINS - 1 }, (_, i) => lo + (i + 1) * width);
    return `histogram(CAST(${q[k]!} AS DOUBLE), [${inner.map(sqlNumber).join(', ')}]) AS h${k}`;
  };
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
  columns.forEach((col, k) => {
    const x = q[k]!;
    parts.push(`count(${x}) AS nn${k}`);
    // Decimal columns get their distinct count from the sample pass (see samplePass).
    if (!exact[k] && col.storage !== 'numeric') parts.push(`approx_count_distinct(${x}) AS d${k}`);
    if (isNumber(col)) {
      const v = `CAST(${x} AS DOUBLE)`;
      const known = bounds.get(col.name);
      if (known?.lo !== undefined && known.hi !== undefined) parts.push(histogramOf(k, known.lo, known.hi));
      else parts.push(`min(${v}) AS mn${k}`, `max(${v}) AS mx${k}`);
      parts.push(`avg(${v}) AS av${k}`, `stddev_samp(${v}) AS sd${k}`);
    } else if (col.storage === 'datetime') {
      parts.push(`min(${x}) AS mn${k}`, `max(${x}) AS mx${k}`);
    } else if (col.storage === 'string' && !exact[k]) {
      // (Columns counted exactly get these from their value counts below.)
      parts.push(`avg(length(${x})) AS len${k}`, `count(${x}) FILTER (WHERE contains(${x}, ' ')) AS sp${k}`);
    }
  });
  const first = (await c.runAndReadAll(`SELECT ${parts.join(', ')} FROM ${from}`)).getRowObjectsJS()[0]!;
  const n = Number(first.n);
  columns.forEach((col, k) => {
    const known = bounds.get(col.name);
    if (isNumber(col) && known?.lo !== undefined && known.hi !== undefined && Number(first[`nn${k}`]) > 0) {
      first[`mn${k}`] = known.lo;
      first[`mx${k}`] = known.hi;
    }
  });

  // Histograms of numbers the footer had no bounds for (a second pass, rarely needed).
  const second: string[] = [];
  columns.forEach((col, k) => {
    const lo = num(first[`mn${k}`]);
    const hi = num(first[`mx${k}`]);
    if (isNumber(col) && !bins[k] && lo !== null && hi !== null) second.push(histogramOf(k, lo, hi));
    if (!exact[k]) exact[k] = col.storage !== 'datetime' && Number(first[`d${k}`]) <= EXACT_DISTINCT;
  });
  const secondRow: Record<string, unknown> =
    second.length > 0
      ? (await c.runAndReadAll(`SELECT ${second.join(', ')} FROM ${from}`)).getRowObjectsJS()[0]!
      : {};
  // Exact value counts of the low-cardinality columns: one GROUPING SETS query (a hash
  // aggregate, several times faster than a histogram() aggregate per column).
  const counted = columns.map((_, k) => k).filter((k) => exact[k]);
  const measured = new Set(counted.filter((k) => columns[k]!.storage === 'string' && !(`len${k}` in first)));
  if (counted.length > 0) {
    const rows = (
      await c.runAndReadAll(
        `SELECT ${counted.map((k) => `${q[k]!} AS v${k}, GROUPING(${q[k]!}) AS g${k}${measured.has(k) ? `, length(${q[k]!}) AS l${k}, contains(${q[k]!}, ' ') AS s${k}` : ''}`).join(', ')}, count(*) AS n FROM ${from} GROUP BY GROUPING SETS (${counted.map((k) => `(${q[k]!})`).join(', ')})`,
      )
    ).getRowObjectsJS();
    const lists = new Map(counted.map((k) => [k, [] as { key: unknown; value: unknown }[]]));
    // Mean length and spaced values of strings, as avg(length(x)) and a filtered count would give.
    const lengths = new Map([...measured].map((k) => [k, { chars: 0, present: 0, spaced: 0 }]));
    for (const r of rows)
      for (const k of counted)
        if (Number(r[`g${k}`]) === 0) {
          if (r[`v${k}`] !== null && r[`v${k}`] !== undefined) {
            lists.get(k)!.push({ key: r[`v${k}`], value: r.n });
            const m = lengths.get(k);
            if (m) {
              m.chars += Number(r[`l${k}`]) * Number(r.n);
              m.present += Number(r.n);
              if (r[`s${k}`] === true) m.spaced += Number(r.n);
            }
          }
          break;
        }
    for (const [k, list] of lists) secondRow[`v${k}`] = list;
    for (const [k, m] of lengths) {
      first[`len${k}`] = m.present > 0 ? m.chars / m.present : null;
      first[`sp${k}`] = m.spaced;
    }
  }
  const histRow = (k: number) =>
    (first[`h${k}`] ?? secondRow[`h${k}`]) as { key: unknown; value: unknown }[] | null;

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
      const b = bins[k];
      if (b) {
        const hist = new Array<number>(HISTOGRAM_BINS).fill(0);
        const inner = Array.from({ length: HISTOGRAM_BINS - 1 }, (_, i) => b.lo + (i + 1) * b.width);
        for (const e of histRow(k) ?? []) {
          const at = e.key === null ? HISTOGRAM_BINS - 1 : inner.findIndex((edge) => edge === Number(e.key));
          const bin = at < 0 ? HISTOGRAM_BINS - 1 : at;
          hist[bin] = hist[bin]! + Number(e.value);
        }
        profile.histogram = {
          edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => b.lo + i * b.width),
          counts: hist,
        };
      }
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
  };
}

/**
 * Min and max of each column whose every row group carries statistics in the Parquet footer
 * (DuckDB writes them), read without scanning the data.
 */
async function footerBounds(
  c: DuckDBConnection,
  path: string,
): Promise<Map<string, { lo?: number; hi?: number; dictionary?: number }>> {
  const rows = (
    await c.runAndReadAll(
      `SELECT path_in_schema AS p, count(*) AS groups, count(TRY_CAST(stats_min AS DOUBLE)) AS lows, count(TRY_CAST(stats_max AS DOUBLE)) AS highs, min(TRY_CAST(stats_min AS DOUBLE)) AS lo, max(TRY_CAST(stats_max AS DOUBLE)) AS hi, count(stats_distinct_count) AS dicts, max(stats_distinct_count) AS dict FROM parquet_metadata(${quoteLiteral(path)}) GROUP BY path_in_schema`,
    )
  ).getRowObjectsJS();
  const out = new Map<string, { lo?: number; hi?: number; dictionary?: number }>();
  for (const r of rows) {
    const lo = num(r.lo);
    const hi = num(r.hi);
    const entry: { lo?: number; hi?: number; dictionary?: number } = {};
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

const sqlNumber = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));

/**
 * One pass over at most 50,000 evenly spaced rows (every k-th row; all rows of a smaller set):
 * the quantiles of numeric columns and the Pearson correlations among them.
 */
async function samplePass(
  c: DuckDBConnection,
  path: string,
  columns: readonly StoredColumn[],
  n: number,
): Promise<{
  quantiles: Map<string, unknown>;
  distinct: Map<string, number>;
  present: Map<string, number>;
  /** Every row was in the sample: its distinct counts are exact. */
  complete: boolean;
  correlations: DatasetProfile['correlations'];
}> {
  const numeric = columns
    .filter((col) => col.storage === 'integer' || col.storage === 'numeric')
    .map((col) => col.name);
  const names = numeric.slice(0, MAX_CORRELATION_COLUMNS);
  const matrix = names.map((_, i) => names.map((__, j) => (i === j ? 1 : null)) as (number | null)[]);
  if (numeric.length === 0 || n === 0)
    return {
      quantiles: new Map(),
      distinct: new Map(),
      present: new Map(),
      complete: true,
      correlations: { columns: names, matrix, rows: n },
    };
  const step = Math.max(1, Math.ceil(n / CORRELATION_ROWS));
  const source =
    step === 1
      ? `read_parquet(${quoteLiteral(path)})`
      : `(SELECT * FROM read_parquet(${quoteLiteral(path)}, file_row_number = true) WHERE file_row_number % ${step} = 0)`;
  const parts = ['count(*) AS n'];
  numeric.forEach((name, k) => {
    const x = quoteIdent(name);
    parts.push(
      step === 1 ? `count(DISTINCT ${x}) AS d${k}` : `approx_count_distinct(${x}) AS d${k}`,
      `count(${x}) AS p${k}`,
    );
  });
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++)
      parts.push(
        `corr(CAST(${quoteIdent(names[i]!)} AS DOUBLE), CAST(${quoteIdent(names[j]!)} AS DOUBLE)) AS c${i}_${j}`,
      );
  // The sampled rows of the numeric columns, materialised once: the aggregates then run on a
  // small in-memory table instead of a filtered scan of the file.
  const table = `mass_sample_${randomBytes(8).toString('hex')}`;
  await c.run(
    `CREATE TEMP TABLE ${table} AS SELECT ${numeric.map((name) => quoteIdent(name)).join(', ')} FROM ${source}`,
  );
  let row: Record<string, unknown>;
  let values: Record<string, unknown>;
  try {
    row = (await c.runAndReadAll(`SELECT ${parts.join(', ')} FROM ${table}`)).getRowObjectsJS()[0]!;
    // The sampled values themselves (≤ 50,000 per column): their quantiles are computed here,
    // as DuckDB's quantile_cont would, several times faster than its holistic aggregate.
    const lists = numeric.map(
      (name, k) =>
        `list(CAST(${quoteIdent(name)} AS DOUBLE)) FILTER (WHERE ${quoteIdent(name)} IS NOT NULL) AS l${k}`,
    );
    values = (await c.runAndReadAll(`SELECT ${lists.join(', ')} FROM ${table}`)).getRowObjectsJS()[0]!;
  } finally {
    await c.run(`DROP TABLE IF EXISTS ${table}`);
  }
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const v = num(row[`c${i}_${j}`]);
      matrix[i]![j] = v;
      matrix[j]![i] = v;
    }
  return {
    quantiles: new Map(numeric.map((name, k) => [name, quantilesOf(values[`l${k}`] as number[] | null)])),
    distinct: new Map(numeric.map((name, k) => [name, Number(row[`d${k}`])])),
    complete: step === 1,
    present: new Map(numeric.map((name, k) => [name, Number(row[`p${k}`])])),
    correlations: { columns: names, matrix, rows: Number(row.n) },
  };
}

/**
 * Continuous quantiles (QUANTILES) of a list of numbers, exactly as DuckDB's quantile_cont
 * computes them: position q·(n−1), linear interpolation lo·(1 − fraction) + hi·fraction. Null when empty.
 */
export function quantilesOf(list: readonly number[] | null | undefined): (number | null)[] | null {
  if (!list || list.length === 0) return null;
  const sorted = Float64Array.from(list).sort();
  const n = sorted.length;
  return QUANTILES.map((q) => {
    const rn = (n - 1) * q;
    const lo = Math.floor(rn);
    const hi = Math.ceil(rn);
    const a = sorted[lo]!;
    if (lo === hi) return a;
    const b = sorted[hi]!;
    const d = rn - lo;
    return a * (1 - d) + b * d;
  });
}
