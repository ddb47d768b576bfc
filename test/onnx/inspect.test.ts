// The defensive ONNX reader: facts of real and hand-built models, and refusal — never a crash,
// never a hang — of everything else: truncations, random bytes, mutations, hostile lengths.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { OnnxFormatError, inspectOnnx, type OnnxModelInfo } from '../../src/onnx/inspect.js';
import {
  ProtoWriter,
  encodeModel,
  writeGraph,
  writeValueInfo,
  type ModelInit,
} from '../../src/onnx/proto.js';
import { mulberry32 } from './fixtures.js';

const MODELS = resolve('../shared/data/models');
const HAVE_MODELS = existsSync(MODELS);
if (!HAVE_MODELS) console.warn(`!!! ${MODELS} is missing: the real-model inspect tests are SKIPPED`);

/** A small valid model: an initializer also listed as an input, metadata, a doc string, named and fixed dims. */
function sample(overrides: Partial<ModelInit> = {}): ModelInit {
  return {
    irVersion: 8,
    opsetImports: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: 'hand',
    producerVersion: '1.2',
    modelVersion: 3,
    docString: 'a test model',
    graph: {
      name: 'g',
      nodes: [{ opType: 'Add', inputs: ['x', 'bias'], outputs: ['y'] }],
      initializers: [{ name: 'bias', type: 'float', dims: [2], values: [1, 2] }],
      inputs: [
        { name: 'x', type: 'float', shape: ['batch', 2] },
        { name: 'bias', type: 'float', shape: [2] },
      ],
      outputs: [{ name: 'y', type: 'float', shape: ['batch', 2] }],
    },
    metadataProps: [
      ['mass.signature', '{"task":"custom"}'],
      ['author', 'me'],
    ],
    ...overrides,
  };
}

function refused(bytes: Uint8Array, pattern?: RegExp): OnnxFormatError {
  let caught: unknown;
  try {
    inspectOnnx(bytes);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OnnxFormatError, `expected an OnnxFormatError, got ${String(caught)}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** inspectOnnx either reads the bytes or refuses them with OnnxFormatError; anything else fails the test. */
function readOrRefuse(bytes: Uint8Array): OnnxModelInfo | undefined {
  try {
    return inspectOnnx(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) return undefined;
    throw error;
  }
}

describe('inspectOnnx: facts', () => {
  test('a hand-built model: header, inputs without initializers, shapes with dim_param, metadata', () => {
    const info = inspectOnnx(encodeModel(sample()));
    assert.equal(info.irVersion, 8);
    assert.deepEqual(info.opsetImports, [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
    assert.equal(info.producerName, 'hand');
    assert.equal(info.producerVersion, '1.2');
    assert.equal(info.modelVersion, 3);
    assert.equal(info.docString, 'a test model');
    assert.equal(info.graph.name, 'g');
    assert.deepEqual(info.graph.initializers, ['bias']);
    assert.deepEqual(
      info.graph.inputs.map((v) => v.name),
      ['x'],
      'an initializer listed as an input is not something a caller feeds',
    );
    assert.deepEqual(info.graph.inputs[0]!.type, {
      kind: 'tensor',
      elemType: 1,
      elemTypeName: 'float',
      shape: ['batch', 2],
    });
    assert.equal(info.graph.outputs[0]!.name, 'y');
    assert.equal(info.graph.nodeCount, 1);
    assert.deepEqual(info.graph.operators, [':Add']);
    assert.equal(info.metadata.get('mass.signature'), '{"task":"custom"}');
    assert.equal(info.metadata.get('author'), 'me');
  });

  test('element types and an unknown dimension', () => {
    const info = inspectOnnx(
      encodeModel(
        sample({
          graph: {
            name: 'g',
            nodes: [{ opType: 'Identity', inputs: ['s'], outputs: ['t'] }],
            initializers: [],
            inputs: [{ name: 's', type: 'string', shape: ['N'] }],
            outputs: [{ name: 't', type: 'string', shape: [''] }],
          },
        }),
      ),
    );
    assert.equal(info.graph.inputs[0]!.type.kind, 'tensor');
    assert.deepEqual(info.graph.outputs[0]!.type, {
      kind: 'tensor',
      elemType: 8,
      elemTypeName: 'string',
      shape: [null],
    });
  });

  const real = [
    [
      'breast_cancer_mlp',
      17,
      [['input', 'float', ['batch', 30]]],
      [['probabilities', 'float', ['batch', 2]]],
    ],
    ['digits_cnn', 17, [['image', 'float', ['batch', 1, 8, 8]]], [['probabilities', 'float', ['batch', 10]]]],
    [
      'iris_forest',
      17,
      [['features', 'float', ['batch', 4]]],
      [
        ['label', 'int64', ['batch']],
        ['probabilities', 'float', ['batch', 3]],
      ],
    ],
    ['species_encoder', 17, [['species', 'string', ['batch']]], [['species_id', 'int64', ['batch']]]],
    [
      'text_encoder',
      17,
      [
        ['input_ids', 'int64', ['batch', 'seq']],
        ['attention_mask', 'int64', ['batch', 'seq']],
      ],
      [['logits', 'float', ['batch', 2]]],
    ],
    ['mlp30', 14, [['input', 'float', ['batch', 30]]], [['logits', 'float', ['batch', 2]]]],
  ] as const;
  for (const [name, opset, inputs, outputs] of real) {
    test(
      `the real model ${name}.onnx: inputs, outputs and opset as ONNX Runtime sees them`,
      { skip: !HAVE_MODELS },
      async () => {
        const bytes = readFileSync(resolve(MODELS, `${name}.onnx`));
        const info = inspectOnnx(bytes);
        const simple = (list: OnnxModelInfo['graph']['inputs']) =>
          list.map((v) => [
            v.name,
            v.type.kind === 'tensor' ? v.type.elemTypeName : v.type.kind,
            v.type.kind === 'tensor' ? v.type.shape : null,
          ]);
        assert.deepEqual(simple(info.graph.inputs), inputs);
        assert.deepEqual(simple(info.graph.outputs), outputs);
        assert.equal(info.opsetImports.find((o) => o.domain === '')?.version, opset);
        const session = await ort.InferenceSession.create(bytes);
        assert.deepEqual(
          info.graph.inputs.map((v) => v.name),
          session.inputNames,
        );
        assert.deepEqual(
          info.graph.outputs.map((v) => v.name),
          session.outputNames,
        );
        await session.release();
      },
    );
  }
});

describe('inspectOnnx: refusals', () => {
  test('bad call: empty, text, zip, gzip, pickle, HDF5', () => {
    refused(new Uint8Array(0), /empty/);
    refused(Buffer.from('sepal_length,sepal_width,species\n5.1,3.5,setosa\n'), /text/);
    refused(Buffer.from('{"inputs": [1, 2, 3]}'), /text/);
    refused(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), /zip archive/);
    refused(Buffer.from([0x1f, 0x8b, 0x08, 0x00]), /gzip/);
    refused(Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0]), /pickle/);
    refused(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a]), /HDF5/);
  });

  test('bad call: structurally wrong models name what is wrong', () => {
    const noOutputs = sample();
    refused(encodeModel({ ...noOutputs, graph: { ...noOutputs.graph, outputs: [] } }), /no outputs/);
    refused(encodeModel(sample({ opsetImports: [] })), /imports no operator set/);
    refused(encodeModel(sample({ irVersion: 0 })), /ir_version 0/);
    const twice = sample();
    refused(
      encodeModel({
        ...twice,
        graph: { ...twice.graph, inputs: [twice.graph.inputs[0]!, twice.graph.inputs[0]!] },
      }),
      /declared twice/,
    );
    // No graph at all: only a header.
    const w = new ProtoWriter();
    w.int64(1, 8);
    w.message(8, (o) => o.int64(2, 17));
    refused(w.finish(), /no graph/);
    // No ir_version.
    const v = new ProtoWriter();
    v.message(7, (g) => writeGraph(g, sample().graph));
    refused(v.finish(), /ir_version/);
  });

  test('bad call: hostile lengths and numbers are checked, not trusted', () => {
    // A graph field declaring 2^62 bytes.
    refused(
      Uint8Array.from([0x08, 0x08, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]),
      /declares/,
    );
    // A varint of eleven bytes.
    refused(Uint8Array.from([0x08, ...Array(10).fill(0xff), 0x01]), /longer than/);
    // A length just one byte too long.
    const good = encodeModel(sample());
    const cut = good.subarray(0, good.length - 1);
    assert.equal(readOrRefuse(cut), undefined);
    // Wire types 3, 4 (groups), 6 and 7 do not occur in ONNX.
    for (const wire of [3, 4, 6, 7])
      refused(Uint8Array.from([0x08, 0x08, (7 << 3) | wire, 0x00]), /wire type/);
    // A string that is not UTF-8.
    const bad = new ProtoWriter();
    bad.int64(1, 8);
    bad.bytes(2, Uint8Array.from([0xff, 0xfe, 0xfd]));
    refused(bad.finish(), /UTF-8/);
    // A negative dimension (int64 -1 as ten bytes, as some old exporters wrote): read as unknown.
    const neg = sample();
    const negBytes = encodeModel({
      ...neg,
      graph: { ...neg.graph, inputs: [{ name: 'x', type: 'float', shape: [-1, 2] }] },
    });
    const type = inspectOnnx(negBytes).graph.inputs[0]!.type;
    assert.deepEqual(type.kind === 'tensor' ? type.shape : undefined, [null, 2]);
    // An ir_version beyond 2^53.
    refused(Uint8Array.from([0x08, ...Array(9).fill(0xff), 0x01]), /ir_version/);
  });

  test('bad call: a tensor kept in an external file is refused (no path of the server is ever read)', () => {
    const w = new ProtoWriter();
    w.int64(1, 8);
    w.message(7, (g) => {
      g.message(1, (n) => {
        n.string(1, 'x');
        n.string(1, 'w');
        n.string(2, 'y');
        n.string(4, 'Add');
      });
      g.string(2, 'g');
      g.message(5, (t) => {
        t.int64(1, 2);
        t.int32(2, 1);
        t.string(8, 'w');
        t.message(13, (e) => {
          e.string(1, 'location');
          e.string(2, '../../../../etc/passwd');
        });
        t.int32(14, 1);
      });
      g.message(11, (v) => writeValueInfo(v, { name: 'x', type: 'float', shape: ['N', 2] }));
      g.message(12, (v) => writeValueInfo(v, { name: 'y', type: 'float', shape: ['N', 2] }));
    });
    w.message(8, (o) => o.int64(2, 17));
    refused(w.finish(), /external file/);
  });

  test('bad call: subgraphs nested without end are cut off at a fixed depth', () => {
    // An If node whose then_branch holds an If node whose then_branch ... 200 deep.
    const graphBody = (w: ProtoWriter, depth: number): void => {
      if (depth > 0) {
        w.message(1, (n) => {
          n.string(1, 'c');
          n.string(2, `o${depth}`);
          n.string(4, 'If');
          n.message(5, (a) => {
            a.string(1, 'then_branch');
            a.message(6, (g) => graphBody(g, depth - 1));
            a.int32(20, 5);
          });
        });
      }
      w.string(2, `g${depth}`);
      w.message(12, (v) => writeValueInfo(v, { name: `o${depth}`, type: 'float', shape: [1] }));
    };
    const w = new ProtoWriter();
    w.int64(1, 8);
    w.message(7, (g) => graphBody(g, 200));
    w.message(8, (o) => o.int64(2, 17));
    refused(w.finish(), /nested more than 16 deep/);
  });
});

describe('inspectOnnx: fuzz', () => {
  const seedModel = HAVE_MODELS
    ? readFileSync(resolve(MODELS, 'breast_cancer_mlp.onnx'))
    : Buffer.from(encodeModel(sample()));

  test('every truncation is refused, or (cut after the graph) reads the same graph', () => {
    const full = inspectOnnx(seedModel);
    let accepted = 0;
    for (let n = 0; n < seedModel.length; n++) {
      const info = readOrRefuse(seedModel.subarray(0, n));
      if (!info) continue;
      accepted++;
      // Protobuf has no end marker: only trailing whole fields (opsets, metadata) can be lost.
      assert.equal(info.graph.nodeCount, full.graph.nodeCount, `prefix ${n}`);
      assert.deepEqual(info.graph.inputs, full.graph.inputs, `prefix ${n}`);
      assert.deepEqual(info.graph.outputs, full.graph.outputs, `prefix ${n}`);
    }
    assert.ok(accepted < 10, `${accepted} truncations were accepted`);
  });

  test('random bytes are always refused with OnnxFormatError', () => {
    const rand = mulberry32(20240501);
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(rand() * (i % 10 === 0 ? 20_000 : 600));
      const bytes = new Uint8Array(length);
      for (let k = 0; k < length; k++) bytes[k] = Math.floor(rand() * 256);
      // Half of them start like a real model (ir_version, then a graph tag) to get past the first byte.
      if (i % 2 === 0 && length > 4) bytes.set([0x08, 0x08, 0x3a], 0);
      assert.equal(readOrRefuse(bytes), undefined, `random input ${i} of ${length} bytes was accepted`);
    }
  });

  test('mutated models are read or refused, never crash the reader, and stay fast', () => {
    const rand = mulberry32(7);
    const started = performance.now();
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from(seedModel);
      const edits = 1 + Math.floor(rand() * 8);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : bytes[at]! ^ (1 << Math.floor(rand() * 8));
      }
      readOrRefuse(bytes);
    }
    assert.ok(performance.now() - started < 15_000, 'mutations are read in linear time');
  });
});
