// Runtime values of the evaluator and the conversions shared with the SQL compiler's conventions.
// Dates are naive timestamps: a Date's UTC fields are its wall-clock fields, and a trailing zone in an
// ISO string is ignored, exactly as DuckDB's TIMESTAMP cast does.

export type Value = number | string | boolean | Date | null;

export type RuntimeType = 'number' | 'string' | 'boolean' | 'date' | 'null';

export function runtimeType(v: Value): RuntimeType {
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  return typeof v as 'number' | 'string' | 'boolean';
}

/** Normalises one value from the caller's environment; returns undefined when the value is unusable. */
export function fromEnv(v: unknown): Value | undefined {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      return Number(v);
    case 'string':
    case 'boolean':
      return v;
    default:
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
      return undefined;
  }
}

/** Numbers stay finite: infinities and NaN become null, as the SQL side does with nullif. */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

// DuckDB's TIMESTAMP text format: leading (not trailing) whitespace, 1-2 digit fields, a zone suffix
// only after a time (and then ignored), 24:00:00 as the next midnight.
const TIMESTAMP =
  /^[ \t\n\v\f\r]*(-?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?(?:Z|[+-]\d{2}(?::?\d{2})?| UTC)?)?$/;

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}
function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Parses 'YYYY-MM-DD' or 'YYYY-MM-DD[T| ]HH:MM[:SS[.fff]]' (zone suffix ignored) as DuckDB does; null when invalid. */
export function parseTimestamp(s: string): Date | null {
  const m = TIMESTAMP.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || mi > 59 || sec > 59) return null;
  if (h > 24 || (h === 24 && (mi !== 0 || sec !== 0 || ms !== 0))) return null;
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, sec, ms));
  date.setUTCFullYear(y);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A date operand: a Date, or an ISO string (null when it does not parse). */
export function toDate(v: Value): Date | null | undefined {
  if (v === null) return null;
  if (v instanceof Date) return v;
  if (typeof v === 'string') return parseTimestamp(v);
  return undefined;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** 'YYYY-MM-DD HH:MM:SS[.fff]' with trailing zeros of the fraction removed, as DuckDB prints a TIMESTAMP. */
export function formatTimestamp(d: Date): string {
  let out =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const ms = d.getUTCMilliseconds();
  if (ms !== 0) out += `.${pad(ms, 3).replace(/0+$/, '')}`;
  return out;
}

/**
 * The shortest text that reads back as the same double: plain notation when the decimal exponent is
 * in -4..15 and an integer without '.0', otherwise scientific with a two-digit exponent (1e-05,
 * 1.5e+300). This is DuckDB's DOUBLE-to-VARCHAR format with a trailing '.0' removed.
 */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  const neg = x < 0;
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  let body: string;
  if (exp >= -4 && exp <= 15) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      body = frac ? `${int}.${frac}` : int;
    } else {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp), 2)}`;
  }
  return neg ? `-${body}` : body;
}

/** The text of a value, as to_string and concat produce it; null stays null. */
export function valueToString(v: Value): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return formatTimestamp(v);
}

const NUMBER_TEXT =
  /^[ \t\n\r\v\f]*[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$/;

/** Reads a number from text as DuckDB's TRY_CAST(... AS DOUBLE) does for ordinary numerals; else null. */
export function parseNumber(s: string): number | null {
  if (!NUMBER_TEXT.test(s)) return null;
  return finite(Number(s.trim().replace(/_/g, '')));
}

/** Compares strings by code point (= UTF-8 byte order, DuckDB's default binary collation). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Round half away from zero, C's round(). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
