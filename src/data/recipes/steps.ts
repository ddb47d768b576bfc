import { AppError, type FieldIssue } from '../../errors/index.js';
import { checkExpression, ExprError, parseExpression, type Expr, type ExprType } from '../../expr/index.js';

/** Column types of a dataset version (version.schema.columns[].type). */
export const COLUMN_TYPES = ['numeric', 'integer', 'categorical', 'boolean', 'datetime', 'text'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const STEP_TYPES = [
  'select',
  'drop',
  'rename',
  'cast',
  'filter',
  'drop_duplicates',
  'impute',
  'standardize',
  'normalize',
  'clip_outliers',
  'drop_outliers',
  'derive',
  'bucket',
  'date_parts',
  'join',
  'union',
  'sample',
  'split',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const DATE_PARTS = ['year', 'month', 'day', 'weekday', 'hour'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

export const MAX_STEPS = 200;
export const MAX_EXPRESSION_LENGTH = 4_000;
const MAX_NAME = 128;
const MAX_BUCKETS = 1_000;
/** Columns the compiler adds for itself; a user column may not take such a name. */
export const RESERVED_PREFIX = '__mass_';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}
export type Schema = readonly Column[];

export type OutlierMethod =
  { readonly method: 'iqr'; readonly k: number } | { readonly method: 'zscore'; readonly threshold: number };

export type Step =
  | { readonly type: 'select'; readonly columns: readonly string[] }
  | { readonly type: 'drop'; readonly columns: readonly string[] }
  | { readonly type: 'rename'; readonly columns: Readonly<Record<string, string>> }
  | { readonly type: 'cast'; readonly columns: Readonly<Record<string, ColumnType>> }
  | { readonly type: 'filter'; readonly expression: string; readonly expr: Expr }
  | { readonly type: 'drop_duplicates'; readonly columns?: readonly string[] }
  | {
      readonly type: 'impute';
      readonly columns: readonly string[];
      readonly strategy: 'mean' | 'median' | 'most_frequent' | 'constant';
      readonly value?: string | number | boolean;
    }
  | { readonly type: 'standardize'; readonly columns: readonly string[] }
  | { readonly type: 'normalize'; readonly columns: readonly string[] }
  | ({ readonly type: 'clip_outliers'; readonly columns: readonly string[] } & OutlierMethod)
  | ({ readonly type: 'drop_outliers'; readonly columns: readonly string[] } & OutlierMethod)
  | { readonly type: 'derive'; readonly name: string; readonly expression: string; readonly expr: Expr }
  | {
      readonly type: 'bucket';
      readonly column: string;
      readonly name: string;
      readonly edges?: readonly number[];
      readonly quantiles?: number;
      readonly labels?: readonly string[];
    }
  | { readonly type: 'date_parts'; readonly column: string; readonly parts: readonly DatePart[] }
  | {
      readonly type: 'join';
      readonly with: string;
      readonly on: readonly string[];
      readonly how: 'inner' | 'left';
      /** Right-hand column → output name, for the columns it brings (on-columns excluded). */
      readonly bring: readonly (readonly [string, string])[];
    }
  | { readonly type: 'union'; readonly with: string }
  | { readonly type: 'sample'; readonly n?: number; readonly fraction?: number; readonly seed: number }
  | {
      readonly type: 'split';
      readonly train: number;
      readonly validation: number;
      readonly test: number;
      readonly seed: number;
      readonly column: string;
      /** Split each class of this column in the fractions (missing values are one more class). */
      readonly stratify?: string;
    };

/** A named input: a dataset pinned to a version, or "latest" (resolved when a run is submitted). */
export interface InputRef {
  readonly dataset: string;
  readonly version: number | 'latest';
}
export const MAIN_INPUT = 'main';
const INPUT_ALIAS = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A checked recipe: the steps and the schema after each of them (schemas[0] is the main input's). */
export interface Plan {
  readonly steps: readonly Step[];
  readonly schemas: readonly Schema[];
  readonly output: Schema;
}

/** Collects issues; the first one also becomes the error's detail. */
class Issues {
  readonly list: FieldIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  throwIfAny(): void {
    const first = this.list[0];
    if (first)
      throw new AppError('VALIDATION_FAILED', `${first.path}: ${first.message}`, this.list.slice(0, 20));
  }
}

class StepError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
const fail = (field: string, message: string): never => {
  throw new StepError(field, message);
};

/** Checks the `inputs` object of a recipe version: `{ main: {dataset, version}, <alias>: ... }`. */
export function parseInputs(raw: unknown): Record<string, InputRef> {
  const issues = new Issues();
  const out: Record<string, InputRef> = {};
  if (!isObject(raw)) {
    issues.add('/inputs', 'must be an object of named inputs, with at least "main"');
    issues.throwIfAny();
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 20) issues.add('/inputs', 'at most 20 inputs');
  if (!('main' in (raw as object))) issues.add('/inputs/main', 'the main input is required');
  for (const [alias, value] of entries) {
    const path = `/inputs/${alias}`;
    if (!INPUT_ALIAS.test(alias)) {
      issues.add(path, 'an input name is 1 to 64 letters, digits and underscores, not starting with a digit');
      continue;
    }
    if (!isObject(value)) {
      issues.add(path, 'must be {"dataset": name, "version": n | "latest"}');
      continue;
    }
    const extra = Object.keys(value).filter((k) => k !== 'dataset' && k !== 'version');
    if (extra.length > 0) issues.add(`${path}/${extra[0]}`, 'is not a field of an input');
    const { dataset, version = 'latest' } = value;
    if (typeof dataset !== 'string' || !DATASET_NAME.test(dataset)) {
      issues.add(`${path}/dataset`, 'must be a dataset name');
      continue;
    }
    if (version !== 'latest' && !(Number.isInteger(version) && (version as number) >= 1)) {
      issues.add(`${path}/version`, 'must be a version number (1, 2, ...) or "latest"');
      continue;
    }
    out[alias] = { dataset, version: version as number | 'latest' };
  }
  issues.throwIfAny();
  return out;
}

/**
 * Checks raw steps against the schemas of the inputs, tracking the schema through every step, so
 * that a step naming a column an earlier step dropped is refused here, with the step's index and
 * field (`/steps/3/expression`), before anything runs.
 */
export function planRecipe(rawSteps: unknown, inputs: Readonly<Record<string, Schema>>): Plan {
  const issues = new Issues();
  if (!Array.isArray(rawSteps)) {
    issues.add('/steps', 'must be an array of steps');
    issues.throwIfAny();
  }
  const raw = rawSteps as unknown[];
  if (raw.length > MAX_STEPS) {
    issues.add('/steps', `at most ${MAX_STEPS} steps`);
    issues.throwIfAny();
  }
  const main = inputs[MAIN_INPUT];
  if (!main)
    throw new AppError('VALIDATION_FAILED', 'the main input is required', [
      { path: '/inputs/main', message: 'the main input is required' },
    ]);
  for (const c of main) {
    if (c.name.startsWith(RESERVED_PREFIX))
      issues.add(
        '/inputs/main',
        `the column ${JSON.stringify(c.name)} uses the reserved prefix ${RESERVED_PREFIX}`,
      );
  }
  issues.throwIfAny();
  const steps: Step[] = [];
  const schemas: Schema[] = [main];
  let schema: Schema = main;
  for (let i = 0; i < raw.length; i++) {
    try {
      const step = checkStep(raw[i], schema, inputs);
      steps.push(step);
      schema = nextSchema(step, schema, inputs);
      schemas.push(schema);
    } catch (error) {
      if (error instanceof StepError) {
        issues.add(error.field ? `/steps/${i}/${error.field}` : `/steps/${i}`, error.message);
        issues.throwIfAny();
      }
      throw error;
    }
  }
  if (schema.length === 0) {
    issues.add(`/steps/${Math.max(0, raw.length - 1)}`, 'the recipe leaves no column');
    issues.throwIfAny();
  }
  return { steps, schemas, output: schema };
}

const FIELDS: Readonly<Record<StepType, readonly string[]>> = {
  select: ['columns'],
  drop: ['columns'],
  rename: ['columns'],
  cast: ['columns'],
  filter: ['expression'],
  drop_duplicates: ['columns'],
  impute: ['columns', 'column', 'strategy', 'value'],
  standardize: ['columns'],
  normalize: ['columns'],
  clip_outliers: ['columns', 'method', 'k', 'threshold'],
  drop_outliers: ['columns', 'method', 'k', 'threshold'],
  derive: ['name', 'expression'],
  bucket: ['column', 'name', 'edges', 'quantiles', 'labels'],
  date_parts: ['column', 'parts'],
  join: ['with', 'on', 'how'],
  union: ['with'],
  sample: ['n', 'fraction', 'seed'],
  split: ['fractions', 'seed', 'column', 'stratify'],
};

function checkStep(raw: unknown, schema: Schema, inputs: Readonly<Record<string, Schema>>): Step {
  if (!isObject(raw)) return fail('', 'a step is an object with a "type"');
  const type = raw.type;
  if (typeof type !== 'string' || !(STEP_TYPES as readonly string[]).includes(type))
    return fail('type', `unknown step type ${JSON.stringify(type)}; one of ${STEP_TYPES.join(', ')}`);
  const t = type as StepType;
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && !FIELDS[t].includes(key))
      fail(key, `is not a field of a ${t} step (fields: ${FIELDS[t].join(', ')})`);
  }
  const types = new Map(schema.map((c) => [c.name, c.type]));
  const column = (field: string, value: unknown, allowed?: readonly ColumnType[]): string => {
    if (typeof value !== 'string' || value.length === 0) return fail(field, 'must be a column name');
    const ct = types.get(value);
    if (!ct) return fail(field, `no column ${JSON.stringify(value)} at this step; columns: ${list(schema)}`);
    if (allowed && !allowed.includes(ct))
      fail(field, `${JSON.stringify(value)} is ${ct}; this step needs ${allowed.join(' or ')}`);
    return value;
  };
  const columns = (field: string, value: unknown, allowed?: readonly ColumnType[]): string[] => {
    if (!Array.isArray(value) || value.length === 0)
      return fail(field, 'must be a non-empty array of column names');
    const out = value.map((v, j) => column(`${field}/${j}`, v, allowed));
    if (new Set(out).size !== out.length) fail(field, 'a column is named twice');
    return out;
  };
  const newName = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME)
      return fail(field, `must be a column name of 1 to ${MAX_NAME} characters`);
    if (value.startsWith(RESERVED_PREFIX)) fail(field, `names starting with ${RESERVED_PREFIX} are reserved`);
    return value;
  };
  const seed = (value: unknown): number => {
    if (value === undefined) return 42;
    if (!Number.isSafeInteger(value) || (value as number) < 0)
      return fail('seed', 'must be a whole number ≥ 0');
    return value as number;
  };
  const expression = (
    field: string,
    value: unknown,
    names: Schema,
  ): { text: string; expr: Expr; type: ExprType } => {
    if (typeof value !== 'string' || value.trim() === '') return fail(field, 'must be an expression');
    if (value.length > MAX_EXPRESSION_LENGTH)
      fail(field, `the expression is ${value.length} characters long; at most ${MAX_EXPRESSION_LENGTH}`);
    try {
      const expr = parseExpression(value);
      const type = checkExpression(expr, Object.fromEntries(names.map((c) => [c.name, exprType(c.type)])));
      return { text: value, expr, type };
    } catch (error) {
      if (error instanceof ExprError) return fail(field, `${error.message} (at position ${error.position})`);
      if (error instanceof RangeError) return fail(field, 'the expression is nested too deeply');
      throw error;
    }
  };
  const numeric: readonly ColumnType[] = ['numeric', 'integer'];
  const outliers = (): OutlierMethod => {
    const method = raw.method ?? 'iqr';
    if (method === 'iqr') {
      if (raw.threshold !== undefined) fail('threshold', 'is for method zscore; iqr takes k');
      const k = raw.k ?? 1.5;
      if (typeof k !== 'number' || !(k > 0) || !Number.isFinite(k)) return fail('k', 'must be a number > 0');
      return { method, k };
    }
    if (method === 'zscore') {
      if (raw.k !== undefined) fail('k', 'is for method iqr; zscore takes threshold');
      const threshold = raw.threshold ?? 3;
      if (typeof threshold !== 'number' || !(threshold > 0) || !Number.isFinite(threshold))
        return fail('threshold', 'must be a number > 0');
      return { method, threshold };
    }
    return fail('method', 'must be iqr or zscore');
  };
  const otherInput = (value: unknown): string => {
    if (typeof value !== 'string') return fail('with', 'must name one of the recipe inputs');
    if (value === MAIN_INPUT) fail('with', 'must name an input other than main');
    if (!inputs[value])
      fail(
        'with',
        `no input ${JSON.stringify(value)}; declare it in inputs (declared: ${Object.keys(inputs).join(', ')})`,
      );
    return value;
  };

  switch (t) {
    case 'select':
      return { type: t, columns: columns('columns', raw.columns) };
    case 'drop': {
      const cols = columns('columns', raw.columns);
      if (cols.length === schema.length) fail('columns', 'would drop every column');
      return { type: t, columns: cols };
    }
    case 'rename': {
      if (!isObject(raw.columns) || Object.keys(raw.columns).length === 0)
        return fail('columns', 'must be an object {"old name": "new name"}');
      const map: Record<string, string> = {};
      for (const [from, to] of Object.entries(raw.columns)) {
        column(`columns/${from}`, from);
        map[from] = newName(`columns/${from}`, to);
      }
      const after = schema.map((c) => map[c.name] ?? c.name);
      const seen = new Set<string>();
      for (const name of after) {
        if (seen.has(name)) fail('columns', `two columns would be named ${JSON.stringify(name)}`);
        seen.add(name);
      }
      return { type: t, columns: map };
    }
    case 'cast': {
      if (!isObject(raw.columns) || Object.keys(raw.columns).length === 0)
        return fail('columns', 'must be an object {"column": "type"}');
      const map: Record<string, ColumnType> = {};
      for (const [name, to] of Object.entries(raw.columns)) {
        column(`columns/${name}`, name);
        if (typeof to !== 'string' || !(COLUMN_TYPES as readonly string[]).includes(to))
          fail(`columns/${name}`, `must be one of ${COLUMN_TYPES.join(', ')}`);
        map[name] = to as ColumnType;
      }
      return { type: t, columns: map };
    }
    case 'filter': {
      const e = expression('expression', raw.expression, schema);
      if (e.type !== 'boolean' && e.type !== 'any' && e.type !== 'null')
        fail('expression', `a filter keeps the rows where the expression is true; this one is ${e.type}`);
      return { type: t, expression: e.text, expr: e.expr };
    }
    case 'drop_duplicates':
      return raw.columns === undefined ? { type: t } : { type: t, columns: columns('columns', raw.columns) };
    case 'impute': {
      if (raw.column !== undefined && raw.columns !== undefined)
        fail('column', 'give column or columns, not both');
      const cols =
        raw.column !== undefined ? [column('column', raw.column)] : columns('columns', raw.columns);
      const field = raw.column !== undefined ? 'column' : 'columns';
      const strategy = raw.strategy;
      if (
        strategy !== 'mean' &&
        strategy !== 'median' &&
        strategy !== 'most_frequent' &&
        strategy !== 'constant'
      )
        return fail('strategy', 'must be mean, median, most_frequent or constant');
      if (strategy === 'mean' || strategy === 'median') {
        cols.forEach((c, j) => {
          if (!numeric.includes(types.get(c)!))
            fail(
              raw.column !== undefined ? field : `${field}/${j}`,
              `${JSON.stringify(c)} is ${types.get(c)}; ${strategy} needs a numeric column`,
            );
        });
      }
      if (strategy !== 'constant') {
        if (raw.value !== undefined) fail('value', 'is only for strategy constant');
        return { type: t, columns: cols, strategy };
      }
      const value = raw.value;
      for (const c of cols) {
        const ct = types.get(c)!;
        const ok =
          ct === 'numeric'
            ? typeof value === 'number' && Number.isFinite(value)
            : ct === 'integer'
              ? Number.isSafeInteger(value)
              : ct === 'boolean'
                ? typeof value === 'boolean'
                : ct === 'datetime'
                  ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
                  : typeof value === 'string' && value.length <= 10_000;
        if (!ok) fail('value', `must be a ${valueKind(ct)} to fill the ${ct} column ${JSON.stringify(c)}`);
      }
      return { type: t, columns: cols, strategy, value: value as string | number | boolean };
    }
    case 'standardize':
    case 'normalize':
      return { type: t, columns: columns('columns', raw.columns, numeric) };
    case 'clip_outliers':
    case 'drop_outliers':
      return { type: t, columns: columns('columns', raw.columns, numeric), ...outliers() };
    case 'derive': {
      const name = newName('name', raw.name);
      const e = expression('expression', raw.expression, schema);
      if (e.type === 'null') fail('expression', 'the expression is always null');
      return { type: t, name, expression: e.text, expr: e.expr };
    }
    case 'bucket': {
      const col = column('column', raw.column, numeric);
      const name = raw.name === undefined ? col : newName('name', raw.name);
      if (name !== col && types.has(name)) fail('name', `a column ${JSON.stringify(name)} exists already`);
      if ((raw.edges === undefined) === (raw.quantiles === undefined))
        fail('edges', 'give edges (an increasing list of numbers) or quantiles (a number of buckets)');
      let count: number;
      let edges: number[] | undefined;
      let quantiles: number | undefined;
      if (raw.edges !== undefined) {
        if (!Array.isArray(raw.edges) || raw.edges.length === 0 || raw.edges.length >= MAX_BUCKETS)
          return fail('edges', `must be a list of 1 to ${MAX_BUCKETS - 1} numbers`);
        edges = raw.edges.map((e, j) => {
          if (typeof e !== 'number' || !Number.isFinite(e))
            return fail(`edges/${j}`, 'must be a finite number');
          if (j > 0 && !(e > (raw.edges as number[])[j - 1]!))
            fail(`edges/${j}`, 'edges must increase strictly');
          return e;
        });
        count = edges.length + 1;
      } else {
        if (
          !Number.isInteger(raw.quantiles) ||
          (raw.quantiles as number) < 2 ||
          (raw.quantiles as number) > MAX_BUCKETS
        )
          return fail('quantiles', `must be a whole number of buckets from 2 to ${MAX_BUCKETS}`);
        quantiles = raw.quantiles as number;
        count = quantiles;
      }
      let labels: string[] | undefined;
      if (raw.labels !== undefined) {
        if (!Array.isArray(raw.labels) || raw.labels.some((l) => typeof l !== 'string' || l.length > 200))
          return fail('labels', 'must be a list of strings');
        if (raw.labels.length !== count)
          fail('labels', `${count} buckets need ${count} labels, got ${raw.labels.length}`);
        labels = raw.labels as string[];
      }
      return {
        type: t,
        column: col,
        name,
        ...(edges ? { edges } : {}),
        ...(quantiles ? { quantiles } : {}),
        ...(labels ? { labels } : {}),
      };
    }
    case 'date_parts': {
      const col = column('column', raw.column);
      if (types.get(col) !== 'datetime')
        fail('column', `${JSON.stringify(col)} is ${types.get(col)}; cast it to datetime first`);
      if (!Array.isArray(raw.parts) || raw.parts.length === 0)
        return fail('parts', `must list parts: ${DATE_PARTS.join(', ')}`);
      const parts = raw.parts.map((p, j) => {
        if (!(DATE_PARTS as readonly unknown[]).includes(p))
          return fail(`parts/${j}`, `must be one of ${DATE_PARTS.join(', ')}`);
        if (types.has(`${col}_${p as string}`))
          fail(`parts/${j}`, `a column ${JSON.stringify(`${col}_${p as string}`)} exists already`);
        return p as DatePart;
      });
      if (new Set(parts).size !== parts.length) fail('parts', 'a part is named twice');
      return { type: t, column: col, parts };
    }
    case 'join': {
      const other = otherInput(raw.with);
      const right = inputs[other]!;
      const rightTypes = new Map(right.map((c) => [c.name, c.type]));
      const on = columns('on', raw.on);
      on.forEach((name, j) => {
        const rt = rightTypes.get(name);
        if (!rt)
          fail(
            `on/${j}`,
            `the input ${other} has no column ${JSON.stringify(name)}; columns: ${list(right)}`,
          );
        if (!joinable(types.get(name)!, rt!))
          fail(`on/${j}`, `${JSON.stringify(name)} is ${types.get(name)} here and ${rt} in ${other}`);
      });
      const how = raw.how ?? 'inner';
      if (how !== 'inner' && how !== 'left') fail('how', 'must be inner or left');
      const bring: [string, string][] = [];
      const taken = new Set(schema.map((c) => c.name));
      for (const c of right) {
        if (on.includes(c.name)) continue;
        if (c.name.startsWith(RESERVED_PREFIX)) fail('with', `the input ${other} has a reserved column name`);
        const name = taken.has(c.name) ? `${c.name}_${other}` : c.name;
        if (taken.has(name))
          fail(
            'with',
            `the column ${JSON.stringify(c.name)} of ${other} collides with ${JSON.stringify(name)}; rename one first`,
          );
        taken.add(name);
        bring.push([c.name, name]);
      }
      return { type: t, with: other, on, how: how as 'inner' | 'left', bring };
    }
    case 'union': {
      const other = otherInput(raw.with);
      for (const c of inputs[other]!) {
        const mine = types.get(c.name);
        if (mine && !unionType(mine, c.type))
          fail('with', `the column ${JSON.stringify(c.name)} is ${mine} here and ${c.type} in ${other}`);
        if (c.name.startsWith(RESERVED_PREFIX)) fail('with', `the input ${other} has a reserved column name`);
      }
      return { type: t, with: other };
    }
    case 'sample': {
      if ((raw.n === undefined) === (raw.fraction === undefined))
        fail('n', 'give n (rows) or fraction, not both');
      if (raw.n !== undefined) {
        if (!Number.isSafeInteger(raw.n) || (raw.n as number) < 1) fail('n', 'must be a whole number ≥ 1');
        return { type: t, n: raw.n as number, seed: seed(raw.seed) };
      }
      if (typeof raw.fraction !== 'number' || !(raw.fraction > 0 && raw.fraction <= 1))
        fail('fraction', 'must be a number in (0, 1]');
      return { type: t, fraction: raw.fraction as number, seed: seed(raw.seed) };
    }
    case 'split': {
      const f = raw.fractions;
      if (!isObject(f)) return fail('fractions', 'must be {"train": 0.7, "validation": 0.15, "test": 0.15}');
      for (const key of Object.keys(f))
        if (!['train', 'validation', 'test'].includes(key))
          fail(`fractions/${key}`, 'must be train, validation or test');
      const get = (key: string): number => {
        const v = f[key] ?? 0;
        if (typeof v !== 'number' || !(v >= 0 && v <= 1))
          return fail(`fractions/${key}`, 'must be a number in [0, 1]');
        return v;
      };
      const train = get('train');
      const validation = get('validation');
      const test = get('test');
      if (Math.abs(train + validation + test - 1) > 1e-9)
        fail('fractions', `must add up to 1 (they add up to ${train + validation + test})`);
      const name = raw.column === undefined ? 'split' : newName('column', raw.column);
      if (types.has(name))
        fail('column', `a column ${JSON.stringify(name)} exists already; name the split column`);
      const stratify = raw.stratify === undefined ? undefined : column('stratify', raw.stratify);
      return {
        type: t,
        train,
        validation,
        test,
        seed: seed(raw.seed),
        column: name,
        ...(stratify !== undefined ? { stratify } : {}),
      };
    }
  }
}

/** The schema after a checked step. */
function nextSchema(step: Step, schema: Schema, inputs: Readonly<Record<string, Schema>>): Schema {
  switch (step.type) {
    case 'select':
      return step.columns.map((name) => schema.find((c) => c.name === name)!);
    case 'drop':
      return schema.filter((c) => !step.columns.includes(c.name));
    case 'rename':
      return schema.map((c) => ({ name: step.columns[c.name] ?? c.name, type: c.type }));
    case 'cast':
      return schema.map((c) => ({ name: c.name, type: step.columns[c.name] ?? c.type }));
    case 'filter':
    case 'drop_duplicates':
    case 'drop_outliers':
    case 'sample':
      return schema;
    case 'impute':
      return schema.map((c) =>
        step.columns.includes(c.name) && (step.strategy === 'mean' || step.strategy === 'median')
          ? { name: c.name, type: 'numeric' }
          : c,
      );
    case 'standardize':
    case 'normalize':
    case 'clip_outliers':
      return schema.map((c) => (step.columns.includes(c.name) ? { name: c.name, type: 'numeric' } : c));
    case 'derive': {
      const type = columnType(
        checkExpression(step.expr, Object.fromEntries(schema.map((c) => [c.name, exprType(c.type)]))),
      );
      return schema.some((c) => c.name === step.name)
        ? schema.map((c) => (c.name === step.name ? { name: c.name, type } : c))
        : [...schema, { name: step.name, type }];
    }
    case 'bucket':
      return step.name === step.column
        ? schema.map((c) => (c.name === step.column ? { name: c.name, type: 'categorical' } : c))
        : [...schema, { name: step.name, type: 'categorical' }];
    case 'date_parts':
      return [
        ...schema,
        ...step.parts.map((p) => ({ name: `${step.column}_${p}`, type: 'integer' as const })),
      ];
    case 'join': {
      const right = new Map(inputs[step.with]!.map((c) => [c.name, c.type]));
      return [...schema, ...step.bring.map(([from, to]) => ({ name: to, type: right.get(from)! }))];
    }
    case 'union': {
      const right = inputs[step.with]!;
      const mine = new Set(schema.map((c) => c.name));
      const rightTypes = new Map(right.map((c) => [c.name, c.type]));
      return [
        ...schema.map((c) => {
          const rt = rightTypes.get(c.name);
          return rt ? { name: c.name, type: unionType(c.type, rt)! } : c;
        }),
        ...right.filter((c) => !mine.has(c.name)),
      ];
    }
    case 'split':
      return [...schema, { name: step.column, type: 'categorical' }];
  }
}

export function exprType(type: ColumnType): ExprType {
  switch (type) {
    case 'numeric':
    case 'integer':
      return 'number';
    case 'categorical':
    case 'text':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'datetime':
      return 'date';
  }
}

function columnType(type: ExprType): ColumnType {
  switch (type) {
    case 'number':
      return 'numeric';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'datetime';
    case 'string':
      return 'categorical';
    default:
      return 'text';
  }
}

/** The type two columns unite to, or undefined when they cannot. */
export function unionType(a: ColumnType, b: ColumnType): ColumnType | undefined {
  if (a === b) return a;
  const num = ['numeric', 'integer'];
  const str = ['categorical', 'text'];
  if (num.includes(a) && num.includes(b)) return 'numeric';
  if (str.includes(a) && str.includes(b)) return 'text';
  return undefined;
}

function joinable(a: ColumnType, b: ColumnType): boolean {
  return unionType(a, b) !== undefined;
}

function valueKind(type: ColumnType): string {
  return type === 'numeric'
    ? 'number'
    : type === 'integer'
      ? 'whole number'
      : type === 'boolean'
        ? 'boolean'
        : type === 'datetime'
          ? 'date string (ISO 8601)'
          : 'string';
}

function list(schema: Schema): string {
  const names = schema.map((c) => c.name);
  return names.length > 30 ? `${names.slice(0, 30).join(', ')}, ...` : names.join(', ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
