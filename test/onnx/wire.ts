/**
 * A protobuf wire-format reader for the tests, written independently of src/onnx/proto.ts so
 * that the writer is checked against a second implementation rather than against itself.
 */

export interface Field {
  readonly field: number;
  readonly wireType: number;
  /** Varints as bigint (two's complement for negative int64), fixed32/64 and LEN as raw bytes. */
  readonly value: bigint | Uint8Array;
}

export function readVarint(bytes: Uint8Array, pos: number): [value: bigint, next: number] {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated varint');
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7n;
  }
}

/** Splits one message into its fields, in the order they were written. */
export function decodeFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    pos = afterKey;
    if (wireType === 0) {
      const [value, next] = readVarint(bytes, pos);
      fields.push({ field, wireType, value });
      pos = next;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      fields.push({ field, wireType, value: bytes.subarray(pos, pos + size) });
      pos += size;
    } else if (wireType === 2) {
      const [length, next] = readVarint(bytes, pos);
      const end = next + Number(length);
      if (end > bytes.length) throw new Error('truncated length-delimited field');
      fields.push({ field, wireType, value: bytes.subarray(next, end) });
      pos = end;
    } else {
      throw new Error(`unexpected wire type ${wireType}`);
    }
  }
  return fields;
}

const utf8 = new TextDecoder();

function text(f: Field): string {
  if (!(f.value instanceof Uint8Array)) throw new Error(`field ${f.field} is not length-delimited`);
  return utf8.decode(f.value);
}

/** ModelProto.metadata_props (field 14: key 1, value 2) in file order. */
export function metadataOf(model: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of decodeFields(model)) {
    if (f.field !== 14 || !(f.value instanceof Uint8Array)) continue;
    const entry = decodeFields(f.value);
    out.set(text(entry.find((e) => e.field === 1)!), text(entry.find((e) => e.field === 2)!));
  }
  return out;
}
