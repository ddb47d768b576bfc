/**
 * Column types Mass infers from a file. `integer` and `datetime` come from the DuckDB import
 * (versions stored as CSV before it only carry the other four); `categorical` and `text` are both
 * strings, told apart by how distinct and long the values are.
 */
export const COLUMN_TYPES = ['numeric', 'integer', 'categorical', 'boolean', 'datetime', 'text'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  /** Rows where the value is missing (empty, NA, null, ...). */
  readonly missing: number;
  /** Distinct non-missing values, counted exactly up to `DISTINCT_CAP`. */
  readonly distinct: number;
  readonly distinctCapped: boolean;
  /** Every non-missing value is a whole number (numeric columns). */
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
}

export interface DatasetSchema {
  readonly columns: readonly ColumnSchema[];
  readonly rowCount: number;
}

export const DISTINCT_CAP = 1000;

/** Spellings of a missing value in CSV files, as pandas and R write them. */
const MISSING = new Set(['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None', '?']);
const TRUE = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES']);
const FALSE = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO']);

export function isMissing(raw: string): boolean {
  return MISSING.has(raw.trim());
}

/** Parses a CSV cell as a finite number, or NaN (not `Number('')`'s 0 nor `parseFloat('1abc')`'s 1). */
export function parseNumber(raw: string): number {
  const s = raw.trim();
  if (s === '') return NaN;
  const n = Number(s);
  return Number.isFinite(n) ? n : NaN;
}

/** 'true' / 'false', or null when the cell is not a boolean spelling. */
export function parseBoolean(raw: string): 'true' | 'false' | null {
  const s = raw.trim();
  return TRUE.has(s) ? 'true' : FALSE.has(s) ? 'false' : null;
}

/** Accumulates what is needed to type one column while the rows stream by. */
export class ColumnStats {
  private missing = 0;
  private present = 0;
  private numeric = 0;
  private integer = 0;
  private boolean = 0;
  private withSpace = 0;
  private totalLength = 0;
  private readonly distinctValues = new Set<string>();
  private distinctCapped = false;
  private min = Infinity;
  private max = -Infinity;
  private sum = 0;

  constructor(readonly name: string) {}

  add(raw: string): void {
    if (isMissing(raw)) {
      this.missing++;
      return;
    }
    const s = raw.trim();
    this.present++;
    this.totalLength += s.length;
    if (!this.distinctCapped) {
      this.distinctValues.add(s);
      if (this.distinctValues.size > DISTINCT_CAP) this.distinctCapped = true;
    }
    const n = parseNumber(s);
    if (!Number.isNaN(n)) {
      this.numeric++;
      if (Number.isInteger(n)) this.integer++;
      if (n < this.min) this.min = n;
      if (n > this.max) this.max = n;
      this.sum += n;
    } else if (parseBoolean(s) !== null) {
      this.boolean++;
    } else if (s.includes(' ')) {
      this.withSpace++;
    }
  }

  finish(rowCount: number): ColumnSchema {
    const distinct = this.distinctCapped ? DISTINCT_CAP : this.distinctValues.size;
    const base = { name: this.name, missing: this.missing, distinct, distinctCapped: this.distinctCapped };
    if (this.present > 0 && this.numeric === this.present) {
      return {
        ...base,
        type: 'numeric',
        integer: this.integer === this.present,
        min: this.min,
        max: this.max,
        mean: this.sum / this.present,
      };
    }
    if (this.present > 0 && this.boolean === this.present) return { ...base, type: 'boolean' };
    // Free text: long values, mostly with spaces, mostly distinct. Otherwise a category.
    const meanLength = this.present > 0 ? this.totalLength / this.present : 0;
    const mostlyDistinct = distinct > Math.max(50, 0.5 * (rowCount - this.missing));
    if (this.present > 0 && this.withSpace > 0.5 * this.present && (meanLength > 30 || mostlyDistinct)) {
      return { ...base, type: 'text' };
    }
    return { ...base, type: 'categorical' };
  }
}
