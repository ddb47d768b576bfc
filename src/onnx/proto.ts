/**
 * A minimal protobuf wire-format writer and typed encoders for the ONNX messages Mass writes.
 *
 * Field numbers and wire types are those of onnx/onnx.proto (IR version 8, checked against the
 * onnx 1.12 copy and the upstream file). Fields are written in field-number order, repeated
 * scalars declared `[packed = true]` (TensorProto's *_data) are packed and the others
 * (TensorProto.dims, AttributeProto.floats/ints) are not, so the bytes are exactly what the
 * reference protobuf serializer produces for the same message.
 */

// Wire types (https://protobuf.dev/programming-guides/encoding/).
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

const utf8 = new TextEncoder();

/** Number of bytes of a non-negative safe integer written as a varint. */
export function varintSize(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** An append-only byte buffer that writes protobuf fields. */
export class ProtoWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** The bytes written so far (a copy, so the writer can be reused or dropped). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * A varint of an int64 or uint64 value. Negative values are written as their 64-bit two's
   * complement (ten bytes), as protobuf does for int64; no zigzag (that is only for sint64).
   */
  varint(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      if (!Number.isInteger(value)) throw new RangeError(`varint needs an integer, got ${value}`);
      this.ensure(8);
      // Arithmetic, not bit operators: those would truncate to 32 bits.
      while (value >= 128) {
        this.buf[this.pos++] = (value % 128) | 0x80;
        value = Math.floor(value / 128);
      }
      this.buf[this.pos++] = value;
      return;
    }
    this.bigVarint(toInt64(value));
  }

  private bigVarint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v >= 128n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  int64(field: number, value: number | bigint): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  /** int32 fields (enums, data types) share the varint encoding of int64. */
  int32(field: number, value: number): void {
    this.int64(field, value);
  }

  float(field: number, value: number): void {
    this.tag(field, FIXED32);
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(field: number, value: string): void {
    this.bytes(field, utf8.encode(value));
  }

  /**
   * A length-delimited field whose body is written by `body`. The body goes straight into this
   * buffer and is then moved right by the size of its length prefix, so nesting copies each
   * byte once per level instead of allocating a buffer per message.
   */
  message(field: number, body: (w: ProtoWriter) => void): void {
    this.tag(field, LEN);
    const start = this.pos;
    body(this);
    const length = this.pos - start;
    const prefix = varintSize(length);
    this.ensure(prefix);
    this.buf.copyWithin(start + prefix, start, this.pos);
    this.pos = start;
    this.varint(length);
    this.pos = start + prefix + length;
  }

  /** `repeated float [packed = true]`: one length-delimited run of little-endian fixed32 values. */
  packedFloats(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, LEN);
    this.varint(values.length * 4);
    this.ensure(values.length * 4);
    for (let i = 0; i < values.length; i++, this.pos += 4) this.view.setFloat32(this.pos, values[i]!, true);
  }

  /** `repeated double [packed = true]`. */
  packedDoubles(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, LEN);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i++, this.pos += 8) this.view.setFloat64(this.pos, values[i]!, true);
  }

  /** `repeated int64 [packed = true]`: varints inside one length-delimited field. */
  packedInt64s(field: number, values: ArrayLike<number | bigint>): void {
    if (values.length === 0) return;
    this.message(field, (w) => {
      for (let i = 0; i < values.length; i++) w.varint(values[i]!);
    });
  }
}

/** Checks that a value fits int64 and returns it as a bigint. */
function toInt64(value: number | bigint): bigint {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new RangeError(`int64 needs an integer, got ${value}`);
  }
  const v = BigInt(value);
  if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`${v} does not fit in int64`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// ONNX messages

/** TensorProto.DataType values for the element types Mass uses. */
export const DataType = { float: 1, int64: 7, string: 8, bool: 9, double: 11 } as const;
export type ElemType = keyof typeof DataType;

/** AttributeProto.AttributeType values. */
const AttributeType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

interface TensorBase {
  readonly name?: string;
  readonly dims: readonly number[];
}

/** A constant tensor; `values` are row-major and must hold exactly product(dims) elements. */
export type TensorInit =
  | (TensorBase & { readonly type: 'float' | 'double'; readonly values: ArrayLike<number> })
  | (TensorBase & { readonly type: 'int64'; readonly values: ArrayLike<number | bigint> })
  | (TensorBase & { readonly type: 'string'; readonly values: readonly string[] });

export type AttributeInit = { readonly name: string } & (
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: TensorInit }
  | { readonly type: 'floats'; readonly value: ArrayLike<number> }
  | { readonly type: 'ints'; readonly value: ArrayLike<number | bigint> }
  | { readonly type: 'strings'; readonly value: readonly string[] }
);

export interface NodeInit {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Operator set domain; '' (or absent) is the default ONNX domain. */
  readonly domain?: string;
  readonly attributes?: readonly AttributeInit[];
}

/** A tensor-typed graph input or output; a string dimension is symbolic (dim_param), e.g. 'N'. */
export interface ValueInfoInit {
  readonly name: string;
  readonly type: ElemType;
  readonly shape: readonly (number | string)[];
  readonly docString?: string;
}

export interface GraphInit {
  readonly name: string;
  readonly nodes: readonly NodeInit[];
  readonly initializers: readonly TensorInit[];
  readonly inputs: readonly ValueInfoInit[];
  readonly outputs: readonly ValueInfoInit[];
  /** Types of intermediate values, for operators whose schema has no type inference. */
  readonly valueInfo?: readonly ValueInfoInit[];
  readonly docString?: string;
}

export interface OpsetInit {
  readonly domain: string;
  readonly version: number;
}

export interface ModelInit {
  readonly irVersion: number;
  readonly opsetImports: readonly OpsetInit[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly modelVersion: number;
  readonly docString?: string;
  readonly graph: GraphInit;
  readonly metadataProps: readonly (readonly [key: string, value: string])[];
}

/** TensorProto. */
export function writeTensor(w: ProtoWriter, t: TensorInit): void {
  let size = 1;
  for (const d of t.dims) size *= d;
  if (size !== t.values.length) {
    throw new RangeError(
      `tensor ${t.name ?? ''}: dims [${t.dims.join(', ')}] need ${size} values, got ${t.values.length}`,
    );
  }
  for (const d of t.dims) w.int64(1, d); // dims: repeated int64, not packed in onnx.proto
  w.int32(2, DataType[t.type]); // data_type
  // The data fields in field-number order: float_data 4, string_data 6, int64_data 7, name 8, double_data 10.
  if (t.type === 'float') w.packedFloats(4, t.values);
  else if (t.type === 'string') for (const s of t.values) w.string(6, s);
  else if (t.type === 'int64') w.packedInt64s(7, t.values);
  if (t.name !== undefined) w.string(8, t.name);
  if (t.type === 'double') w.packedDoubles(10, t.values);
}

/** AttributeProto: name = 1, one value field, type = 20. */
export function writeAttribute(w: ProtoWriter, a: AttributeInit): void {
  w.string(1, a.name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int64(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor': {
      const t = a.value;
      w.message(5, (m) => writeTensor(m, t));
      break;
    }
    case 'floats': // repeated float floats = 7, not packed
      for (let i = 0; i < a.value.length; i++) w.float(7, a.value[i]!);
      break;
    case 'ints': // repeated int64 ints = 8, not packed
      for (let i = 0; i < a.value.length; i++) w.int64(8, a.value[i]!);
      break;
    case 'strings':
      for (const s of a.value) w.string(9, s);
      break;
  }
  w.int32(20, AttributeType[a.type]);
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7. */
export function writeNode(w: ProtoWriter, n: NodeInit): void {
  for (const s of n.inputs) w.string(1, s);
  for (const s of n.outputs) w.string(2, s);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (m) => writeAttribute(m, a));
  if (n.domain) w.string(7, n.domain);
}

/** ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2 } }, doc_string 3 }. */
export function writeValueInfo(w: ProtoWriter, v: ValueInfoInit): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int32(1, DataType[v.type]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          // TensorShapeProto.dim = 1; Dimension: dim_value = 1 | dim_param = 2.
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int64(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
  if (v.docString !== undefined) w.string(3, v.docString);
}

/** GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13. */
export function writeGraph(w: ProtoWriter, g: GraphInit): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  if (g.docString !== undefined) w.string(10, g.docString);
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo ?? []) w.message(13, (m) => writeValueInfo(m, v));
}

/**
 * ModelProto: ir_version 1, producer_name 2, producer_version 3, model_version 5, doc_string 6,
 * graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2), metadata_props 14
 * (StringStringEntryProto: key 1, value 2).
 */
export function writeModel(w: ProtoWriter, m: ModelInit): void {
  w.int64(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  w.int64(5, m.modelVersion);
  if (m.docString !== undefined) w.string(6, m.docString);
  w.message(7, (g) => writeGraph(g, m.graph));
  for (const o of m.opsetImports) {
    w.message(8, (op) => {
      op.string(1, o.domain);
      op.int64(2, o.version);
    });
  }
  for (const [key, value] of m.metadataProps) {
    w.message(14, (e) => {
      e.string(1, key);
      e.string(2, value);
    });
  }
}

/** Serialises a whole model. */
export function encodeModel(m: ModelInit): Uint8Array {
  const w = new ProtoWriter(4096);
  writeModel(w, m);
  return w.finish();
}
