/**
 * A reader for the one JSON shape that dominates bulk scoring — `{"inputs": [[n, n, ...], ...]}`
 * (or `"instances"`), a matrix of numbers — straight from the request bytes into a Float64Array,
 * about twice as fast as JSON.parse and without allocating a JavaScript array per row.
 * Anything else (another key, a string, null, nesting, invalid JSON) returns undefined, and the
 * body goes through the ordinary JSON parser, which reports errors as usual. Numbers are read
 * exactly as JSON.parse reads them: Clinger's fast path when it is exact (at most 15 significant
 * digits and a power of ten up to 22), Number() otherwise.
 */

/** A numeric matrix read from the body, row-major. */
export class NumericMatrix {
  constructor(
    readonly key: 'inputs' | 'instances',
    readonly rows: number,
    readonly cols: number,
    readonly data: Float64Array,
  ) {}

  /** The rows as arrays (for logging and for models that want JSON values). */
  toJSON(): number[][] {
    const out: number[][] = new Array(this.rows);
    for (let i = 0; i < this.rows; i++)
      out[i] = Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols));
    return out;
  }
}

const POW10 = Float64Array.from({ length: 23 }, (_v, i) => 10 ** i);

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function readNumericMatrix(b: Uint8Array): NumericMatrix | undefined {
  let n = b.length;
  while (n > 0 && isSpace(b[n - 1]!)) n--;
  // The body must end with "}": every scan below stops at a byte that is not a digit, a sign,
  // a dot, an "e" or a space, so only the structural reads need the bounds check (reading past
  // the end of a typed array is slow in V8).
  if (n === 0 || b[n - 1] !== 0x7d) return undefined;
  const at = (k: number) => (k < n ? b[k]! : -1);
  let i = 0;
  while (isSpace(at(i))) i++;
  if (at(i++) !== 0x7b) return undefined; // {
  while (isSpace(at(i))) i++;
  let key: 'inputs' | 'instances';
  if (match(b, i, '"inputs"')) {
    key = 'inputs';
    i += 8;
  } else if (match(b, i, '"instances"')) {
    key = 'instances';
    i += 11;
  } else return undefined;
  while (isSpace(at(i))) i++;
  if (at(i++) !== 0x3a) return undefined; // :
  while (isSpace(at(i))) i++;
  if (at(i++) !== 0x5b) return undefined; // [
  while (isSpace(at(i))) i++;
  // About one number per 8 bytes of body.
  let out = new Float64Array(Math.max(64, n >> 3));
  let len = 0;
  let rows = 0;
  let cols = -1;
  for (;;) {
    if (at(i++) !== 0x5b) return undefined; // [ of a row
    let c = 0;
    for (;;) {
      let ch = b[i]!;
      while (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) ch = b[++i]!;
      const neg = ch === 0x2d;
      if (neg) ch = b[++i]!;
      const start = i;
      let m = 0;
      let digits = 0;
      let exp = 0;
      if (ch === 0x30) {
        ch = b[++i]!;
        if (ch >= 0x30 && ch <= 0x39) return undefined; // a leading zero
      } else {
        while (ch >= 0x30 && ch <= 0x39) {
          m = m * 10 + (ch - 0x30);
          digits++;
          ch = b[++i]!;
        }
        if (digits === 0) return undefined;
      }
      if (ch === 0x2e) {
        ch = b[++i]!;
        const before = digits;
        while (ch >= 0x30 && ch <= 0x39) {
          m = m * 10 + (ch - 0x30);
          digits++;
          ch = b[++i]!;
        }
        if (digits === before) return undefined;
        exp = before - digits;
      }
      if (ch === 0x65 || ch === 0x45) {
        ch = b[++i]!;
        let eneg = false;
        if (ch === 0x2d || ch === 0x2b) {
          eneg = ch === 0x2d;
          ch = b[++i]!;
        }
        let e = 0;
        let edigits = 0;
        while (ch >= 0x30 && ch <= 0x39) {
          e = e * 10 + (ch - 0x30);
          edigits++;
          ch = b[++i]!;
        }
        if (edigits === 0) return undefined;
        exp += eneg ? -e : e;
      }
      // Zeros leading the fraction ("0.000123") count as digits: the fast path is only more cautious.
      let v: number;
      if (digits <= 15 && exp >= -22 && exp <= 22) v = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
      else v = Number(String.fromCharCode(...b.subarray(start, i)));
      if (len === out.length) {
        const grown = new Float64Array(len * 2);
        grown.set(out);
        out = grown;
      }
      out[len++] = neg ? -v : v;
      c++;
      while (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) ch = b[++i]!;
      i++;
      if (ch === 0x2c) continue;
      if (ch === 0x5d) break;
      return undefined;
    }
    if (cols < 0) cols = c;
    else if (c !== cols) return undefined;
    rows++;
    while (isSpace(at(i))) i++;
    if (at(i) === 0x2c) {
      i++;
      while (isSpace(at(i))) i++;
      continue;
    }
    if (at(i) === 0x5d) {
      i++;
      break;
    }
    return undefined;
  }
  while (isSpace(at(i))) i++;
  if (at(i++) !== 0x7d) return undefined; // }
  if (i !== n) return undefined;
  return new NumericMatrix(key, rows, cols, out.subarray(0, len));
}

function match(b: Uint8Array, at: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (b[at + k] !== text.charCodeAt(k)) return false;
  return true;
}
