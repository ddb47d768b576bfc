import { AppError, type FieldIssue } from '../errors/index.js';
import type { Signature } from '../registry/service.js';
import type { FeedLayout, InputSlot } from './layout.js';
import { fromHalf, toHalf, type NamedTensor, type TensorData, type Tensors } from './tensors.js';

/** One prediction as returned to callers of the rows-by-column front doors. */
export type Prediction =
  | { readonly label: string | number; readonly probabilities: Record<string, number> }
  | { readonly value: number }
  | Readonly<Record<string, unknown>>;

const MAX_ISSUES = 20;

/** Collects input problems with their paths; thrown as one 400 naming the first. */
export class Issues {
  readonly list: FieldIssue[] = [];
  add(path: string, message: string): void {
    if (this.list.length < MAX_ISSUES) this.list.push({ path, message });
  }
  get any(): boolean {
    return this.list.length > 0;
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const first = this.list[0]!;
    throw new AppError(
      'PREDICTION_INPUT_INVALID',
      `${first.path} ${first.message}${this.list.length > 1 ? ` (and ${this.list.length - 1} more)` : ''}`,
      this.list,
    );
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** Writes one JSON value into row `i` of a column; returns a complaint, or undefined when it fits. */
type Writer = (data: TensorData, index: number, v: unknown) => string | undefined;

interface Column {
  readonly name: string;
  readonly slot: InputSlot;
  readonly write: Writer;
}

function normaliseBoolean(v: string): string {
  const s = v.trim().toLowerCase();
  return s === 'true' || s === 'yes' ? 'true' : s === 'false' || s === 'no' ? 'false' : s;
}

/** How a column of a model trained by Mass takes values: null is a missing value, imputed as in training. */
function trainedWriter(type: 'numeric' | 'categorical' | 'boolean'): Writer {
  if (type === 'numeric')
    return (data, i, v) => {
      if (typeof v === 'number') {
        // JSON cannot carry NaN or Infinity; a client that computed one sends null for "missing".
        (data as Float32Array)[i] = v;
        return undefined;
      }
      if (v === null) {
        (data as Float32Array)[i] = NaN;
        return undefined;
      }
      return `must be a number or null, got ${describe(v)}`;
    };
  return (data, i, v) => {
    const d = data as string[];
    if (v === null) d[i] = '';
    else if (typeof v === 'string') d[i] = type === 'boolean' ? normaliseBoolean(v) : v.trim();
    else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) d[i] = String(v);
    else return `must be a string or null, got ${describe(v)}`;
    return undefined;
  };
}

/** How a column-shaped input of an imported model takes values: exactly its datatype, nothing missing. */
export function tensorWriter(slot: InputSlot): Writer {
  switch (slot.type) {
    case 'float32':
    case 'float64':
      return (data, i, v) => {
        if (typeof v !== 'number') return `must be a number, got ${describe(v)}`;
        (data as Float64Array)[i] = v;
        return undefined;
      };
    case 'float16':
      return (data, i, v) => {
        if (typeof v !== 'number') return `must be a number, got ${describe(v)}`;
        (data as Uint16Array)[i] = toHalf(v);
        return undefined;
      };
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8': {
      const [lo, hi] = INT_RANGE[slot.type];
      return (data, i, v) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer, got ${describe(v)}`;
        if (v < lo || v > hi) return `must be an integer from ${lo} to ${hi}, got ${v}`;
        (data as Int32Array)[i] = v;
        return undefined;
      };
    }
    case 'int64':
      return (data, i, v) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) (data as BigInt64Array)[i] = BigInt(v);
        else if (typeof v === 'string' && /^-?\d{1,19}$/.test(v) && inInt64(v))
          (data as BigInt64Array)[i] = BigInt(v);
        else return `must be an integer, got ${describe(v)}`;
        return undefined;
      };
    case 'bool':
      return (data, i, v) => {
        if (typeof v !== 'boolean') return `must be true or false, got ${describe(v)}`;
        (data as Uint8Array)[i] = v ? 1 : 0;
        return undefined;
      };
    case 'string':
      return (data, i, v) => {
        if (typeof v !== 'string') return `must be a string, got ${describe(v)}`;
        (data as string[])[i] = v;
        return undefined;
      };
  }
}

export const INT_RANGE = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
} as const;

export function inInt64(s: string): boolean {
  const b = BigInt(s);
  return b >= -(2n ** 63n) && b < 2n ** 63n;
}

/**
 * Rows by column name → the runtime's feeds, compiled once per model version: a lookup table
 * from column name to the array and position its values go to. A missing, extra or mistyped
 * column is refused with its path; nothing is allocated per value.
 */
export class RowEncoder {
  private readonly columns: Column[];
  private readonly byName = new Map<string, Column>();

  private constructor(
    private readonly layout: FeedLayout,
    columns: Column[],
  ) {
    this.columns = columns;
    for (const c of columns) this.byName.set(c.name, c);
  }

  /** The columns in signature order (the order of a matrix row in `instances` / `inputs`). */
  get names(): string[] {
    return this.columns.map((c) => c.name);
  }

  /**
   * Models trained by Mass: the signature's columns. Imported models whose every input is one
   * value per row ([-1] or [-1,1]): the inputs by name. Otherwise rows do not apply.
   */
  static compile(signature: Signature, layout: FeedLayout): RowEncoder | undefined {
    const columns: Column[] = [];
    if (signature.inputs.length > 0) {
      for (const input of signature.inputs) {
        const slot = layout.slots.get(input.name);
        if (!slot) return undefined;
        const expected = input.type === 'numeric' ? 'float32' : 'string';
        if (slot.type !== expected) return undefined;
        columns.push({ name: input.name, slot, write: trainedWriter(input.type) });
      }
      return new RowEncoder(layout, columns);
    }
    for (const slot of layout.slots.values()) {
      const s = slot.spec.shape;
      const columnShaped = (s.length === 1 && s[0] === -1) || (s.length === 2 && s[0] === -1 && s[1] === 1);
      if (!columnShaped) return undefined;
      columns.push({ name: slot.spec.name, slot, write: tensorWriter(slot) });
    }
    return columns.length > 0 ? new RowEncoder(layout, columns) : undefined;
  }

  private offset(c: Column, i: number): number {
    return c.slot.column < 0 ? i : i * c.slot.width + c.slot.column;
  }

  /** `[{column: value, ...}, ...]` */
  encodeRecords(rows: readonly unknown[], path: string): Tensors {
    const n = rows.length;
    const issues = new Issues();
    const { feeds, data } = this.layout.allocateColumns(n);
    const total = this.columns.length;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        issues.add(`${path}/${i}`, 'must be an object of column name to value');
        continue;
      }
      const record = row as Record<string, unknown>;
      let seen = 0;
      for (const key in record) {
        const c = this.byName.get(key);
        if (!c) {
          issues.add(`${path}/${i}/${key}`, 'is not an input of this model');
          continue;
        }
        seen++;
        const problem = c.write(data.get(c.slot.feed)!, this.offset(c, i), record[key]);
        if (problem) issues.add(`${path}/${i}/${key}`, problem);
      }
      if (seen < total) {
        for (const c of this.columns)
          if (!Object.hasOwn(record, c.name))
            issues.add(`${path}/${i}/${c.name}`, 'is missing (send null for an unknown value)');
      }
      if (issues.list.length >= MAX_ISSUES) break;
    }
    issues.throwIfAny();
    return feeds;
  }

  /** A table: column names once, then rows as arrays in that order (`dataframe_split`, matrices). */
  encodeTable(names: readonly unknown[] | undefined, rows: readonly unknown[], path: string): Tensors {
    const issues = new Issues();
    let order: Column[];
    if (names === undefined) {
      order = this.columns;
    } else {
      order = [];
      const seen = new Set<string>();
      names.forEach((name, j) => {
        const c = typeof name === 'string' ? this.byName.get(name) : undefined;
        if (!c) issues.add(`${path}/columns/${j}`, `${describe(name)} is not an input of this model`);
        else if (seen.has(c.name)) issues.add(`${path}/columns/${j}`, `names ${c.name} twice`);
        else {
          seen.add(c.name);
          order.push(c);
        }
      });
      for (const c of this.columns)
        if (!seen.has(c.name))
          issues.add(`${path}/columns`, `is missing the input ${JSON.stringify(c.name)}`);
      issues.throwIfAny();
    }
    const n = rows.length;
    const { feeds, data } = this.layout.allocateColumns(n);
    const width = order.length;
    const rowsPath = names === undefined ? path : `${path}/data`;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length !== width) {
        issues.add(
          `${rowsPath}/${i}`,
          `must be an array of ${width} values (${order
            .slice(0, 5)
            .map((c) => c.name)
            .join(', ')}${width > 5 ? ', ...' : ''})`,
        );
        if (issues.list.length >= MAX_ISSUES) break;
        continue;
      }
      for (let j = 0; j < width; j++) {
        const c = order[j]!;
        const problem = c.write(data.get(c.slot.feed)!, this.offset(c, i), row[j]);
        if (problem) issues.add(`${rowsPath}/${i}/${j} (${c.name})`, problem);
      }
      if (issues.list.length >= MAX_ISSUES) break;
    }
    issues.throwIfAny();
    return feeds;
  }

  /** A numeric matrix, each row's values in the order of the model's columns, straight into the feeds. */
  encodeMatrix(matrix: { rows: number; cols: number; data: Float64Array }, path: string): Tensors {
    const k = this.columns.length;
    if (matrix.cols !== k)
      throw new AppError(
        'PREDICTION_INPUT_INVALID',
        `${path} rows must have ${k} values (one per column), got ${matrix.cols}`,
        [{ path: `${path}/0`, message: `must be an array of ${k} values` }],
      );
    const n = matrix.rows;
    const { feeds, data } = this.layout.allocateColumns(n);
    const issues = new Issues();
    const values = matrix.data;
    for (let j = 0; j < k; j++) {
      const c = this.columns[j]!;
      const out = data.get(c.slot.feed)!;
      if (c.slot.type === 'float32' && out instanceof Float32Array) {
        // Numbers into a float column: no check can fail, write straight through.
        const width = c.slot.column < 0 ? 1 : c.slot.width;
        const col = c.slot.column < 0 ? 0 : c.slot.column;
        for (let i = 0; i < n; i++) out[i * width + col] = values[i * k + j]!;
        continue;
      }
      for (let i = 0; i < n; i++) {
        const problem = c.write(out, this.offset(c, i), values[i * k + j]);
        if (problem) issues.add(`${path}/${i}/${j} (${c.name})`, problem);
      }
    }
    issues.throwIfAny();
    return feeds;
  }

  /** Columns of values: `{column: [v0, v1, ...], ...}`, every column as long as the others. */
  encodeColumns(columns: Readonly<Record<string, unknown>>, path: string): { feeds: Tensors; rows: number } {
    const issues = new Issues();
    let n = -1;
    for (const key of Object.keys(columns)) {
      const values = columns[key];
      if (!this.byName.has(key)) issues.add(`${path}/${key}`, 'is not an input of this model');
      else if (!Array.isArray(values))
        issues.add(`${path}/${key}`, 'must be an array of values, one per row');
      else if (n >= 0 && values.length !== n)
        issues.add(`${path}/${key}`, `has ${values.length} values; other columns have ${n}`);
      else n = values.length;
    }
    for (const c of this.columns)
      if (!Object.hasOwn(columns, c.name)) issues.add(`${path}/${c.name}`, 'is missing');
    issues.throwIfAny();
    const rows = Math.max(n, 0);
    const { feeds, data } = this.layout.allocateColumns(rows);
    for (const c of this.columns) {
      const values = columns[c.name] as unknown[];
      const target = data.get(c.slot.feed)!;
      for (let i = 0; i < rows; i++) {
        const problem = c.write(target, this.offset(c, i), values[i]);
        if (problem) issues.add(`${path}/${c.name}/${i}`, problem);
      }
    }
    issues.throwIfAny();
    return { feeds, rows };
  }
}

/** The graph output holding a role: the signature's `outputRoles`, else Mass's own names. */
export function outputFor(signature: Signature, role: 'probabilities' | 'label' | 'value'): string {
  return signature.outputRoles?.[role] ?? role;
}

function element(t: NamedTensor, i: number): unknown {
  const v = t.data[i];
  if (typeof v === 'bigint') return Number(v);
  if (t.type === 'bool') return v === 1;
  if (t.type === 'float16') return fromHalf(v as number);
  return v;
}

/** ONNX outputs → one prediction per row, as the rows-by-column front doors answer. */
export function tensorsToPredictions(signature: Signature, outputs: Tensors, n: number): Prediction[] {
  const out: Prediction[] = new Array(n);
  if (signature.task === 'regression') {
    const values = outputs[outputFor(signature, 'value')];
    if (!values) throw new Error('the model has no value output');
    for (let i = 0; i < n; i++) out[i] = { value: Number(element(values, i)) };
    return out;
  }
  if (signature.task === 'classification') {
    const labels = signature.labels ?? [];
    const P = outputs[outputFor(signature, 'probabilities')];
    const L = outputs[outputFor(signature, 'label')];
    if (!P) throw new Error('the model has no probabilities output');
    const C = P.dims[1] ?? labels.length;
    for (let i = 0; i < n; i++) {
      const probabilities: Record<string, number> = {};
      let best = 0;
      for (let c = 0; c < C; c++) {
        const p = Number(element(P, i * C + c));
        probabilities[String(labels[c] ?? c)] = p;
        if (p > Number(element(P, i * C + best))) best = c;
      }
      const label = L ? (element(L, i) as string | number) : (labels[best] ?? best);
      out[i] = { label, probabilities };
    }
    return out;
  }
  // Clustering and custom models: every output, one value (or one array) per row.
  const names = Object.keys(outputs);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (const name of names) row[name] = rowValue(outputs[name]!, i);
    out[i] = row;
  }
  return out;
}

/** Row `i` of a tensor: a scalar when each row holds one element, else the nested row. */
export function rowValue(t: NamedTensor, i: number): unknown {
  const stride = t.dims.slice(1).reduce((a, b) => a * b, 1);
  if (stride === 1) return element(t, i);
  return nest(t, i * stride, t.dims.slice(1));
}

function nest(t: NamedTensor, start: number, dims: readonly number[]): unknown[] {
  const [d, ...rest] = dims;
  const out = new Array<unknown>(d ?? 0);
  const stride = rest.reduce((a, b) => a * b, 1);
  for (let k = 0; k < (d ?? 0); k++)
    out[k] = rest.length === 0 ? element(t, start + k) : nest(t, start + k * stride, rest);
  return out;
}
