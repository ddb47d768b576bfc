// The function allow-list: each function's arity, type rule, JavaScript evaluation and DuckDB SQL,
// side by side so the two stay in agreement. Nothing outside this table can be called.
import type { ExprType } from './ast.js';
import {
  compareStrings,
  finite,
  parseNumber,
  parseTimestamp,
  roundHalfAway,
  runtimeType,
  toDate,
  valueToString,
  type Value,
} from './values.js';

/** A problem with one argument (index `arg`), or with the call when `arg` is -1. */
export class ArgProblem extends Error {
  constructor(
    message: string,
    readonly arg: number,
  ) {
    super(message);
  }
}

export interface FunctionSpec {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** One line for the documentation. */
  readonly summary: string;
  /** Result type from the argument types; throws ArgProblem. */
  check(types: readonly ExprType[]): ExprType;
  /** Result from argument values; throws ArgProblem on a runtime type mismatch. */
  evaluate(args: readonly Value[]): Value;
  /** DuckDB SQL from the SQL of the arguments and their (possibly `any`) types. */
  sql(args: readonly string[], types: readonly ExprType[]): string;
}

// ---- type rules -------------------------------------------------------------------------------

function accepts(t: ExprType, want: ExprType): boolean {
  return t === want || t === 'null' || t === 'any';
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function need(fn: string, types: readonly ExprType[], i: number, want: ExprType): void {
  const t = types[i]!;
  if (accepts(t, want)) return;
  const hint = want === 'date' && t === 'string' ? ' (convert it with date(...))' : '';
  throw new ArgProblem(`${fn}() expects ${article(want)} as argument ${i + 1}, got ${article(t)}${hint}`, i);
}

/** The common type of several branches or arguments: null and any give way to the others. */
export function unifyTypes(types: readonly ExprType[], what: string): ExprType {
  let out: ExprType = 'null';
  let sawAny = false;
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t === 'null') continue;
    if (t === 'any') {
      sawAny = true;
      continue;
    }
    if (out === 'null') out = t;
    else if (out !== t) throw new ArgProblem(`${what} mixes ${out} and ${t}`, i);
  }
  return out === 'null' && sawAny ? 'any' : out;
}

function orderable(fn: string, types: readonly ExprType[]): ExprType {
  const t = unifyTypes(types, `${fn}()`);
  if (t === 'boolean') throw new ArgProblem(`${fn}() cannot order booleans`, 0);
  return t;
}

// ---- runtime argument checks -----------------------------------------------------------------

function num(fn: string, v: Value, i: number): number | null {
  if (v === null || typeof v === 'number') return v;
  throw new ArgProblem(`${fn}() expects a number as argument ${i + 1}, got ${article(runtimeType(v))}`, i);
}
function str(fn: string, v: Value, i: number): string | null {
  if (v === null || typeof v === 'string') return v;
  throw new ArgProblem(`${fn}() expects a string as argument ${i + 1}, got ${article(runtimeType(v))}`, i);
}
function bool(fn: string, v: Value, i: number): boolean | null {
  if (v === null || typeof v === 'boolean') return v;
  throw new ArgProblem(`${fn}() expects a boolean as argument ${i + 1}, got ${article(runtimeType(v))}`, i);
}
function date(fn: string, v: Value, i: number): Date | null {
  const d = toDate(v);
  if (d !== undefined) return d;
  throw new ArgProblem(`${fn}() expects a date as argument ${i + 1}, got ${article(runtimeType(v))}`, i);
}

/** Orders two non-null values of one type (numbers, strings, or dates / ISO strings). */
export function compareValues(a: Exclude<Value, null>, b: Exclude<Value, null>): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Date || b instanceof Date) {
    const x = toDate(a);
    const y = toDate(b);
    if (x === undefined || y === undefined) return undefined;
    if (x === null || y === null) return undefined;
    return Math.sign(x.getTime() - y.getTime());
  }
  return undefined;
}

function extreme(fn: string, args: readonly Value[], sign: 1 | -1): Value {
  let best: Value = null;
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!;
    if (v === null) continue;
    if (best === null) {
      best = v;
      continue;
    }
    const c = compareValues(v, best);
    if (c === undefined || typeof v === 'boolean') {
      throw new ArgProblem(`${fn}() cannot order ${runtimeType(v)} against ${runtimeType(best)}`, i);
    }
    if (c * sign > 0) best = v;
  }
  return best;
}

// ---- SQL helpers -------------------------------------------------------------------------------

// DuckDB rewrites NULLIF(a, b) and a BETWEEN b AND c into CASE/AND forms that repeat `a`; nested,
// that grows exponentially (ten nested BETWEENs already exhaust memory). Wherever a value is needed
// twice it is bound once with a lambda over a one-element list, whose body holds only the lambda's
// parameter and constants (so no user name can be captured and lambdas never nest inside bodies).
const FINITE_SUFFIX = '], lambda v: isfinite(v))[1]';
/** Binds x to v once and evaluates body (which may use v several times). */
export const sqlLet = (x: string, body: string): string => `list_transform([${x}], lambda v: ${body})[1]`;
/** Infinities and NaN become NULL (an empty list's first element). */
export const sqlFinite = (x: string): string => `list_filter([${x}${FINITE_SUFFIX}`;
/**
 * Whether compiled SQL is already a DOUBLE. Every compiled expression is a single term (a call, a
 * parenthesised operation, CASE ... END, a literal or a quoted name), so one that starts with 'CAST('
 * and ends with ' AS DOUBLE)' is one cast to DOUBLE, and one that starts with 'list_filter([' and ends
 * with the finite() suffix is a finite() of a DOUBLE. Skipping the redundant cast keeps DuckDB's
 * expression depth (limit 1000) low.
 */
function isDoubleSql(x: string): boolean {
  return (
    (x.startsWith('CAST(') && x.endsWith(' AS DOUBLE)')) ||
    (x.startsWith('list_filter([') && x.endsWith(FINITE_SUFFIX))
  );
}
/** x as a DOUBLE. */
export const sqlNum = (x: string): string => (isDoubleSql(x) ? x : `CAST(${x} AS DOUBLE)`);
const sqlTs = (x: string): string => `TRY_CAST(${x} AS TIMESTAMP)`;
/** An integer argument: truncated, NULL when it does not fit (instead of a conversion error). */
const sqlInt = (x: string, type: 'BIGINT' | 'INTEGER'): string => `TRY_CAST(trunc(${sqlNum(x)}) AS ${type})`;

function sqlTyped(x: string, t: ExprType): string {
  if (t === 'number') return sqlNum(x);
  if (t === 'date') return sqlTs(x);
  return x;
}

/** The text of a value in SQL, matching valueToString. */
export function sqlToString(x: string, t: ExprType): string {
  switch (t) {
    case 'string':
      return x;
    case 'number':
      // + 0 turns -0 into 0; DuckDB prints integral doubles as '5.0', trimmed to '5' like formatNumber.
      return `regexp_replace(CAST(${sqlNum(x)} + 0 AS VARCHAR), '\\.0$', '')`;
    case 'date':
      return `CAST(${sqlTs(x)} AS VARCHAR)`;
    case 'null':
      return 'CAST(NULL AS VARCHAR)';
    default:
      return `CAST(${x} AS VARCHAR)`;
  }
}

// ---- JavaScript mirrors of DuckDB functions ----------------------------------------------------

const INT64_LIMIT = 2 ** 63;
const INT32_LIMIT = 2 ** 31;

/** trunc(x) when it fits a signed integer of [-limit, limit), else null (DuckDB's TRY_CAST). */
function toInt(x: number | null, limit: number): number | null {
  if (x === null) return null;
  const t = Math.trunc(x);
  return t < -limit || t >= limit ? null : t;
}

/** DuckDB's round(DOUBLE, INTEGER). */
function roundDigits(x: number, digits: number): number {
  if (digits < 0) {
    const modifier = 10 ** -digits;
    const r = roundHalfAway(x / modifier) * modifier;
    return Number.isFinite(r) ? r : 0;
  }
  const modifier = 10 ** digits;
  const r = roundHalfAway(x * modifier) / modifier;
  return Number.isFinite(r) ? r : x;
}

/** DuckDB's substring on code points: 1-based, 0 starts before the first character, negative counts from the end, a negative length takes characters before start. */
function substring(s: string, offset: number, length: number): string {
  const chars = Array.from(s);
  const size = chars.length;
  if (length === 0) return '';
  let start: number;
  if (offset > 0) start = Math.min(size, offset - 1);
  else if (offset < 0) start = Math.max(size + offset, 0);
  else {
    start = 0;
    length--;
    if (length <= 0) return '';
  }
  let end: number;
  if (length > 0) end = Math.min(size, start + length);
  else {
    end = start;
    start = Math.max(0, start + length);
  }
  return chars.slice(start, end).join('');
}

// ---- the table ---------------------------------------------------------------------------------

function numeric1(
  fnName: string,
  summary: string,
  f: (x: number) => number | null,
  sql: (x: string) => string,
): FunctionSpec {
  return {
    name: fnName,
    minArgs: 1,
    maxArgs: 1,
    summary,
    check(types) {
      need(fnName, types, 0, 'number');
      return 'number';
    },
    evaluate(args) {
      const x = num(fnName, args[0]!, 0);
      return x === null ? null : f(x);
    },
    sql: ([x]) => sql(sqlNum(x!)),
  };
}

function string1(
  fnName: string,
  summary: string,
  ret: 'string' | 'number',
  f: (s: string) => Value,
  sql: (x: string) => string,
): FunctionSpec {
  return {
    name: fnName,
    minArgs: 1,
    maxArgs: 1,
    summary,
    check(types) {
      need(fnName, types, 0, 'string');
      return ret;
    },
    evaluate(args) {
      const s = str(fnName, args[0]!, 0);
      return s === null ? null : f(s);
    },
    sql: ([x]) => sql(x!),
  };
}

function string2(
  fnName: string,
  summary: string,
  f: (s: string, t: string) => boolean,
  sqlName: string,
): FunctionSpec {
  return {
    name: fnName,
    minArgs: 2,
    maxArgs: 2,
    summary,
    check(types) {
      need(fnName, types, 0, 'string');
      need(fnName, types, 1, 'string');
      return 'boolean';
    },
    evaluate(args) {
      const s = str(fnName, args[0]!, 0);
      const t = str(fnName, args[1]!, 1);
      return s === null || t === null ? null : f(s, t);
    },
    sql: ([a, b]) => `${sqlName}(${a}, ${b})`,
  };
}

function datePart(fnName: string, summary: string, f: (d: Date) => number, sqlName: string): FunctionSpec {
  return {
    name: fnName,
    minArgs: 1,
    maxArgs: 1,
    summary,
    check(types) {
      need(fnName, types, 0, 'date');
      return 'number';
    },
    evaluate(args) {
      const d = date(fnName, args[0]!, 0);
      return d === null ? null : f(d);
    },
    sql: ([x]) => `CAST(${sqlName}(${sqlTs(x!)}) AS DOUBLE)`,
  };
}

function extremeImpl(fnName: string, summary: string, sign: 1 | -1, sqlName: string): FunctionSpec {
  return {
    name: fnName,
    minArgs: 1,
    maxArgs: Infinity,
    summary,
    check(types) {
      return orderable(fnName, types);
    },
    evaluate(args) {
      return extreme(fnName, args, sign);
    },
    sql(args, types) {
      const t = unifyTypes(types, sqlName);
      return `${sqlName}(${args.map((a) => sqlTyped(a, t)).join(', ')})`;
    },
  };
}

const SPECS: readonly FunctionSpec[] = [
  numeric1('abs', 'absolute value', Math.abs, (x) => `abs(${x})`),
  numeric1('floor', 'largest integer not above x', Math.floor, (x) => `floor(${x})`),
  numeric1('ceil', 'smallest integer not below x', Math.ceil, (x) => `ceil(${x})`),
  numeric1(
    'sqrt',
    'square root; null for a negative x',
    (x) => (x >= 0 ? Math.sqrt(x) : null),
    (x) => sqlLet(x, 'CASE WHEN v >= 0 THEN sqrt(v) END'),
  ),
  numeric1(
    'exp',
    'e to the power x; null on overflow',
    (x) => finite(Math.exp(x)),
    (x) => sqlFinite(`exp(${x})`),
  ),
  numeric1(
    'ln',
    'natural logarithm; null for x <= 0',
    (x) => (x > 0 ? Math.log(x) : null),
    (x) => sqlLet(x, 'CASE WHEN v > 0 THEN ln(v) END'),
  ),
  numeric1(
    'log10',
    'base-10 logarithm; null for x <= 0',
    (x) => (x > 0 ? Math.log10(x) : null),
    (x) => sqlLet(x, 'CASE WHEN v > 0 THEN log10(v) END'),
  ),
  {
    name: 'round',
    minArgs: 1,
    maxArgs: 2,
    summary: 'round(x[, digits]): half away from zero; digits may be negative (round(1234, -2) = 1200)',
    check(types) {
      need('round', types, 0, 'number');
      if (types.length > 1) need('round', types, 1, 'number');
      return 'number';
    },
    evaluate(args) {
      const x = num('round', args[0]!, 0);
      if (args.length === 1) return x === null ? null : roundHalfAway(x);
      const d = toInt(num('round', args[1]!, 1), INT32_LIMIT);
      return x === null || d === null ? null : roundDigits(x, d);
    },
    sql: ([x, d]) =>
      d === undefined ? `round(${sqlNum(x!)})` : `round(${sqlNum(x!)}, ${sqlInt(d, 'INTEGER')})`,
  },
  {
    name: 'pow',
    minArgs: 2,
    maxArgs: 2,
    summary: 'pow(x, y): x to the power y; null when not a finite real number',
    check(types) {
      need('pow', types, 0, 'number');
      need('pow', types, 1, 'number');
      return 'number';
    },
    evaluate(args) {
      const x = num('pow', args[0]!, 0);
      const y = num('pow', args[1]!, 1);
      return x === null || y === null ? null : finite(x ** y);
    },
    sql: ([x, y]) => sqlFinite(`pow(${sqlNum(x!)}, ${sqlNum(y!)})`),
  },
  extremeImpl('least', 'smallest argument, nulls ignored (null only when all are null)', -1, 'least'),
  extremeImpl('greatest', 'largest argument, nulls ignored (null only when all are null)', 1, 'greatest'),
  {
    name: 'coalesce',
    minArgs: 1,
    maxArgs: Infinity,
    summary: 'first argument that is not null',
    check(types) {
      return unifyTypes(types, 'coalesce()');
    },
    evaluate(args) {
      for (const a of args) if (a !== null) return a;
      return null;
    },
    sql(args, types) {
      const t = unifyTypes(types, 'coalesce()');
      return `coalesce(${args.map((a) => sqlTyped(a, t)).join(', ')})`;
    },
  },
  {
    name: 'if',
    minArgs: 3,
    maxArgs: 3,
    summary: 'if(cond, a, b): a when cond is true, else b (also when cond is null)',
    check(types) {
      need('if', types, 0, 'boolean');
      try {
        return unifyTypes(types.slice(1), 'if()');
      } catch (e) {
        throw e instanceof ArgProblem ? new ArgProblem(e.message, e.arg + 1) : e;
      }
    },
    evaluate(args) {
      return bool('if', args[0]!, 0) === true ? args[1]! : args[2]!;
    },
    sql(args, types) {
      const t = unifyTypes(types.slice(1), 'if()');
      return `CASE WHEN ${args[0]} THEN ${sqlTyped(args[1]!, t)} ELSE ${sqlTyped(args[2]!, t)} END`;
    },
  },
  string1(
    'lower',
    'lower case',
    'string',
    (s) => s.toLowerCase(),
    (x) => `lower(${x})`,
  ),
  string1(
    'upper',
    'upper case',
    'string',
    (s) => s.toUpperCase(),
    (x) => `upper(${x})`,
  ),
  string1(
    'trim',
    'removes leading and trailing spaces (only U+0020, as DuckDB)',
    'string',
    (s) => s.replace(/^ +| +$/g, ''),
    (x) => `trim(${x})`,
  ),
  string1(
    'length',
    'number of characters (Unicode code points)',
    'number',
    (s) => Array.from(s).length,
    (x) => `CAST(length(${x}) AS DOUBLE)`,
  ),
  {
    name: 'substr',
    minArgs: 2,
    maxArgs: 3,
    summary: 'substr(s, start[, len]): 1-based like SQL; a negative start counts from the end',
    check(types) {
      need('substr', types, 0, 'string');
      need('substr', types, 1, 'number');
      if (types.length > 2) need('substr', types, 2, 'number');
      return 'string';
    },
    evaluate(args) {
      const s = str('substr', args[0]!, 0);
      const start = toInt(num('substr', args[1]!, 1), INT64_LIMIT);
      const len = args.length > 2 ? toInt(num('substr', args[2]!, 2), INT64_LIMIT) : Number.MAX_SAFE_INTEGER;
      return s === null || start === null || len === null ? null : substring(s, start, len);
    },
    sql: ([s, start, len]) =>
      len === undefined
        ? `substring(${s}, ${sqlInt(start!, 'BIGINT')})`
        : `substring(${s}, ${sqlInt(start!, 'BIGINT')}, ${sqlInt(len, 'BIGINT')})`,
  },
  {
    name: 'concat',
    minArgs: 1,
    maxArgs: Infinity,
    summary: 'concatenation of the arguments as text; null arguments are skipped (as DuckDB)',
    check() {
      return 'string';
    },
    evaluate(args) {
      let out = '';
      for (const a of args) out += valueToString(a) ?? '';
      return out;
    },
    sql: (args, types) => `concat(${args.map((a, i) => sqlToString(a, types[i]!)).join(', ')})`,
  },
  string2('contains', 'contains(s, sub): whether sub occurs in s', (s, t) => s.includes(t), 'contains'),
  string2('starts_with', 'starts_with(s, prefix)', (s, t) => s.startsWith(t), 'starts_with'),
  string2('ends_with', 'ends_with(s, suffix)', (s, t) => s.endsWith(t), 'ends_with'),
  {
    name: 'to_number',
    minArgs: 1,
    maxArgs: 1,
    summary: "number from text ('12.5', ' 1e3 ', '1_000'), true = 1, false = 0; null when it does not read",
    check(types) {
      if (types[0] === 'date') throw new ArgProblem('to_number() cannot convert a date', 0);
      return 'number';
    },
    evaluate(args) {
      const v = args[0]!;
      if (v === null || typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string') return parseNumber(v);
      throw new ArgProblem('to_number() cannot convert a date', 0);
    },
    sql([x], [t]) {
      if (t === 'number') return sqlNum(x!);
      if (t === 'boolean') return sqlNum(x!);
      if (t === 'null') return 'CAST(NULL AS DOUBLE)';
      return sqlFinite(`TRY_CAST(${x} AS DOUBLE)`);
    },
  },
  {
    name: 'to_string',
    minArgs: 1,
    maxArgs: 1,
    summary:
      "text of a value: 5 → '5', 0.1 → '0.1', 1e20 → '1e+20', true → 'true', dates 'YYYY-MM-DD HH:MM:SS'",
    check() {
      return 'string';
    },
    evaluate: (args) => valueToString(args[0]!),
    sql: ([x], [t]) => sqlToString(x!, t!),
  },
  datePart('year', 'calendar year', (d) => d.getUTCFullYear(), 'year'),
  datePart('month', 'month 1-12', (d) => d.getUTCMonth() + 1, 'month'),
  datePart('day', 'day of the month 1-31', (d) => d.getUTCDate(), 'day'),
  datePart('hour', 'hour 0-23', (d) => d.getUTCHours(), 'hour'),
  datePart('weekday', 'day of the week, 0 = Sunday … 6 = Saturday', (d) => d.getUTCDay(), 'dayofweek'),
  {
    name: 'date',
    minArgs: 1,
    maxArgs: 1,
    summary:
      "date from ISO text 'YYYY-MM-DD[ HH:MM[:SS[.fff]]]' (T also accepted; a zone suffix is ignored); null when invalid",
    check(types) {
      const t = types[0]!;
      if (t !== 'string' && t !== 'date' && t !== 'null' && t !== 'any') {
        throw new ArgProblem(`date() expects a string or a date, got ${article(t)}`, 0);
      }
      return 'date';
    },
    evaluate(args) {
      const v = args[0]!;
      if (v === null || v instanceof Date) return v;
      if (typeof v === 'string') return parseTimestamp(v);
      throw new ArgProblem(`date() expects a string or a date, got ${article(runtimeType(v))}`, 0);
    },
    sql: ([x]) => sqlTs(x!),
  },
  {
    name: 'days_between',
    minArgs: 2,
    maxArgs: 2,
    summary: 'days_between(a, b): calendar days from a to b (midnights crossed; negative when b is earlier)',
    check(types) {
      need('days_between', types, 0, 'date');
      need('days_between', types, 1, 'date');
      return 'number';
    },
    evaluate(args) {
      const a = date('days_between', args[0]!, 0);
      const b = date('days_between', args[1]!, 1);
      if (a === null || b === null) return null;
      const day = 86_400_000;
      return Math.floor(b.getTime() / day) - Math.floor(a.getTime() / day);
    },
    sql: ([a, b]) => `CAST(date_diff('day', ${sqlTs(a!)}, ${sqlTs(b!)}) AS DOUBLE)`,
  },
];

const ALIASES: Readonly<Record<string, string>> = { min: 'least', max: 'greatest' };

const FUNCTIONS = new Map<string, FunctionSpec>(SPECS.map((f) => [f.name, f]));

/** The function called `name` (case-insensitive, aliases resolved), or undefined. */
export function lookupFunction(name: string): FunctionSpec | undefined {
  const lower = name.toLowerCase();
  return FUNCTIONS.get(ALIASES[lower] ?? lower);
}

/** Every function, with its aliases, for documentation and error messages. */
export function listFunctions(): readonly { name: string; aliases: string[]; summary: string }[] {
  return [...FUNCTIONS.values()].map((f) => ({
    name: f.name,
    aliases: Object.keys(ALIASES).filter((a) => ALIASES[a] === f.name),
    summary: f.summary,
  }));
}
