/**
 * A bounded, defensive reader of ONNX ModelProto: enough to describe a model (IR version, opsets,
 * producer, graph inputs and outputs with element types and shapes, metadata) and to refuse a
 * file that is not ONNX, is truncated or is broken, with a clear message, before ONNX Runtime
 * ever sees it.
 *
 * Nothing read from the file is trusted: every length is checked against the bytes that are
 * really there before it is used, varints are at most ten bytes, strings must be UTF-8, nested
 * graphs (If/Loop/Scan bodies) are followed to a fixed depth, and no buffer is allocated from a
 * size the file declares (sub-messages are views of the input). Work is linear in the file size.
 *
 * Field numbers are those of onnx/onnx.proto (see proto.ts for the writer side). Unknown fields
 * are skipped, as protobuf requires, so files from newer ONNX versions still read.
 */

/** Thrown for any file that is not a well-formed ONNX model; `message` says what and where. */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
}

/** A dimension: a fixed size (`dim_value`), a symbolic name (`dim_param`, e.g. `batch`), or unknown. */
export type OnnxDim = number | string | null;

export type OnnxType =
  | {
      readonly kind: 'tensor' | 'sparse_tensor';
      /** TensorProto.DataType. */
      readonly elemType: number;
      /** The lowercase ONNX name of the element type (`float`, `int64`, `string`, ...). */
      readonly elemTypeName: string;
      /** null: the rank is unknown (no shape in the file). */
      readonly shape: readonly OnnxDim[] | null;
    }
  | { readonly kind: 'sequence' | 'optional'; readonly elem: OnnxType | null }
  | { readonly kind: 'map'; readonly keyType: number; readonly value: OnnxType | null }
  | { readonly kind: 'unknown' };

export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxType;
  readonly docString: string;
}

export interface OnnxOpset {
  /** '' is the default ONNX domain (also spelled `ai.onnx`). */
  readonly domain: string;
  readonly version: number;
}

export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly opsetImports: readonly OnnxOpset[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly graph: {
    readonly name: string;
    readonly docString: string;
    /** Graph inputs a caller feeds: declared inputs that are not also initializers. */
    readonly inputs: readonly OnnxValueInfo[];
    readonly outputs: readonly OnnxValueInfo[];
    /** Names of the initializers (constant tensors) of the main graph. */
    readonly initializers: readonly string[];
    /** Nodes of the main graph (not counting subgraphs). */
    readonly nodeCount: number;
    /** Every operator used, in the main graph and all subgraphs and functions: `domain:op_type`, sorted. */
    readonly operators: readonly string[];
  };
  /** metadata_props; a key given twice keeps its last value. */
  readonly metadata: ReadonlyMap<string, string>;
  /** Model-local functions. */
  readonly functionCount: number;
}

export interface InspectLimits {
  /** Deepest nesting of subgraphs (If/Loop/Scan bodies inside attributes); default 16. */
  readonly maxGraphDepth?: number;
  /** Longest graph input or output name, in UTF-8 bytes; default 1024. */
  readonly maxNameBytes?: number;
}

/** TensorProto.DataType names, by value (onnx.proto, up to ONNX 1.18). */
export const ONNX_ELEM_TYPES: readonly string[] = [
  'undefined',
  'float',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'double',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
  'float8e8m0',
  'uint2',
  'int2',
];

export function elemTypeName(elemType: number): string {
  return ONNX_ELEM_TYPES[elemType] ?? `unknown type ${elemType}`;
}

/**
 * Reads a ModelProto. Throws OnnxFormatError, naming the place in the model (`graph.node[3]`),
 * for anything that is not a well-formed ONNX model; never throws anything else.
 */
export function inspectOnnx(bytes: Uint8Array, limits: InspectLimits = {}): OnnxModelInfo {
  if (bytes.byteLength === 0) throw new OnnxFormatError('the file is empty');
  const ctx: Ctx = {
    maxDepth: limits.maxGraphDepth ?? 16,
    maxNameBytes: limits.maxNameBytes ?? 1024,
    operators: new Set(),
  };
  const kind = sniff(bytes);
  if (kind) throw new OnnxFormatError(`the file is ${kind}, not an ONNX model`);
  try {
    return readModel(bytes, ctx);
  } catch (error) {
    if (isMostlyText(bytes))
      throw new OnnxFormatError('the file is text (CSV, JSON, ...), not a binary ONNX model');
    if (error instanceof OnnxFormatError) throw error;
    // A bug of this reader must not become a 500 with a stack: the file is refused all the same.
    throw new OnnxFormatError(`the file cannot be read as ONNX (${(error as Error).message})`);
  }
}

/** Formats people upload by mistake, recognised by their first bytes. */
function sniff(bytes: Uint8Array): string | undefined {
  const starts = (...magic: number[]) => magic.every((b, i) => bytes[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04))
    return 'a zip archive (a PyTorch .pt/.pth checkpoint or a model bundle?); export the model with torch.onnx.export and upload the .onnx file';
  if (starts(0x1f, 0x8b)) return 'gzip-compressed; decompress it and upload the .onnx file';
  if (bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] >= 2 && bytes[1] <= 5 && bytes.length > 2)
    return 'a Python pickle; Mass never loads pickles: export the model to ONNX';
  if (starts(0x89, 0x48, 0x44, 0x46)) return 'an HDF5 file (a Keras model?); convert it to ONNX (tf2onnx)';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Wire format

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

interface Field {
  readonly no: number;
  readonly wire: number;
  /**
   * Varint value: a number below 2^49 (the common case, read without BigInt), else the raw
   * 64-bit value as a bigint. Fixed-width values are not needed and left at 0.
   */
  readonly int: number | bigint;
  /** The body of a length-delimited field: a view of the input, never a copy. */
  readonly data: Uint8Array | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(where: string, message: string): never {
  throw new OnnxFormatError(where ? `${where}: ${message}` : message);
}

function readVarint(buf: Uint8Array, pos: number, where: string): [number | bigint, number] {
  // Seven bytes hold 49 bits: exact in a double, so no BigInt on the hot path.
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const b = buf[pos + i];
    if (b === undefined) fail(where, 'the file ends inside a number (truncated?)');
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos + i + 1];
    scale *= 128;
  }
  let big = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) fail(where, 'the file ends inside a number (truncated?)');
    big |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) {
      if (i === 9 && b > 1) fail(where, 'a number is longer than 64 bits');
      return [big, pos + i + 1];
    }
  }
  return fail(where, 'a number is longer than ten bytes');
}

/**
 * The fields of one message, in file order, each tag and length checked against the bytes
 * present. A generator, so that a message of millions of tiny fields costs time, not memory.
 */
function* fieldsOf(buf: Uint8Array, where: string): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos, where);
    if (typeof key !== 'number' || key > 0xffffffff) fail(where, `invalid field tag at byte ${pos}`);
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (no === 0) fail(where, `invalid field number 0 at byte ${pos}`);
    pos = afterKey;
    switch (wire) {
      case VARINT: {
        const [int, next] = readVarint(buf, pos, where);
        yield { no, wire, int, data: undefined };
        pos = next;
        break;
      }
      case FIXED64:
      case FIXED32: {
        const size = wire === FIXED64 ? 8 : 4;
        if (pos + size > buf.length) fail(where, 'the file ends inside a value (truncated?)');
        yield { no, wire, int: 0, data: undefined };
        pos += size;
        break;
      }
      case LEN: {
        const [length, next] = readVarint(buf, pos, where);
        if (typeof length !== 'number' || length > buf.length - next)
          fail(where, `a field declares ${length} bytes but only ${buf.length - next} remain (truncated?)`);
        const end = next + length;
        yield { no, wire, int: 0, data: buf.subarray(next, end) };
        pos = end;
        break;
      }
      default:
        fail(where, `invalid protobuf wire type ${wire} at byte ${pos}`);
    }
  }
}

/** Checks the wire type of a known field and returns its body. */
function body(f: Field, where: string, name: string): Uint8Array {
  if (f.wire !== LEN || f.data === undefined) fail(where, `${name} is not length-delimited (corrupt file?)`);
  return f.data;
}

function text(f: Field, where: string, name: string): string {
  try {
    return utf8.decode(body(f, where, name));
  } catch (error) {
    if (error instanceof OnnxFormatError) throw error;
    return fail(where, `${name} is not valid UTF-8 text`);
  }
}

/** An int64 field; negative values are written as 64-bit two's complement. Beyond ±2^53 it is inexact. */
function int(f: Field, where: string, name: string): number {
  if (f.wire !== VARINT) fail(where, `${name} is not an integer (corrupt file?)`);
  return typeof f.int === 'number' ? f.int : Number(BigInt.asIntN(64, f.int));
}

function smallInt(f: Field, where: string, name: string, min: number, max: number): number {
  const v = int(f, where, name);
  if (!Number.isSafeInteger(v) || v < min || v > max) fail(where, `${name} ${v} is out of range`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// ONNX messages

interface Ctx {
  readonly maxDepth: number;
  readonly maxNameBytes: number;
  readonly operators: Set<string>;
}

/** Highest IR version accepted as plausible (ONNX 1.18 writes 11); ONNX Runtime has the last word. */
const MAX_IR_VERSION = 100;

function readModel(bytes: Uint8Array, ctx: Ctx): OnnxModelInfo {
  let irVersion: number | undefined;
  let producerName = '';
  let producerVersion = '';
  let domain = '';
  let modelVersion = 0;
  let docString = '';
  let graph: ReturnType<typeof readGraph> | undefined;
  const opsetImports: OnnxOpset[] = [];
  const metadata = new Map<string, string>();
  let functionCount = 0;

  for (const f of fieldsOf(bytes, '')) {
    switch (f.no) {
      case 1:
        irVersion = smallInt(f, '', 'ir_version', 0, Number.MAX_SAFE_INTEGER);
        break;
      case 2:
        producerName = text(f, '', 'producer_name');
        break;
      case 3:
        producerVersion = text(f, '', 'producer_version');
        break;
      case 4:
        domain = text(f, '', 'domain');
        break;
      case 5:
        modelVersion = int(f, '', 'model_version');
        break;
      case 6:
        docString = text(f, '', 'doc_string');
        break;
      case 7:
        if (graph) fail('', 'the model has two graphs');
        graph = readGraph(body(f, '', 'graph'), 'graph', 0, ctx, true);
        break;
      case 8: {
        const where = `opset_import[${opsetImports.length}]`;
        let d = '';
        let version: number | undefined;
        for (const g of fieldsOf(body(f, '', 'opset_import'), where)) {
          if (g.no === 1) d = text(g, where, 'domain');
          else if (g.no === 2) version = smallInt(g, where, 'version', 1, 1_000_000);
        }
        if (version === undefined) fail(where, 'an operator set import has no version');
        opsetImports.push({ domain: d, version });
        break;
      }
      case 14: {
        const where = `metadata_props[${metadata.size}]`;
        let key: string | undefined;
        let value = '';
        for (const g of fieldsOf(body(f, '', 'metadata_props'), where)) {
          if (g.no === 1) key = text(g, where, 'key');
          else if (g.no === 2) value = text(g, where, 'value');
        }
        if (key === undefined) fail(where, 'a metadata entry has no key');
        metadata.set(key, value);
        break;
      }
      case 20: {
        // TrainingInfoProto: initialization 1, algorithm 2 (graphs that may hold tensors too).
        const where = 'training_info';
        for (const g of fieldsOf(body(f, '', where), where))
          if (g.no === 1 || g.no === 2) readGraph(body(g, where, 'graph'), where, 1, ctx, false);
        break;
      }
      case 25:
        readFunction(body(f, '', 'functions'), `functions[${functionCount}]`, ctx);
        functionCount++;
        break;
      default:
        break; // unknown or unused field: skipped
    }
  }

  if (irVersion === undefined) fail('', 'no ir_version: this is not an ONNX model');
  if (graph === undefined) fail('', 'the model has no graph (truncated?)');
  if (irVersion < 1 || irVersion > MAX_IR_VERSION)
    fail('', `ir_version ${irVersion} is not a known ONNX IR version`);
  if (irVersion >= 3 && opsetImports.length === 0) fail('', 'the model imports no operator set (truncated?)');
  const defaults = opsetImports.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (defaults.length > 1) fail('opset_import', 'the default ONNX domain is imported twice');
  if (new Set(opsetImports.map((o) => o.domain)).size !== opsetImports.length)
    fail('opset_import', 'an operator set domain is imported twice');

  return {
    irVersion,
    opsetImports,
    producerName,
    producerVersion,
    domain,
    modelVersion,
    docString,
    graph: { ...graph, operators: [...ctx.operators].sort() },
    metadata,
    functionCount,
  };
}

function isMostlyText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++;
  }
  return printable / n > 0.95;
}

interface GraphFacts {
  readonly name: string;
  readonly docString: string;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: readonly string[];
  readonly nodeCount: number;
}

/** GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13, sparse_initializer 15. */
function readGraph(buf: Uint8Array, where: string, depth: number, ctx: Ctx, main: boolean): GraphFacts {
  if (depth > ctx.maxDepth) fail(where, `subgraphs are nested more than ${ctx.maxDepth} deep`);
  let name = '';
  let docString = '';
  const declared: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers: string[] = [];
  let nodeCount = 0;
  for (const f of fieldsOf(buf, where)) {
    switch (f.no) {
      case 1:
        readNode(body(f, where, 'node'), `${where}.node[${nodeCount}]`, depth, ctx);
        nodeCount++;
        break;
      case 2:
        name = text(f, where, 'name');
        break;
      case 5:
        initializers.push(
          readTensor(body(f, where, 'initializer'), `${where}.initializer[${initializers.length}]`),
        );
        break;
      case 10:
        docString = text(f, where, 'doc_string');
        break;
      case 11:
        declared.push(readValueInfo(body(f, where, 'input'), `${where}.input[${declared.length}]`, ctx));
        break;
      case 12:
        outputs.push(readValueInfo(body(f, where, 'output'), `${where}.output[${outputs.length}]`, ctx));
        break;
      case 13:
        readValueInfo(body(f, where, 'value_info'), `${where}.value_info`, ctx);
        break;
      case 15: {
        // SparseTensorProto: values 1, indices 2 (TensorProto each); the name is that of values.
        const w = `${where}.sparse_initializer[${initializers.length}]`;
        for (const g of fieldsOf(body(f, where, 'sparse_initializer'), w)) {
          if (g.no === 1) initializers.push(readTensor(body(g, w, 'values'), `${w}.values`));
          else if (g.no === 2) readTensor(body(g, w, 'indices'), `${w}.indices`);
        }
        break;
      }
      default:
        break;
    }
  }
  const constant = new Set(initializers);
  const inputs = declared.filter((v) => !constant.has(v.name));
  if (main) {
    if (outputs.length === 0) fail(where, 'the graph has no outputs');
    for (const [list, kind] of [
      [inputs, 'input'],
      [outputs, 'output'],
    ] as const) {
      const seen = new Set<string>();
      for (const v of list) {
        if (v.name === '') fail(where, `a graph ${kind} has no name`);
        if (seen.has(v.name)) fail(where, `the graph ${kind} ${JSON.stringify(v.name)} is declared twice`);
        seen.add(v.name);
        if (new TextEncoder().encode(v.name).length > ctx.maxNameBytes)
          fail(where, `a graph ${kind} name is longer than ${ctx.maxNameBytes} bytes`);
        if (v.type.kind === 'unknown') fail(where, `the graph ${kind} ${JSON.stringify(v.name)} has no type`);
      }
    }
  }
  return { name, docString, inputs, outputs, initializers, nodeCount };
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7. */
function readNode(buf: Uint8Array, where: string, depth: number, ctx: Ctx): void {
  let opType = '';
  let domain = '';
  let attributes = 0;
  for (const f of fieldsOf(buf, where)) {
    if (f.no === 1 || f.no === 2 || f.no === 3) text(f, where, 'name');
    else if (f.no === 4) opType = text(f, where, 'op_type');
    else if (f.no === 7) domain = text(f, where, 'domain');
    else if (f.no === 5)
      readAttribute(body(f, where, 'attribute'), `${where}.attribute[${attributes++}]`, depth, ctx);
  }
  if (opType === '') fail(where, 'a node has no op_type');
  if (ctx.operators.size < 10_000) ctx.operators.add(`${domain === 'ai.onnx' ? '' : domain}:${opType}`);
}

/** AttributeProto: t 5, g 6, tensors 10, graphs 11, sparse_tensor 22, sparse_tensors 23 hold tensors or graphs. */
function readAttribute(buf: Uint8Array, where: string, depth: number, ctx: Ctx): void {
  for (const f of fieldsOf(buf, where)) {
    if (f.no === 5 || f.no === 10) readTensor(body(f, where, 'tensor'), `${where}.t`);
    else if (f.no === 6 || f.no === 11)
      readGraph(body(f, where, 'graph'), `${where}.g`, depth + 1, ctx, false);
    else if (f.no === 22 || f.no === 23) {
      for (const g of fieldsOf(body(f, where, 'sparse_tensor'), where))
        if (g.no === 1 || g.no === 2) readTensor(body(g, where, 'tensor'), `${where}.sparse_tensor`);
    }
  }
}

/** FunctionProto: node 3 (the nodes may hold attributes with tensors or graphs). */
function readFunction(buf: Uint8Array, where: string, ctx: Ctx): void {
  let nodes = 0;
  for (const f of fieldsOf(buf, where))
    if (f.no === 3) readNode(body(f, where, 'node'), `${where}.node[${nodes++}]`, 1, ctx);
}

/**
 * TensorProto: data_type 2, name 8, external_data 13, data_location 14. Returns the name.
 * Tensors stored outside the file are refused: their `location` is a path on the machine that
 * loads the model, and a model must never make the server read its files.
 */
function readTensor(buf: Uint8Array, where: string): string {
  let name = '';
  for (const f of fieldsOf(buf, where)) {
    if (f.no === 8) name = text(f, where, 'name');
    else if (f.no === 13 || (f.no === 14 && f.wire === VARINT && f.int !== 0))
      fail(
        where,
        `the tensor ${JSON.stringify(name)} keeps its data in an external file; upload a single self-contained .onnx file (onnx.save_model(m, f, save_as_external_data=False))`,
      );
    else if (f.no === 2) smallInt(f, where, 'data_type', 0, 1000);
  }
  return name;
}

/** ValueInfoProto: name 1, type 2, doc_string 3. */
function readValueInfo(buf: Uint8Array, where: string, ctx: Ctx): OnnxValueInfo {
  let name = '';
  let type: OnnxType = { kind: 'unknown' };
  let docString = '';
  for (const f of fieldsOf(buf, where)) {
    if (f.no === 1) name = text(f, where, 'name');
    else if (f.no === 2) type = readType(body(f, where, 'type'), where, 0, ctx);
    else if (f.no === 3) docString = text(f, where, 'doc_string');
  }
  return { name, type, docString };
}

/**
 * TypeProto: tensor_type 1, sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9.
 * Tensor { elem_type 1, shape 2 }; Sequence/Optional { elem_type 1 }; Map { key_type 1, value_type 2 }.
 */
function readType(buf: Uint8Array, where: string, depth: number, ctx: Ctx): OnnxType {
  if (depth > ctx.maxDepth) fail(where, `a type is nested more than ${ctx.maxDepth} deep`);
  let type: OnnxType = { kind: 'unknown' };
  for (const f of fieldsOf(buf, where)) {
    if (f.no === 1 || f.no === 8) {
      let elemType = 0;
      let shape: OnnxDim[] | null = null;
      for (const g of fieldsOf(body(f, where, 'tensor_type'), where)) {
        if (g.no === 1) elemType = smallInt(g, where, 'elem_type', 0, 1000);
        else if (g.no === 2) shape = readShape(body(g, where, 'shape'), where);
      }
      type = {
        kind: f.no === 1 ? 'tensor' : 'sparse_tensor',
        elemType,
        elemTypeName: elemTypeName(elemType),
        shape,
      };
    } else if (f.no === 4 || f.no === 9) {
      let elem: OnnxType | null = null;
      for (const g of fieldsOf(body(f, where, 'sequence_type'), where))
        if (g.no === 1) elem = readType(body(g, where, 'elem_type'), where, depth + 1, ctx);
      type = { kind: f.no === 4 ? 'sequence' : 'optional', elem };
    } else if (f.no === 5) {
      let keyType = 0;
      let value: OnnxType | null = null;
      for (const g of fieldsOf(body(f, where, 'map_type'), where)) {
        if (g.no === 1) keyType = smallInt(g, where, 'key_type', 0, 1000);
        else if (g.no === 2) value = readType(body(g, where, 'value_type'), where, depth + 1, ctx);
      }
      type = { kind: 'map', keyType, value };
    }
  }
  return type;
}

/** TensorShapeProto { dim 1: Dimension { dim_value 1, dim_param 2 } }. */
function readShape(buf: Uint8Array, where: string): OnnxDim[] {
  const dims: OnnxDim[] = [];
  for (const f of fieldsOf(buf, where)) {
    if (f.no !== 1) continue;
    let dim: OnnxDim = null;
    for (const g of fieldsOf(body(f, where, 'dim'), where)) {
      if (g.no === 1) {
        // Some old exporters wrote -1 for a dynamic dimension; ONNX Runtime reads it as unknown too.
        const v = int(g, where, 'dim_value');
        dim = v >= 0 && Number.isSafeInteger(v) ? v : null;
      } else if (g.no === 2) {
        const p = text(g, where, 'dim_param');
        dim = p === '' ? null : p;
      }
    }
    dims.push(dim);
    if (dims.length > 64) fail(where, 'a tensor has more than 64 dimensions');
  }
  return dims;
}
