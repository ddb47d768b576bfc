/**
 * The Open Inference Protocol (KServe V2) tensor codec: request tensors → runtime feeds, checked
 * against the model's tensors (name, datatype, shape, every value), and outputs → response JSON.
 * REST and gRPC share `decodeInput`; the JSON response is written as a string directly.
 */
import { AppError } from '../errors/index.js';
import { DATATYPES, type Datatype, type TensorSpec } from '../registry/service.js';
import { describe, INT_RANGE, inInt64, Issues } from './codec.js';
import type { FeedLayout, InputSlot } from './layout.js';
import {
  allocate,
  fromHalf,
  toHalf,
  V2_OF_ORT,
  type NamedTensor,
  type TensorData,
  type Tensors,
} from './tensors.js';

/** One request tensor as a front door hands it over: its values flat, in row-major order. */
export interface WireInput {
  readonly name: unknown;
  readonly datatype: unknown;
  readonly shape: unknown;
  /** Flat values (JSON numbers, strings, booleans; gRPC typed contents) or nested JSON arrays. */
  readonly data: unknown;
  /** BYTES elements are base64 text (`parameters.content_type: "base64"` or `binary_data: true`). */
  readonly base64?: boolean;
  /** Raw little-endian bytes (gRPC `raw_input_contents`), instead of `data`. */
  readonly raw?: Uint8Array;
}

export interface DecodedTensors {
  readonly feeds: Tensors;
  /** The batch: the first dimension shared by the inputs. */
  readonly rows: number;
}

export interface RequestedOutput {
  readonly name: string;
  /** BYTES elements answered as base64. */
  readonly base64: boolean;
}

export interface V2Request {
  readonly id: string | undefined;
  readonly inputs: readonly WireInput[];
  readonly outputs: readonly RequestedOutput[] | undefined;
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Models trained by Mass whose columns are all numeric also take their inputs as one FP32 matrix,
 * columns in the order of the signature: the shape KServe's scikit-learn server and most clients
 * written for it send (`input-0`, [N, F]). The per-column tensors stay the model's declared inputs.
 */
export const MATRIX_INPUT = 'input-0';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bad(path: string, message: string): AppError {
  return new AppError('PREDICTION_INPUT_INVALID', `${path} ${message}`, [{ path, message }]);
}

function isBase64Param(p: unknown): boolean {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return o.content_type === 'base64' || o.binary_data === true;
}

/** Checks the envelope of a V2 JSON inference request (the tensors are checked by the model's decoder). */
export function parseV2Request(body: unknown): V2Request {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('/', 'must be an inference request object with "inputs"');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (key !== 'id' && key !== 'inputs' && key !== 'outputs' && key !== 'parameters')
      throw bad(`/${key}`, 'is not a field of an inference request (id, parameters, inputs, outputs)');
  if (b.id !== undefined && typeof b.id !== 'string') throw bad('/id', 'must be a string');
  if (
    b.parameters !== undefined &&
    (typeof b.parameters !== 'object' || b.parameters === null || Array.isArray(b.parameters))
  )
    throw bad('/parameters', 'must be an object');
  if (!Array.isArray(b.inputs) || b.inputs.length === 0)
    throw bad('/inputs', 'must be a non-empty array of tensors');
  const inputs: WireInput[] = new Array(b.inputs.length);
  for (let i = 0; i < b.inputs.length; i++) {
    const t = b.inputs[i] as Record<string, unknown> | null;
    if (typeof t !== 'object' || t === null || Array.isArray(t))
      throw bad(`/inputs/${i}`, 'must be a tensor object (name, datatype, shape, data)');
    for (const key in t)
      if (key !== 'name' && key !== 'datatype' && key !== 'shape' && key !== 'data' && key !== 'parameters')
        throw bad(
          `/inputs/${i}/${key}`,
          'is not a field of a tensor (name, datatype, shape, parameters, data)',
        );
    inputs[i] = {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: t.data,
      base64: isBase64Param(t.parameters),
    };
  }
  let outputs: RequestedOutput[] | undefined;
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) throw bad('/outputs', 'must be an array of {"name": ...}');
    outputs = b.outputs.map((o: unknown, i) => {
      const name = (o as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') throw bad(`/outputs/${i}/name`, 'must be a string');
      return { name, base64: isBase64Param((o as { parameters?: unknown }).parameters) };
    });
  }
  return {
    id: b.id as string | undefined,
    inputs,
    outputs,
    parameters: b.parameters as Record<string, unknown> | undefined,
  };
}

/** Nested arrays flattened in row-major order; undefined when not an array or nested beyond any tensor. */
function flatten(data: unknown): unknown[] | undefined {
  if (!Array.isArray(data)) return undefined;
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  // Iterative, with a depth limit: a body of deeply nested brackets must not exhaust the stack.
  const out: unknown[] = [];
  const stack: { a: unknown[]; i: number }[] = [{ a: data, i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.a.length) {
      stack.pop();
      continue;
    }
    const v = top.a[top.i++];
    if (Array.isArray(v)) {
      if (stack.length >= MAX_RANK) return undefined;
      stack.push({ a: v, i: 0 });
    } else out.push(v);
  }
  return out;
}

const MAX_RANK = 32;
const flattened = new WeakMap<object, unknown[] | undefined>();

/** The flat values of an input (flattened once per request even when asked twice). */
function valuesOf(input: WireInput): ArrayLike<unknown> | undefined {
  const data = input.data;
  if (ArrayBuffer.isView(data)) return data as unknown as ArrayLike<unknown>;
  if (!Array.isArray(data)) return undefined;
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  if (flattened.has(data)) return flattened.get(data);
  const flat = flatten(data);
  flattened.set(data, flat);
  return flat;
}

const RAW_SIZE: Partial<Record<Datatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

/**
 * Tensors → the runtime's feeds, compiled once per model version. `missingAsNaN`: float inputs
 * of models trained by Mass take null (JSON) or NaN (gRPC) as a missing value; other models
 * refuse non-finite numbers. Infinity is refused everywhere.
 */
export class TensorDecoder {
  constructor(
    private readonly layout: FeedLayout,
    private readonly missingAsNaN: boolean,
    private readonly maxRows: number,
    /** Numeric columns in signature order, when the model also takes them as one matrix (see MATRIX_INPUT). */
    private readonly matrix: readonly InputSlot[] | undefined = undefined,
  ) {}

  /** The matrix form of the inputs, when the model has one: FP32 [-1, columns]. */
  get matrixSpec(): (TensorSpec & { columns: string[] }) | undefined {
    if (!this.matrix) return undefined;
    return {
      name: MATRIX_INPUT,
      datatype: 'FP32',
      shape: [-1, this.matrix.length],
      columns: this.matrix.map((s) => s.spec.name),
    };
  }

  /** One FP32 [N, k] tensor, row-major, columns in signature order → the runtime's feeds. */
  private decodeMatrix(input: WireInput, path: string): DecodedTensors {
    const columns = this.matrix!;
    const k = columns.length;
    const at = `${path}/0`;
    if (input.datatype !== 'FP32')
      throw bad(`${at}/datatype`, `must be FP32 for ${MATRIX_INPUT}, got ${describe(input.datatype)}`);
    const shape = input.shape;
    if (
      !Array.isArray(shape) ||
      shape.length !== 2 ||
      !Number.isSafeInteger(shape[0]) ||
      (shape[0] as number) < 0 ||
      shape[1] !== k
    )
      throw bad(
        `${at}/shape`,
        `must be [rows, ${k}] (one column per input, in the order of the model's columns)`,
      );
    const n = shape[0] as number;
    if (n > this.maxRows)
      throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${n}`);
    if (input.raw && input.raw.length !== n * k * 4)
      throw bad(`${at}/raw`, `has ${input.raw.length} bytes; shape and FP32 need ${n * k * 4}`);
    const values = input.raw
      ? Array.from(new Float32Array(Uint8Array.from(input.raw).buffer))
      : valuesOf(input);
    if (!values) throw bad(`${at}/data`, 'must be an array of numbers');
    if (values.length !== n * k) throw bad(`${at}/data`, `has ${values.length} values; shape needs ${n * k}`);
    const { feeds, data } = this.layout.allocateColumns(n);
    for (let j = 0; j < k; j++) {
      const slot = columns[j]!;
      const out = data.get(slot.feed) as Float32Array;
      const width = slot.column < 0 ? 1 : slot.width;
      const col = slot.column < 0 ? 0 : slot.column;
      for (let i = 0; i < n; i++) {
        let v = values[i * k + j];
        if (typeof v !== 'number') {
          if (v === null && this.missingAsNaN) v = NaN;
          else
            throw bad(
              `${at}/data/${i * k + j}`,
              `must be a number${this.missingAsNaN ? ' or null' : ''}, got ${describe(v)}`,
            );
        } else if (v === Infinity || v === -Infinity || (Number.isNaN(v) && !this.missingAsNaN)) {
          throw bad(`${at}/data/${i * k + j}`, `must be a finite number, got ${String(v)}`);
        }
        out[i * width + col] = v as number;
      }
    }
    return { feeds, rows: n };
  }

  get inputs(): TensorSpec[] {
    return [...this.layout.slots.values()].map((s) => s.spec);
  }

  decode(inputs: readonly WireInput[], path = '/inputs'): DecodedTensors {
    if (
      this.matrix &&
      inputs.length === 1 &&
      inputs[0]!.name === MATRIX_INPUT &&
      !this.layout.slots.has(MATRIX_INPUT)
    )
      return this.decodeMatrix(inputs[0]!, path);
    const slots = this.layout.slots;
    const feeds: Tensors = {};
    const seen = new Set<string>();
    const packed = new Map<string, { data: Float32Array; rows: number }>();
    let rows = -1;
    const issues = new Issues();
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      const at = `${path}/${k}`;
      if (typeof input.name !== 'string') {
        issues.add(`${at}/name`, 'must be a string');
        continue;
      }
      const slot = slots.get(input.name);
      if (!slot) {
        issues.add(
          `${at}/name`,
          `${JSON.stringify(input.name)} is not an input of this model (inputs: ${[...slots.keys()].slice(0, 10).join(', ')}${slots.size > 10 ? ', ...' : ''})`,
        );
        continue;
      }
      if (seen.has(input.name)) {
        issues.add(`${at}/name`, `${JSON.stringify(input.name)} is given twice`);
        continue;
      }
      seen.add(input.name);
      const dims = this.checkHead(slot, input, at, issues);
      if (!dims) continue;
      const n = dims[0] ?? 1;
      if (n > this.maxRows)
        throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${n} in ${at}`);
      if (rows < 0) rows = n;
      if (slot.column >= 0) {
        let target = packed.get(slot.feed);
        if (!target) {
          target = { data: new Float32Array(n * slot.width), rows: n };
          packed.set(slot.feed, target);
          feeds[slot.feed] = { type: 'float32', data: target.data, dims: [n, slot.width] };
        } else if (target.rows !== n) {
          issues.add(`${at}/shape`, `has ${n} rows; the other inputs have ${target.rows}`);
          continue;
        }
        this.fill(slot, input, at, n, target.data, slot.column, slot.width, issues);
      } else {
        // The count the shape claims is checked against the values sent before anything is
        // allocated: a shape of [1, 1e9] with three values is a 400, not 8 GB.
        const count = dims.reduce((a, b) => a * b, 1);
        const sent = input.raw
          ? slot.type === 'string'
            ? // At least 4 bytes (the length) per element; the exact count is checked while reading.
              Math.min(count, Math.floor(input.raw.length / 4))
            : input.raw.length / RAW_SIZE[slot.spec.datatype]!
          : valuesOf(input)?.length;
        if (sent !== count) {
          issues.add(
            `${at}/${input.raw ? 'raw' : 'data'}`,
            sent === undefined ? 'must be an array of values' : `has ${sent} values; shape needs ${count}`,
          );
          continue;
        }
        const data = allocate(slot.type, count);
        if (this.fill(slot, input, at, data.length, data, 0, 1, issues))
          // A column given as [n] for a [-1,1] input (or the reverse) runs with the graph's own rank.
          feeds[slot.feed] = { type: slot.type, data, dims: conform(dims, slot.spec.shape) };
      }
    }
    if (seen.size < slots.size)
      for (const name of slots.keys())
        if (!seen.has(name)) issues.add(path, `is missing the input ${JSON.stringify(name)}`);
    issues.throwIfAny();
    return { feeds, rows: Math.max(rows, 0) };
  }

  /** Datatype and shape against the spec; returns the dims, or undefined after reporting. */
  private checkHead(slot: InputSlot, input: WireInput, at: string, issues: Issues): number[] | undefined {
    const spec = slot.spec;
    if (input.datatype !== spec.datatype) {
      const known =
        typeof input.datatype === 'string' && (DATATYPES as readonly string[]).includes(input.datatype);
      issues.add(
        `${at}/datatype`,
        `must be ${spec.datatype} for input ${spec.name}, got ${known ? input.datatype : describe(input.datatype)}`,
      );
      return undefined;
    }
    const shape = input.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      issues.add(`${at}/shape`, 'must be an array of non-negative whole numbers');
      return undefined;
    }
    if (shape.length > MAX_RANK) {
      issues.add(`${at}/shape`, `must have at most ${MAX_RANK} dimensions`);
      return undefined;
    }
    const dims = shape as number[];
    const want = spec.shape;
    const columnLike =
      (want.length === 2 && want[1] === 1 && dims.length === 1) ||
      (want.length === 1 && dims.length === 2 && dims[1] === 1);
    if (dims.length !== want.length && !columnLike) {
      issues.add(
        `${at}/shape`,
        `must have ${want.length} dimensions like [${want.join(', ')}], got [${dims.join(', ')}]`,
      );
      return undefined;
    }
    if (!columnLike)
      for (let i = 0; i < want.length; i++)
        if (want[i]! >= 0 && want[i] !== dims[i]) {
          issues.add(
            `${at}/shape`,
            `dimension ${i} must be ${want[i]} (shape [${want.join(', ')}]), got [${dims.join(', ')}]`,
          );
          return undefined;
        }
    return dims;
  }

  /** Writes every value at `offset + i * stride`; reports the first bad value of the input. */
  private fill(
    slot: InputSlot,
    input: WireInput,
    at: string,
    count: number,
    out: TensorData,
    offset: number,
    stride: number,
    issues: Issues,
  ): boolean {
    if (input.raw) return this.fillRaw(slot, input.raw, at, count, out, offset, stride, issues);
    const values = valuesOf(input);
    if (!values) {
      issues.add(`${at}/data`, 'must be an array of values');
      return false;
    }
    if (values.length !== count) {
      issues.add(`${at}/data`, `has ${values.length} values; shape needs ${count}`);
      return false;
    }
    const complain = (i: number, message: string) => {
      issues.add(`${at}/data/${i}`, message);
      return false;
    };
    switch (slot.type) {
      case 'float32':
      case 'float64':
      case 'float16': {
        const f = out as Float32Array;
        const half = slot.type === 'float16';
        for (let i = 0; i < count; i++) {
          let v = values[i];
          if (typeof v !== 'number') {
            if (v === null && this.missingAsNaN) v = NaN;
            else
              return complain(
                i,
                `must be a number${this.missingAsNaN ? ' or null' : ''}, got ${describe(v)}`,
              );
          } else if (!Number.isFinite(v as number)) {
            if (!(Number.isNaN(v) && this.missingAsNaN))
              return complain(i, `must be a finite number, got ${String(v)}`);
          }
          f[offset + i * stride] = half ? toHalf(v as number) : (v as number);
        }
        return true;
      }
      case 'int8':
      case 'int16':
      case 'int32':
      case 'uint8': {
        const [lo, hi] = INT_RANGE[slot.type];
        const d = out as Int32Array;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
            return complain(i, `must be an integer from ${lo} to ${hi}, got ${describe(v)}`);
          d[offset + i * stride] = v;
        }
        return true;
      }
      case 'int64': {
        const d = out as BigInt64Array;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'number' && Number.isSafeInteger(v)) d[offset + i * stride] = BigInt(v);
          else if (typeof v === 'string' && /^-?\d{1,19}$/.test(v) && inInt64(v))
            d[offset + i * stride] = BigInt(v);
          else if (typeof v === 'bigint') d[offset + i * stride] = v;
          else return complain(i, `must be a whole number (INT64), got ${describe(v)}`);
        }
        return true;
      }
      case 'bool': {
        const d = out as Uint8Array;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v !== 'boolean') return complain(i, `must be true or false, got ${describe(v)}`);
          d[offset + i * stride] = v ? 1 : 0;
        }
        return true;
      }
      case 'string': {
        const d = out as string[];
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
            d[offset + i * stride] = Buffer.from(v).toString('utf8');
          } else if (typeof v !== 'string') {
            return complain(i, `must be a string, got ${describe(v)}`);
          } else if (input.base64) {
            if (!BASE64.test(v)) return complain(i, 'is not valid base64');
            d[offset + i * stride] = Buffer.from(v, 'base64').toString('utf8');
          } else {
            d[offset + i * stride] = v;
          }
        }
        return true;
      }
    }
  }

  private fillRaw(
    slot: InputSlot,
    raw: Uint8Array,
    at: string,
    count: number,
    out: TensorData,
    offset: number,
    stride: number,
    issues: Issues,
  ): boolean {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (slot.type === 'string') {
      // Each element: a 4-byte little-endian length, then that many bytes.
      const d = out as string[];
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (p + 4 > raw.length) {
          issues.add(`${at}/raw`, `holds fewer than ${count} BYTES elements`);
          return false;
        }
        const len = view.getUint32(p, true);
        if (p + 4 + len > raw.length) {
          issues.add(`${at}/raw`, `element ${i} runs past the end of the raw contents`);
          return false;
        }
        d[offset + i * stride] = Buffer.from(raw.subarray(p + 4, p + 4 + len)).toString('utf8');
        p += 4 + len;
      }
      if (p !== raw.length) {
        issues.add(`${at}/raw`, `has bytes after the ${count} BYTES elements`);
        return false;
      }
      return true;
    }
    const size = RAW_SIZE[slot.spec.datatype]!;
    if (raw.length !== count * size) {
      issues.add(
        `${at}/raw`,
        `has ${raw.length} bytes; shape and ${slot.spec.datatype} need ${count * size}`,
      );
      return false;
    }
    for (let i = 0; i < count; i++) {
      const o = i * size;
      const j = offset + i * stride;
      switch (slot.type) {
        case 'float32':
        case 'float64': {
          const v = slot.type === 'float32' ? view.getFloat32(o, true) : view.getFloat64(o, true);
          if (!Number.isFinite(v) && !(Number.isNaN(v) && this.missingAsNaN)) {
            issues.add(`${at}/raw/${i}`, `must be a finite number, got ${v}`);
            return false;
          }
          (out as Float64Array)[j] = v;
          break;
        }
        case 'float16':
          (out as Uint16Array)[j] = view.getUint16(o, true);
          break;
        case 'int8':
          (out as Int8Array)[j] = view.getInt8(o);
          break;
        case 'uint8':
        case 'bool':
          (out as Uint8Array)[j] = view.getUint8(o);
          break;
        case 'int16':
          (out as Int16Array)[j] = view.getInt16(o, true);
          break;
        case 'int32':
          (out as Int32Array)[j] = view.getInt32(o, true);
          break;
        case 'int64':
          (out as BigInt64Array)[j] = view.getBigInt64(o, true);
          break;
      }
    }
    return true;
  }
}

function conform(dims: readonly number[], want: readonly number[]): number[] {
  if (dims.length === want.length) return [...dims];
  return want.length === 2 ? [dims[0]!, 1] : [dims[0]!];
}

/** Checks requested outputs against the model's, naming an unknown one. */
export function checkOutputs(
  requested: readonly RequestedOutput[] | undefined,
  outputs: readonly TensorSpec[],
): void {
  if (!requested) return;
  const known = new Set(outputs.map((o) => o.name));
  const seen = new Set<string>();
  requested.forEach((o, i) => {
    if (!known.has(o.name))
      throw bad(
        `/outputs/${i}/name`,
        `${JSON.stringify(o.name)} is not an output of this model (outputs: ${[...known].join(', ')})`,
      );
    if (seen.has(o.name)) throw bad(`/outputs/${i}/name`, `${JSON.stringify(o.name)} is requested twice`);
    seen.add(o.name);
  });
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** The `data` array of one output, written directly as JSON text. */
export function dataJson(t: NamedTensor, base64: boolean): string {
  const d = t.data;
  const n = d.length;
  if (n === 0) return '[]';
  let s = '[';
  switch (t.type) {
    case 'string':
      for (let i = 0; i < n; i++) {
        const v = (d as string[])[i]!;
        s += (i ? ',' : '') + JSON.stringify(base64 ? Buffer.from(v, 'utf8').toString('base64') : v);
      }
      break;
    case 'bool':
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + ((d as Uint8Array)[i] ? 'true' : 'false');
      break;
    case 'int64':
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + String((d as BigInt64Array)[i]);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + jsonNumber(fromHalf((d as Uint16Array)[i]!));
      break;
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + jsonNumber((d as Float32Array)[i]!);
      break;
    default:
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + String((d as Int32Array)[i]);
  }
  return `${s}]`;
}

export interface V2ResponseHead {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
}

/** The inference response JSON, written without building the object first. */
export function v2ResponseJson(
  head: V2ResponseHead,
  outputs: Tensors,
  order: readonly RequestedOutput[],
): string {
  let s = `{"model_name":${JSON.stringify(head.modelName)},"model_version":${JSON.stringify(head.modelVersion)},"id":${JSON.stringify(head.id)},"parameters":${JSON.stringify(head.parameters)},"outputs":[`;
  for (let k = 0; k < order.length; k++) {
    const o = order[k]!;
    const t = outputs[o.name];
    if (!t) continue;
    s += `${k ? ',' : ''}{"name":${JSON.stringify(o.name)},"datatype":"${V2_OF_ORT[t.type]}","shape":[${t.dims.join(',')}],${o.base64 && t.type === 'string' ? '"parameters":{"content_type":"base64"},' : ''}"data":${dataJson(t, o.base64)}}`;
  }
  return `${s}]}`;
}
