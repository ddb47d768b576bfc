/** The protobuf writer, byte for byte, against hand-encoded messages (protobuf.dev/programming-guides/encoding). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ProtoWriter,
  encodeModel,
  varintSize,
  writeAttribute,
  writeNode,
  writeTensor,
  writeValueInfo,
} from '../../src/onnx/proto.js';
import { decodeFields, readVarint } from './wire.js';

function bytes(write: (w: ProtoWriter) => void): number[] {
  const w = new ProtoWriter(2); // tiny, so every test also exercises growing the buffer
  write(w);
  return Array.from(w.finish());
}

const hex = (s: string): number[] =>
  s
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));

describe('ProtoWriter.varint', () => {
  const cases: readonly [number | bigint, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '80 01'],
    [150, '96 01'], // the protobuf documentation's example
    [300, 'ac 02'],
    [2 ** 31, '80 80 80 80 08'], // past int32: bit operators would go wrong here
    [2 ** 32, '80 80 80 80 10'],
    [Number.MAX_SAFE_INTEGER, 'ff ff ff ff ff ff ff 0f'],
    [2 ** 60, '80 80 80 80 80 80 80 80 10'], // an exact double beyond 2^53
    [(1n << 63n) - 1n, 'ff ff ff ff ff ff ff ff 7f'], // int64 max
    [-1, 'ff ff ff ff ff ff ff ff ff 01'], // negative int64: 64-bit two's complement, ten bytes
    [-2n, 'fe ff ff ff ff ff ff ff ff 01'],
    [-300, 'd4 fd ff ff ff ff ff ff ff 01'],
    [-(1n << 63n), '80 80 80 80 80 80 80 80 80 01'], // int64 min
  ];
  for (const [value, encoded] of cases) {
    it(`${value} → ${encoded}`, () => {
      assert.deepEqual(
        bytes((w) => w.varint(value)),
        hex(encoded),
      );
      // The independent reader gives the value back (as uint64 bits for negatives).
      assert.equal(readVarint(new Uint8Array(hex(encoded)), 0)[0], BigInt.asUintN(64, BigInt(value)));
    });
  }

  it('varintSize agrees with the writer', () => {
    for (const v of [0, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 35, Number.MAX_SAFE_INTEGER]) {
      assert.equal(varintSize(v), bytes((w) => w.varint(v)).length, String(v));
    }
  });

  for (const bad of [1.5, NaN, Infinity, -0.5, 2 ** 64, 1n << 63n, -(1n << 63n) - 1n]) {
    it(`bad call: ${String(bad)} is not an int64`, () => {
      assert.throws(() => new ProtoWriter().varint(bad), RangeError);
    });
  }
});

describe('ProtoWriter fields', () => {
  it('writes tags as field number × 8 + wire type', () => {
    assert.deepEqual(
      bytes((w) => w.int64(1, 150)),
      hex('08 96 01'),
    );
    assert.deepEqual(
      bytes((w) => w.int64(20, 7)),
      hex('a0 01 07'),
    ); // field 20 needs a two-byte tag
    assert.deepEqual(
      bytes((w) => w.string(2, 'testing')),
      [0x12, 0x07, ...ascii('testing')],
    );
    assert.deepEqual(
      bytes((w) => w.float(2, 1)),
      hex('15 00 00 80 3f'),
    );
    assert.deepEqual(
      bytes((w) => w.double(1, -2)),
      hex('09 00 00 00 00 00 00 00 c0'),
    );
  });

  it('writes UTF-8 strings by byte length', () => {
    assert.deepEqual(
      bytes((w) => w.string(1, 'é東')),
      hex('0a 05 c3 a9 e6 9d b1'),
    );
  });

  it('packs repeated floats, doubles and int64s into one length-delimited field', () => {
    assert.deepEqual(
      bytes((w) => w.packedFloats(4, [1, -2])),
      hex('22 08 00 00 80 3f 00 00 00 c0'),
    );
    assert.deepEqual(
      bytes((w) => w.packedDoubles(10, [1])),
      hex('52 08 00 00 00 00 00 00 f0 3f'),
    );
    assert.deepEqual(
      bytes((w) => w.packedInt64s(7, [3, 270, -1])),
      hex('3a 0d 03 8e 02 ff ff ff ff ff ff ff ff ff 01'),
    );
    // Empty repeated fields are left out, as the reference serializer does.
    assert.deepEqual(
      bytes((w) => {
        w.packedFloats(4, []);
        w.packedDoubles(10, []);
        w.packedInt64s(7, []);
      }),
      [],
    );
  });

  it('nests messages and grows the length prefix past 127 bytes', () => {
    const long = 'x'.repeat(200);
    // outer field 3 { field 1: 200-byte string } = 203 bytes of body → two-byte length ca 01.
    assert.deepEqual(
      bytes((w) => w.message(3, (m) => m.string(1, long))),
      [0x1a, 0xcb, 0x01, 0x0a, 0xc8, 0x01, ...ascii(long)],
    );
    assert.deepEqual(
      bytes((w) => w.message(1, (a) => a.message(2, (b) => b.int64(3, 1)))),
      hex('0a 04 12 02 18 01'),
    );
    assert.deepEqual(
      bytes((w) => w.message(5, () => {})),
      hex('2a 00'),
    );
  });
});

describe('ONNX messages', () => {
  it('OperatorSetIdProto { domain: "ai.onnx.ml", version: 3 } inside a ModelProto', () => {
    const model = encodeModel({
      irVersion: 8,
      opsetImports: [{ domain: 'ai.onnx.ml', version: 3 }],
      producerName: 'mass',
      producerVersion: '1',
      modelVersion: 2,
      graph: { name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] },
      metadataProps: [['k', 'v']],
    });
    assert.deepEqual(Array.from(model), [
      ...hex('08 08'), // ir_version = 8
      ...[0x12, 0x04, ...ascii('mass')], // producer_name
      ...hex('1a 01 31'), // producer_version "1"
      ...hex('28 02'), // model_version = 2
      ...hex('3a 03 12 01 67'), // graph { name: "g" }
      ...[0x42, 0x0e, 0x0a, 0x0a, ...ascii('ai.onnx.ml'), 0x10, 0x03], // opset_import
      ...hex('72 06 0a 01 6b 12 01 76'), // metadata_props { key "k", value "v" }
    ]);
  });

  it('TensorProto: dims unpacked, float_data packed, name', () => {
    assert.deepEqual(
      bytes((w) => writeTensor(w, { name: 'w', type: 'float', dims: [2], values: [1, -2] })),
      hex('08 02 10 01 22 08 00 00 80 3f 00 00 00 c0 42 01 77'),
    );
  });

  it('TensorProto: double_data (field 10) is written after name (field 8)', () => {
    assert.deepEqual(
      bytes((w) => writeTensor(w, { name: 'b', type: 'double', dims: [1, 1], values: [1] })),
      hex('08 01 08 01 10 0b 42 01 62 52 08 00 00 00 00 00 00 f0 3f'),
    );
  });

  it('TensorProto: int64 and string data', () => {
    assert.deepEqual(
      bytes((w) => writeTensor(w, { type: 'int64', dims: [2], values: [5, -1] })),
      hex('08 02 10 07 3a 0b 05 ff ff ff ff ff ff ff ff ff 01'),
    );
    assert.deepEqual(
      bytes((w) => writeTensor(w, { type: 'string', dims: [2], values: ['a', ''] })),
      hex('08 02 10 08 32 01 61 32 00'),
    );
  });

  it('bad call: tensor values that do not fill the dims', () => {
    assert.throws(
      () => writeTensor(new ProtoWriter(), { type: 'float', dims: [2, 2], values: [1, 2, 3] }),
      /need 4 values, got 3/,
    );
  });

  it('AttributeProto: repeated ints and floats are not packed; type (field 20) comes last', () => {
    assert.deepEqual(
      bytes((w) => writeAttribute(w, { name: 'a', type: 'ints', value: [1, -1] })),
      hex('0a 01 61 40 01 40 ff ff ff ff ff ff ff ff ff 01 a0 01 07'),
    );
    assert.deepEqual(
      bytes((w) => writeAttribute(w, { name: 'f', type: 'floats', value: [1, 2] })),
      hex('0a 01 66 3d 00 00 80 3f 3d 00 00 00 40 a0 01 06'),
    );
    assert.deepEqual(
      bytes((w) => writeAttribute(w, { name: 's', type: 'strings', value: ['x', 'yz'] })),
      hex('0a 01 73 4a 01 78 4a 02 79 7a a0 01 08'),
    );
    assert.deepEqual(
      bytes((w) => writeAttribute(w, { name: 'axis', type: 'int', value: 0 })),
      [0x0a, 0x04, ...ascii('axis'), ...hex('18 00 a0 01 02')],
    );
    assert.deepEqual(
      bytes((w) => writeAttribute(w, { name: 'f', type: 'float', value: 0.5 })),
      hex('0a 01 66 15 00 00 00 3f a0 01 01'),
    );
    assert.deepEqual(
      bytes((w) =>
        writeAttribute(w, { name: 't', type: 'tensor', value: { type: 'double', dims: [1], values: [0] } }),
      ),
      hex('0a 01 74 2a 0e 08 01 10 0b 52 08 00 00 00 00 00 00 00 00 a0 01 04'),
    );
  });

  it('NodeProto: inputs, outputs, name, op_type, attributes, then domain', () => {
    const encoded = bytes((w) =>
      writeNode(w, {
        opType: 'OneHotEncoder',
        inputs: ['c'],
        outputs: ['y'],
        name: 'n',
        domain: 'ai.onnx.ml',
        attributes: [{ name: 'zeros', type: 'int', value: 1 }],
      }),
    );
    const fields = decodeFields(new Uint8Array(encoded));
    assert.deepEqual(
      fields.map((f) => f.field),
      [1, 2, 3, 4, 5, 7],
    );
    assert.deepEqual(encoded.slice(0, 9), hex('0a 01 63 12 01 79 1a 01 6e'));
  });

  it('ValueInfoProto: dim_param for the batch, dim_value otherwise', () => {
    assert.deepEqual(
      bytes((w) => writeValueInfo(w, { name: 'x', type: 'float', shape: ['N', 3] })),
      // name "x"; type { tensor_type { elem_type 1, shape { dim { dim_param "N" }, dim { dim_value 3 } } } }
      hex('0a 01 78 12 0f 0a 0d 08 01 12 09 0a 03 12 01 4e 0a 02 08 03'),
    );
  });
});
