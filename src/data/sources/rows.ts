import { AppError } from '../../errors/index.js';

export interface RowLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
}

/**
 * Turns rows of a database result into JSON Lines: numbers stay numbers, NULL stays null, dates
 * and times are the server's text, big integers beyond 2^53 and binary values become strings.
 * Counts rows and bytes and stops at the limits.
 */
export class RowEncoder {
  rows = 0;
  bytes = 0;
  private readonly keys: string[];

  constructor(
    readonly columns: readonly string[],
    private readonly limits: RowLimits,
  ) {
    const seen = new Set<string>();
    for (const name of columns) {
      if (name === '')
        throw new AppError('SOURCE_QUERY_FAILED', 'a column of the result has no name; give it one with AS');
      if (seen.has(name))
        throw new AppError(
          'SOURCE_QUERY_FAILED',
          `the result has two columns named ${JSON.stringify(name)}; rename one with AS`,
        );
      seen.add(name);
    }
    this.keys = columns.map((c) => `${JSON.stringify(c)}:`);
  }

  /** One JSON line (with its newline) for a row given as values in column order. */
  encode(values: readonly unknown[]): string {
    if (this.rows >= this.limits.maxRows)
      throw new AppError(
        'SOURCE_TOO_LARGE',
        `the source has more than ${this.limits.maxRows} rows (MASS_SOURCE_MAX_ROWS)`,
      );
    let line = '{';
    for (let j = 0; j < this.keys.length; j++) {
      if (j > 0) line += ',';
      const v = values[j];
      line += this.keys[j]! + (v instanceof RawNumber ? v.text : JSON.stringify(plain(v)));
    }
    line += '}\n';
    this.rows++;
    this.bytes += Buffer.byteLength(line);
    if (this.bytes > this.limits.maxBytes)
      throw new AppError(
        'SOURCE_TOO_LARGE',
        `the source is larger than ${this.limits.maxBytes} bytes (MASS_MAX_UPLOAD_BYTES)`,
      );
    return line;
  }
}

/** A value JSON can carry without losing what it is. */
export function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString();
    default:
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

/** A number kept as the server's digits, written into the JSON unchanged (no rounding through a double). */
export class RawNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** A DECIMAL or 64-bit integer from its text: its exact digits in the JSON; NaN and infinities become null. */
export function numberFromText(text: string): RawNumber | null {
  const t = text.trim();
  if (JSON_NUMBER.test(t)) return new RawNumber(t);
  // Leading zeros or a bare "+": normalise through Number when that is exact enough to be the same value.
  const n = Number(t);
  return Number.isFinite(n) ? new RawNumber(String(n)) : null;
}

/** Buffers lines and writes them in large pieces, waiting for the file when the buffer is full. */
export class LineBuffer {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly write: (text: string) => Promise<void>) {}

  async push(line: string): Promise<void> {
    this.parts.push(line);
    this.size += line.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.write(text);
  }
}
