/**
 * Input packing: a load-time rewrite of an ONNX graph that changes how it is fed, not what it computes.
 *
 * Models trained by Mass take one float [N,1] input per numeric column and join them with a
 * `Concat(axis=1)`. ONNX Runtime's Node binding spends about 1.2 µs per input per run converting
 * feeds, which for 30 columns is three times the cost of the model itself. When every input of
 * such a Concat is a float [N,1] graph input used nowhere else, the k inputs are replaced by one
 * float [N,k] input and the Concat by an Identity: the nodes after it see the same tensor.
 * The serving codecs then write column values straight into one row-major Float32Array.
 *
 * Only the few protobuf fields involved are decoded; every other field is copied byte for byte.
 * The caller checks the rewritten graph against the original on sample inputs before using it.
 */

/** One packed input: `columns` (original input names, in Concat order) now travel as `name` [N, columns.length]. */
export interface PackedInput {
  readonly name: string;
  readonly columns: readonly string[];
}

interface Field {
  readonly no: number;
  readonly wire: number;
  /** The whole record (tag + payload), for copying unchanged. */
  readonly raw: Uint8Array;
  /** The payload of a length-delimited field; the value of a varint. */
  readonly body: Uint8Array;
  readonly value: number;
}

function readVarint(buf: Uint8Array, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at >= buf.length) throw new RangeError('truncated varint');
    const b = buf[at++]!;
    // Numbers above 2^53 are not needed here (tags, lengths, small enums); keep precision where it exists.
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, at];
    if (shift > 63) throw new RangeError('varint too long');
  }
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const start = at;
    const [tag, afterTag] = readVarint(buf, at);
    at = afterTag;
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let body = buf.subarray(at, at);
    let value = 0;
    if (wire === 0) {
      [value, at] = readVarint(buf, at);
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else if (wire === 2) {
      const [len, afterLen] = readVarint(buf, at);
      body = buf.subarray(afterLen, afterLen + len);
      at = afterLen + len;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
    if (at > buf.length) throw new RangeError('truncated field');
    out.push({ no, wire, raw: buf.subarray(start, at), body, value });
  }
  return out;
}

const utf8 = new TextDecoder();
const text = (f: Field) => utf8.decode(f.body);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function lengthDelimited(no: number, body: Uint8Array): Uint8Array {
  const head = [...varint(no * 8 + 2), ...varint(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const str = (no: number, s: string) => lengthDelimited(no, new TextEncoder().encode(s));
const msg = (no: number, ...parts: Uint8Array[]) => lengthDelimited(no, join(parts));
const intField = (no: number, n: number) => Uint8Array.from([...varint(no * 8), ...varint(n)]);

interface InputInfo {
  readonly name: string;
  readonly float: boolean;
  /** [dynamic, 1]: the shape of one column. */
  readonly column: boolean;
  /** The symbolic name of the first dimension, if any. */
  readonly batchParam: string | undefined;
}

function inputInfo(valueInfo: Uint8Array): InputInfo {
  let name = '';
  let float = false;
  let column = false;
  let batchParam: string | undefined;
  for (const f of fields(valueInfo)) {
    if (f.no === 1 && f.wire === 2) name = text(f);
    if (f.no !== 2 || f.wire !== 2) continue;
    for (const t of fields(f.body)) {
      if (t.no !== 1 || t.wire !== 2) continue; // tensor_type
      const dims: { value?: number; param?: string }[] = [];
      for (const tt of fields(t.body)) {
        if (tt.no === 1 && tt.wire === 0) float = tt.value === 1;
        if (tt.no === 2 && tt.wire === 2) {
          for (const d of fields(tt.body)) {
            if (d.no !== 1 || d.wire !== 2) continue;
            const dim: { value?: number; param?: string } = {};
            for (const dv of fields(d.body)) {
              if (dv.no === 1 && dv.wire === 0) dim.value = dv.value;
              if (dv.no === 2 && dv.wire === 2) dim.param = text(dv);
            }
            dims.push(dim);
          }
        }
      }
      column = dims.length === 2 && dims[0]!.value === undefined && dims[1]!.value === 1;
      batchParam = dims[0]?.param;
    }
  }
  return { name, float, column, batchParam };
}

interface NodeInfo {
  readonly inputs: string[];
  readonly outputs: string[];
  readonly op: string;
  readonly domain: string;
  readonly name: string | undefined;
  readonly axis: number | undefined;
  readonly hasSubgraph: boolean;
}

function nodeInfo(node: Uint8Array): NodeInfo {
  const info: NodeInfo = {
    inputs: [],
    outputs: [],
    op: '',
    domain: '',
    name: undefined,
    axis: undefined,
    hasSubgraph: false,
  };
  const mutable = info as { -readonly [K in keyof NodeInfo]: NodeInfo[K] };
  for (const f of fields(node)) {
    if (f.wire !== 2) continue;
    if (f.no === 1) info.inputs.push(text(f));
    else if (f.no === 2) info.outputs.push(text(f));
    else if (f.no === 3) mutable.name = text(f);
    else if (f.no === 4) mutable.op = text(f);
    else if (f.no === 7) mutable.domain = text(f);
    else if (f.no === 5) {
      let attrName = '';
      let i: number | undefined;
      for (const a of fields(f.body)) {
        if (a.no === 1 && a.wire === 2) attrName = text(a);
        if (a.no === 3 && a.wire === 0) i = a.value >= 2 ** 63 ? a.value - 2 ** 64 : a.value;
        // g (6) or graphs (11): a subgraph may read outer names; leave such graphs alone.
        if (a.no === 6 || a.no === 11) mutable.hasSubgraph = true;
      }
      if (attrName === 'axis') mutable.axis = i;
    }
  }
  return info;
}

/**
 * Returns the packed graph and its layout, or undefined when no Concat qualifies (the graph is
 * then used as it is).
 */
export function packColumnInputs(
  model: Uint8Array,
): { readonly bytes: Uint8Array; readonly packed: readonly PackedInput[] } | undefined {
  const top = fields(model);
  const graphField = top.find((f) => f.no === 7 && f.wire === 2);
  if (!graphField) return undefined;
  const graph = fields(graphField.body);
  const inputs = new Map<string, InputInfo>();
  const initializers = new Set<string>();
  const outputs = new Set<string>();
  const nodes: NodeInfo[] = [];
  const allNames = new Set<string>();
  for (const f of graph) {
    if (f.wire !== 2) continue;
    if (f.no === 11) {
      const info = inputInfo(f.body);
      inputs.set(info.name, info);
      allNames.add(info.name);
    } else if (f.no === 5) {
      for (const t of fields(f.body)) if (t.no === 8 && t.wire === 2) initializers.add(text(t));
    } else if (f.no === 12) {
      for (const o of fields(f.body)) if (o.no === 1 && o.wire === 2) outputs.add(text(o));
    } else if (f.no === 1) {
      const n = nodeInfo(f.body);
      nodes.push(n);
      for (const name of [...n.inputs, ...n.outputs]) allNames.add(name);
    }
  }
  if (nodes.some((n) => n.hasSubgraph)) return undefined;
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);

  const packedByNode = new Map<number, PackedInput & { batchParam: string | undefined }>();
  nodes.forEach((n, index) => {
    if (n.op !== 'Concat' || (n.domain !== '' && n.domain !== 'ai.onnx')) return;
    if (n.axis !== 1 && n.axis !== -1) return;
    if (n.inputs.length < 2 || new Set(n.inputs).size !== n.inputs.length) return;
    const ok = n.inputs.every((name) => {
      const info = inputs.get(name);
      return (
        info !== undefined &&
        info.float &&
        info.column &&
        uses.get(name) === 1 &&
        !outputs.has(name) &&
        !initializers.has(name)
      );
    });
    if (!ok) return;
    let name = `mass_packed_${index}`;
    while (allNames.has(name)) name = `_${name}`;
    allNames.add(name);
    packedByNode.set(index, { name, columns: n.inputs, batchParam: inputs.get(n.inputs[0]!)!.batchParam });
  });
  if (packedByNode.size === 0) return undefined;

  const removed = new Set<string>();
  for (const p of packedByNode.values()) for (const c of p.columns) removed.add(c);
  const parts: Uint8Array[] = [];
  let nodeIndex = 0;
  let newInputsWritten = false;
  for (const f of graph) {
    if (f.no === 1 && f.wire === 2) {
      const p = packedByNode.get(nodeIndex);
      const n = nodes[nodeIndex]!;
      nodeIndex++;
      if (p) {
        parts.push(
          msg(
            1,
            str(1, p.name),
            str(2, n.outputs[0]!),
            ...(n.name !== undefined ? [str(3, n.name)] : []),
            str(4, 'Identity'),
          ),
        );
        continue;
      }
    } else if (f.no === 11 && f.wire === 2) {
      const info = inputInfo(f.body);
      if (removed.has(info.name)) {
        if (!newInputsWritten) {
          newInputsWritten = true;
          for (const p of packedByNode.values()) {
            const batchDim = p.batchParam ? msg(1, str(2, p.batchParam)) : msg(1);
            const shape = msg(2, batchDim, msg(1, intField(1, p.columns.length)));
            parts.push(msg(11, str(1, p.name), msg(2, msg(1, intField(1, 1), shape))));
          }
        }
        continue;
      }
    }
    parts.push(f.raw);
  }
  const newGraph = join(parts);
  const out: Uint8Array[] = [];
  for (const f of top) out.push(f === graphField ? lengthDelimited(7, newGraph) : f.raw);
  return {
    bytes: join(out),
    packed: [...packedByNode.values()].map(({ name, columns }) => ({ name, columns })),
  };
}
