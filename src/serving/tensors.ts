import type { Datatype, TensorSpec } from '../registry/service.js';

/** Element types as ONNX Runtime's JavaScript API names them. */
export type OrtType =
  'float32' | 'float64' | 'float16' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'bool' | 'string';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | string[];

/** A tensor as it crosses the runtime seam: flat row-major data and its dimensions. */
export interface NamedTensor {
  readonly type: OrtType;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

export type Tensors = Record<string, NamedTensor>;

/** The Open Inference Protocol datatype of each ONNX Runtime element type, and back. */
export const V2_OF_ORT: Readonly<Record<OrtType, Datatype>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  bool: 'BOOL',
  string: 'BYTES',
};

export const ORT_OF_V2: Readonly<Record<Datatype, OrtType>> = {
  FP32: 'float32',
  FP64: 'float64',
  FP16: 'float16',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT8: 'uint8',
  BOOL: 'bool',
  BYTES: 'string',
};

/** ONNX TensorProto.DataType numbers as the native binding reports them. */
export const ORT_OF_ONNX: Readonly<Record<number, OrtType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

/** Allocates the typed storage of `n` elements of a type. */
export function allocate(type: OrtType, n: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'string':
      return new Array<string>(n).fill('');
  }
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Rows along the first dimension share one stride: the elements of one row. */
function rowStride(dims: readonly number[]): number {
  let n = 1;
  for (let i = 1; i < dims.length; i++) n *= dims[i]!;
  return n;
}

/**
 * Stacks tensors along the first (batch) dimension. Every part must have the same type and the
 * same trailing dimensions: the caller (the batcher) only merges requests that were checked
 * against the same signature.
 */
export function concatBatch(parts: readonly NamedTensor[]): NamedTensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  let rows = 0;
  for (const p of parts) rows += p.dims[0] ?? 1;
  const dims = [rows, ...first.dims.slice(1)];
  const stride = rowStride(first.dims);
  if (first.type === 'string') {
    const out = new Array<string>(rows * stride);
    let at = 0;
    for (const p of parts) {
      const d = p.data as string[];
      for (let i = 0; i < d.length; i++) out[at++] = d[i]!;
    }
    return { type: first.type, data: out, dims };
  }
  const out = allocate(first.type, rows * stride) as Exclude<TensorData, string[]>;
  let at = 0;
  for (const p of parts) {
    const d = p.data as Exclude<TensorData, string[]>;
    (out as Float32Array).set(d as Float32Array, at);
    at += d.length;
  }
  return { type: first.type, data: out, dims };
}

/** The rows [start, start + count) of a batched tensor, as a view (no copy) for typed arrays. */
export function sliceBatch(t: NamedTensor, start: number, count: number): NamedTensor {
  const stride = rowStride(t.dims);
  const dims = [count, ...t.dims.slice(1)];
  const from = start * stride;
  const to = from + count * stride;
  const data = Array.isArray(t.data) ? t.data.slice(from, to) : t.data.subarray(from, to);
  return { type: t.type, data, dims };
}

/** Trailing dimensions equal: two requests' tensors can be stacked. */
export function sameTrailingDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** IEEE 754 half precision ⇄ number, for FP16 tensors (round to nearest even). */
export function toHalf(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, which is what rounding up should do.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A spec's shape as the protocol shows it: -1 for a dynamic dimension. */
export function specOf(name: string, type: OrtType, shape: readonly (number | string)[]): TensorSpec {
  return {
    name,
    datatype: V2_OF_ORT[type],
    shape: shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}
