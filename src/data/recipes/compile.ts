import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { toSql } from '../../expr/index.js';
import {
  exprType,
  MAIN_INPUT,
  RESERVED_PREFIX,
  type Column,
  type ColumnType,
  type Plan,
  type Schema,
  type Step,
} from './steps.js';

/** A recipe input at run time: the local Parquet file of a dataset version and its schema. */
export interface Source {
  readonly path: string;
  readonly schema: Schema;
}

/** What a step learnt from the data at that step (means, quantiles, ...), recorded with each run. */
export interface Fitted {
  readonly step: number;
  readonly type: Step['type'];
  readonly values: Readonly<Record<string, unknown>>;
}

/** A failure of the data (no value to take a mean of, ...) rather than of the recipe's text. */
export class RecipeDataError extends Error {
  override readonly name = 'RecipeDataError';
  constructor(
    readonly step: number,
    message: string,
  ) {
    super(`step ${step}: ${message}`);
  }
}

export interface CompileOptions {
  readonly quoteIdent: (name: string) => string;
  /** Only the first `rows` rows of the main input (or a seeded sample of that many): for previews. */
  readonly window?: { readonly rows: number; readonly sample: boolean };
  /** Called before each step (0-based) with the number of steps. */
  readonly onStep?: (index: number, count: number) => void;
  readonly signal?: AbortSignal;
}

export interface Compiled {
  /** `SELECT ...` of the output, ordered by the row index captured at read. */
  readonly sql: string;
  readonly params: Record<string, DuckDBValue>;
  readonly output: Schema;
  readonly fitted: readonly Fitted[];
}

const ROW = `${RESERVED_PREFIX}row`;
const SRC = `${RESERVED_PREFIX}src`;
const POS = `${RESERVED_PREFIX}pos`;
const COUNT = `${RESERVED_PREFIX}n`;

export const SQL_TYPES: Readonly<Record<ColumnType, string>> = {
  numeric: 'DOUBLE',
  integer: 'BIGINT',
  categorical: 'VARCHAR',
  text: 'VARCHAR',
  boolean: 'BOOLEAN',
  datetime: 'TIMESTAMP',
};

/**
 * Compiles a checked recipe into one DuckDB query: one CTE per step over the CTE before it. Every
 * identifier goes through `quoteIdent` and every value (user constants, file paths, statistics)
 * is a bound parameter, so no user text is ever part of the SQL. Statistics a step needs (means,
 * quantiles, ...) are computed by SQL on the data as it is at that step, before its CTE is added.
 *
 * Determinism: a row index is captured at read (Parquet `file_row_number`), carried through every
 * step, used for every tie-break, seeded sampling and splitting (hash of row index and seed), and
 * the output is ordered by it; the same inputs and recipe give the same rows in the same order.
 */
export async function compileRecipe(
  connection: DuckDBConnection,
  plan: Plan,
  sources: Readonly<Record<string, Source>>,
  options: CompileOptions,
): Promise<Compiled> {
  const b = new Builder(connection, options.quoteIdent);
  const q = options.quoteIdent;
  const main = sources[MAIN_INPUT];
  if (!main) throw new Error('the main input has no source');
  let prev = b.cte(readSource(b, main, plan.schemas[0]!, options.window));
  const fitted: Fitted[] = [];
  const used = new Map<string, string>();
  const input = (alias: string): string => {
    const known = used.get(alias);
    if (known) return known;
    const source = sources[alias];
    if (!source) throw new Error(`the input ${alias} has no source`);
    const name = b.cte(readSource(b, source, source.schema, undefined));
    used.set(alias, name);
    return name;
  };

  for (let i = 0; i < plan.steps.length; i++) {
    options.signal?.throwIfAborted();
    options.onStep?.(i, plan.steps.length);
    const step = plan.steps[i]!;
    const before = plan.schemas[i]!;
    const after = plan.schemas[i + 1]!;
    const cols = (schema: Schema, replace: (c: Column) => string | undefined = () => undefined) =>
      [...schema.map((c) => `${replace(c) ?? q(c.name)} AS ${q(c.name)}`), q(ROW)].join(', ');
    const stat = async (select: string): Promise<Record<string, unknown>> => b.one(prev, select);
    // One scan for every column of a step: aggregates aliased c<j>_<name>.
    const stats = async (
      names: readonly string[],
      aggs: Readonly<Record<string, (x: string) => string>>,
    ): Promise<Record<string, unknown>[]> => {
      const select = names.flatMap((name, j) =>
        Object.entries(aggs).map(([key, agg]) => `${agg(`CAST(${q(name)} AS DOUBLE)`)} AS c${j}_${key}`),
      );
      const r = await stat(select.join(', '));
      return names.map((_, j) =>
        Object.fromEntries(Object.keys(aggs).map((key) => [key, r[`c${j}_${key}`]])),
      );
    };
    const fit = (values: Record<string, unknown>) => fitted.push({ step: i, type: step.type, values });
    let sql: string;
    switch (step.type) {
      case 'select':
      case 'drop':
        sql = `SELECT ${cols(after)} FROM ${prev}`;
        break;
      case 'rename': {
        const back = new Map(Object.entries(step.columns).map(([from, to]) => [to, from]));
        sql = `SELECT ${cols(after, (c) => q(back.get(c.name) ?? c.name))} FROM ${prev}`;
        break;
      }
      case 'cast':
        sql = `SELECT ${cols(after, (c) =>
          step.columns[c.name] ? `CAST(${q(c.name)} AS ${SQL_TYPES[c.type]})` : undefined,
        )} FROM ${prev}`;
        break;
      case 'filter':
        sql = `SELECT ${cols(after)} FROM ${prev} WHERE (${toSql(step.expr, q, exprTypes(before))})`;
        break;
      case 'drop_duplicates': {
        const by = (step.columns ?? before.map((c) => c.name)).map(q).join(', ');
        sql = `SELECT ${cols(after)} FROM ${prev} QUALIFY row_number() OVER (PARTITION BY ${by} ORDER BY ${q(ROW)}) = 1`;
        break;
      }
      case 'impute': {
        const fill = new Map<string, string>();
        const values: Record<string, unknown> = {};
        const central =
          step.strategy === 'mean' || step.strategy === 'median'
            ? await stats(step.columns, {
                v: step.strategy === 'mean' ? (x) => `avg(${x})` : (x) => `median(${x})`,
              })
            : [];
        for (const [j, name] of step.columns.entries()) {
          const type = before.find((c) => c.name === name)!.type;
          if (step.strategy === 'constant') {
            const v = step.value!;
            fill.set(name, `coalesce(${q(name)}, CAST(${b.param(v)} AS ${SQL_TYPES[type]}))`);
            values[name] = v;
          } else if (step.strategy === 'most_frequent') {
            const rows = await b.rows(
              `SELECT CAST(${q(name)} AS VARCHAR) AS v FROM ${prev} WHERE ${q(name)} IS NOT NULL GROUP BY ${q(name)} ORDER BY count(*) DESC, ${q(name)} LIMIT 1`,
            );
            const v = rows[0]?.v;
            if (typeof v !== 'string')
              throw new RecipeDataError(i, `the column ${name} has no value to take the most frequent of`);
            fill.set(name, `coalesce(${q(name)}, CAST(${b.param(v)} AS ${SQL_TYPES[type]}))`);
            values[name] = v;
          } else {
            const v = central[j]!.v;
            if (typeof v !== 'number' || !Number.isFinite(v))
              throw new RecipeDataError(i, `the column ${name} has no value to take the ${step.strategy} of`);
            fill.set(name, `coalesce(CAST(${q(name)} AS DOUBLE), ${b.num(v)})`);
            values[name] = v;
          }
        }
        fit(values);
        sql = `SELECT ${cols(after, (c) => fill.get(c.name))} FROM ${prev}`;
        break;
      }
      case 'standardize':
      case 'normalize': {
        const scale = new Map<string, string>();
        const values: Record<string, unknown> = {};
        // Population standard deviation, as scikit-learn's StandardScaler; a constant column divides by 1.
        const all = await stats(
          step.columns,
          step.type === 'standardize'
            ? { mean: (x) => `avg(${x})`, std: (x) => `stddev_pop(${x})` }
            : { min: (x) => `min(${x})`, max: (x) => `max(${x})` },
        );
        for (const [j, name] of step.columns.entries()) {
          const x = `CAST(${q(name)} AS DOUBLE)`;
          const r = all[j]!;
          if (step.type === 'standardize') {
            const mean = finite(i, name, r.mean);
            const std = finite(i, name, r.std);
            scale.set(name, `(${x} - ${b.num(mean)}) / ${b.num(std > 0 ? std : 1)}`);
            values[name] = { mean, std };
          } else {
            const min = finite(i, name, r.min);
            const max = finite(i, name, r.max);
            scale.set(name, `(${x} - ${b.num(min)}) / ${b.num(max > min ? max - min : 1)}`);
            values[name] = { min, max };
          }
        }
        fit(values);
        sql = `SELECT ${cols(after, (c) => scale.get(c.name))} FROM ${prev}`;
        break;
      }
      case 'clip_outliers':
      case 'drop_outliers': {
        const bounds = new Map<string, [number, number]>();
        // Tukey's fences: [Q1 − k·IQR, Q3 + k·IQR], quartiles interpolated linearly (numpy's default).
        const all = await stats(
          step.columns,
          step.method === 'iqr'
            ? { q1: (x) => `quantile_cont(${x}, 0.25)`, q3: (x) => `quantile_cont(${x}, 0.75)` }
            : { mean: (x) => `avg(${x})`, std: (x) => `stddev_pop(${x})` },
        );
        for (const [j, name] of step.columns.entries()) {
          const r = all[j]!;
          if (step.method === 'iqr') {
            const q1 = finite(i, name, r.q1);
            const q3 = finite(i, name, r.q3);
            bounds.set(name, [q1 - step.k * (q3 - q1), q3 + step.k * (q3 - q1)]);
          } else {
            const mean = finite(i, name, r.mean);
            const std = finite(i, name, r.std);
            bounds.set(name, [mean - step.threshold * std, mean + step.threshold * std]);
          }
        }
        fit(Object.fromEntries([...bounds].map(([k, [lo, hi]]) => [k, { low: lo, high: hi }])));
        if (step.type === 'clip_outliers') {
          sql = `SELECT ${cols(after, (c) => {
            const bound = bounds.get(c.name);
            if (!bound) return undefined;
            const x = `CAST(${q(c.name)} AS DOUBLE)`;
            const [lo, hi] = [b.num(bound[0]), b.num(bound[1])];
            return `CASE WHEN ${x} < ${lo} THEN ${lo} WHEN ${x} > ${hi} THEN ${hi} ELSE ${x} END`;
          })} FROM ${prev}`;
        } else {
          const keep = [...bounds].map(
            ([name, [lo, hi]]) =>
              `(${q(name)} IS NULL OR CAST(${q(name)} AS DOUBLE) BETWEEN ${b.num(lo)} AND ${b.num(hi)})`,
          );
          sql = `SELECT ${cols(after)} FROM ${prev} WHERE ${keep.join(' AND ')}`;
        }
        break;
      }
      case 'derive': {
        const type = after.find((c) => c.name === step.name)!.type;
        const value = `CAST((${toSql(step.expr, q, exprTypes(before))}) AS ${SQL_TYPES[type]})`;
        sql = `SELECT ${cols(after, (c) => (c.name === step.name ? value : undefined))} FROM ${prev}`;
        break;
      }
      case 'bucket': {
        let edges = step.edges ? [...step.edges] : [];
        const x = `CAST(${q(step.column)} AS DOUBLE)`;
        if (step.quantiles) {
          const n = step.quantiles;
          const probs = Array.from({ length: n - 1 }, (_, j) => `CAST(${b.temp((j + 1) / n)} AS DOUBLE)`);
          const r = await stat(`quantile_cont(${x}, [${probs.join(', ')}]) AS edges`);
          const list = listItems(r.edges);
          if (!list || list.some((e) => typeof e !== 'number' || !Number.isFinite(e)))
            throw new RecipeDataError(i, `the column ${step.column} has no value to take quantiles of`);
          edges = list as number[];
        }
        const labels = step.labels ?? defaultLabels(edges, Boolean(step.quantiles));
        const cases = edges
          .map((e, j) => `WHEN ${x} < ${b.num(e)} THEN CAST(${b.param(labels[j]!)} AS VARCHAR)`)
          .join(' ');
        const value = `CASE WHEN ${x} IS NULL THEN NULL ${cases} ELSE CAST(${b.param(labels[edges.length]!)} AS VARCHAR) END`;
        fit({ edges, labels });
        sql = `SELECT ${cols(after, (c) => (c.name === step.name ? `CAST(${value} AS VARCHAR)` : undefined))} FROM ${prev}`;
        break;
      }
      case 'date_parts': {
        const fn: Record<string, string> = {
          year: 'year',
          month: 'month',
          day: 'day',
          weekday: 'isodow',
          hour: 'hour',
        };
        const parts = new Map(
          step.parts.map((p) => [`${step.column}_${p}`, `CAST(${fn[p]}(${q(step.column)}) AS BIGINT)`]),
        );
        sql = `SELECT ${cols(after, (c) => parts.get(c.name))} FROM ${prev}`;
        break;
      }
      case 'join': {
        const right = input(step.with);
        const left = before.map((c) => `l.${q(c.name)} AS ${q(c.name)}`);
        const brought = step.bring.map(([from, to]) => `r.${q(from)} AS ${q(to)}`);
        const on = step.on.map((c) => `l.${q(c)} = r.${q(c)}`).join(' AND ');
        sql = `SELECT ${[...left, ...brought].join(', ')}, row_number() OVER (ORDER BY l.${q(ROW)}, r.${q(ROW)} NULLS LAST) - 1 AS ${q(ROW)} FROM ${prev} l ${step.how === 'left' ? 'LEFT' : 'INNER'} JOIN ${right} r ON ${on}`;
        break;
      }
      case 'union': {
        const right = input(step.with);
        const rightNames = new Set(sources[step.with]!.schema.map((c) => c.name));
        const leftNames = new Set(before.map((c) => c.name));
        const side = (names: Set<string>, src: number) =>
          [
            ...after.map(
              (c) =>
                `CAST(${names.has(c.name) ? q(c.name) : 'NULL'} AS ${SQL_TYPES[c.type]}) AS ${q(c.name)}`,
            ),
            q(ROW),
            `${src} AS ${q(SRC)}`,
          ].join(', ');
        const both = b.cte(
          `SELECT ${side(leftNames, 0)} FROM ${prev} UNION ALL SELECT ${side(rightNames, 1)} FROM ${right}`,
        );
        sql = `SELECT ${after.map((c) => q(c.name)).join(', ')}, row_number() OVER (ORDER BY ${q(SRC)}, ${q(ROW)}) - 1 AS ${q(ROW)} FROM ${both}`;
        break;
      }
      case 'sample': {
        const h = `hash(${q(ROW)}, CAST(${b.param(step.seed)} AS BIGINT), 'sample')`;
        const limit =
          step.n !== undefined
            ? `CAST(${b.param(step.n)} AS BIGINT)`
            : `round(count(*) OVER () * ${b.num(step.fraction!)})`;
        sql = `SELECT ${cols(after)} FROM ${prev} QUALIFY row_number() OVER (ORDER BY ${h}, ${q(ROW)}) <= ${limit}`;
        break;
      }
      case 'split': {
        // Exact sizes: rows ranked by a seeded hash of their index; the first round(n·train) train,
        // ... Stratified, the same within each class (NULL is a class of its own in PARTITION BY),
        // so every class keeps its share in every part to within one row.
        const h = `hash(${q(ROW)}, CAST(${b.param(step.seed)} AS BIGINT), 'split')`;
        const over = step.stratify === undefined ? '' : `PARTITION BY ${q(step.stratify)}`;
        const ranked = b.cte(
          `SELECT *, row_number() OVER (${over} ORDER BY ${h}, ${q(ROW)}) - 1 AS ${q(POS)}, count(*) OVER (${over}) AS ${q(COUNT)} FROM ${prev}`,
        );
        const label = `CASE WHEN ${q(POS)} < round(${q(COUNT)} * ${b.num(step.train)}) THEN 'train' WHEN ${q(POS)} < round(${q(COUNT)} * ${b.num(step.train + step.validation)}) THEN 'validation' ELSE 'test' END`;
        prev = ranked;
        sql = `SELECT ${cols(after, (c) => (c.name === step.column ? label : undefined))} FROM ${ranked}`;
        break;
      }
    }
    prev = b.cte(sql);
  }
  const output = plan.output;
  return {
    sql: `${b.with()} SELECT ${output.map((c) => q(c.name)).join(', ')} FROM ${prev} ORDER BY ${q(ROW)}`,
    params: b.params,
    output,
    fitted,
  };
}

/** The read of one input: its columns cast to the recorded types, and the row index. */
function readSource(b: Builder, source: Source, schema: Schema, window: CompileOptions['window']): string {
  const q = b.quoteIdent;
  const cols = schema.map((c) => `CAST(${q(c.name)} AS ${SQL_TYPES[c.type]}) AS ${q(c.name)}`);
  const from = `read_parquet(CAST(${b.param(source.path)} AS VARCHAR), file_row_number = true)`;
  const select = `SELECT ${cols.join(', ')}, file_row_number AS ${q(ROW)} FROM ${from}`;
  if (!window) return select;
  const rows = `CAST(${b.param(window.rows)} AS BIGINT)`;
  return window.sample
    ? `${select} QUALIFY row_number() OVER (ORDER BY hash(file_row_number, 'preview'), file_row_number) <= ${rows}`
    : `${select} WHERE file_row_number < ${rows}`;
}

function exprTypes(schema: Schema): Record<string, ReturnType<typeof exprType>> {
  return Object.fromEntries(schema.map((c) => [c.name, exprType(c.type)]));
}

function defaultLabels(edges: readonly number[], quantiles: boolean): string[] {
  if (quantiles) return Array.from({ length: edges.length + 1 }, (_, j) => `q${j + 1}`);
  const labels = [`< ${edges[0]}`];
  for (let j = 1; j < edges.length; j++) labels.push(`[${edges[j - 1]}, ${edges[j]})`);
  labels.push(`>= ${edges[edges.length - 1]}`);
  return labels;
}

function finite(step: number, column: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new RecipeDataError(step, `the column ${column} has no value to compute statistics from`);
  return value;
}

function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items))
    return (value as { items: unknown[] }).items;
  return undefined;
}

/** The CTE chain and its bound parameters. */
class Builder {
  readonly params: Record<string, DuckDBValue> = {};
  private temps: Record<string, DuckDBValue> = {};
  private readonly ctes: string[] = [];
  private count = 0;

  constructor(
    private readonly connection: DuckDBConnection,
    readonly quoteIdent: (name: string) => string,
  ) {}

  /** A bound parameter; its SQL type is set by the CAST around it. */
  param(value: string | number | boolean): string {
    const name = `p${this.count++}`;
    this.params[name] = value;
    return `$${name}`;
  }

  /** A parameter of the next statistics query only (not part of the CTE chain). */
  temp(value: string | number | boolean): string {
    const name = `t${this.count++}`;
    this.temps[name] = value;
    return `$${name}`;
  }

  num(value: number): string {
    return `CAST(${this.param(value)} AS DOUBLE)`;
  }

  cte(sql: string): string {
    const name = `s${this.ctes.length}`;
    this.ctes.push(`${name} AS (${sql})`);
    return name;
  }

  with(): string {
    return `WITH ${this.ctes.join(',\n')}`;
  }

  async rows(select: string): Promise<Record<string, unknown>[]> {
    const sql = `${this.with()} ${select}`;
    const all = { ...this.params, ...this.temps };
    this.temps = {};
    // Only the parameters this statement uses: a step's own values exist before its CTE does.
    const params: Record<string, DuckDBValue> = {};
    for (const [, name] of sql.matchAll(/\$([pt]\d+)\b/g)) params[name!] = all[name!]!;
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjects() as Record<string, unknown>[];
  }

  async one(from: string, select: string): Promise<Record<string, unknown>> {
    const rows = await this.rows(`SELECT ${select} FROM ${from}`);
    return rows[0] ?? {};
  }
}
