// The serving pieces on their own: input packing, the tensor codec, the scheduler, routing specs,
// the latency histogram.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeModel, type GraphInit } from '../../src/onnx/proto.js';
import { ModelCache } from '../../src/serving/cache.js';
import { compare } from '../../src/serving/dataplane.js';
import { pickTarget, type Routing } from '../../src/serving/deployments.js';
import { packColumnInputs } from '../../src/serving/graph-pack.js';
import { FineHistogram } from '../../src/serving/metrics.js';
import { LoadedModel } from '../../src/serving/model.js';
import { loadOnnxRuntime } from '../../src/serving/runtime.js';
import { Scheduler } from '../../src/serving/scheduler.js';
import { applySpec, defaultSpec, promoteSpec, rollbackSpec } from '../../src/serving/spec.js';
import { concatBatch, fromHalf, sliceBatch, toHalf } from '../../src/serving/tensors.js';
import { dataJson } from '../../src/serving/v2.js';
import { readNumericMatrix } from '../../src/serving/fastjson.js';
import type { ModelVersion } from '../../src/registry/service.js';

function model(graph: GraphInit): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 't',
    producerVersion: '0',
    modelVersion: 1,
    graph,
    metadataProps: [],
  });
}

/** a, b, c float [N,1] → y = concat(a,b,c) · w: the shape of every model Mass trains. */
function columns(reuse = false): Uint8Array {
  return model({
    name: 'cols',
    nodes: [
      {
        opType: 'Concat',
        inputs: ['a', 'b', 'c'],
        outputs: ['x'],
        attributes: [{ name: 'axis', type: 'int', value: 1 }],
      },
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y0'] },
      reuse
        ? { opType: 'Add', inputs: ['y0', 'a'], outputs: ['y'] }
        : { opType: 'Identity', inputs: ['y0'], outputs: ['y'] },
    ],
    initializers: [{ name: 'w', type: 'float', dims: [3, 1], values: [1, 10, 100] }],
    inputs: ['a', 'b', 'c'].map((name) => ({ name, type: 'float' as const, shape: ['N', 1] })),
    outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  });
}

const version = (
  id: string,
  signature: ModelVersion['signature'] = { task: 'custom', inputs: [] },
): ModelVersion => ({
  id,
  modelId: 'm',
  model: 'm',
  version: 1,
  artifactHash: 'h',
  sizeBytes: 100,
  algorithm: 'x',
  params: {},
  metrics: {},
  signature,
  datasetVersionId: null,
  jobId: null,
  codeVersion: 't',
  createdAt: '',
});

describe('input packing', () => {
  test('a Concat of [N,1] float inputs becomes one [N,k] input, verified equal at load', async () => {
    const packed = packColumnInputs(columns());
    assert.deepEqual(packed?.packed, [{ name: 'mass_packed_0', columns: ['a', 'b', 'c'] }]);
    const rt = await loadOnnxRuntime(columns());
    assert.equal(rt.packed.length, 1);
    assert.deepEqual(
      rt.inputs.map((i) => [i.name, i.shape]),
      [
        ['a', [-1, 1]],
        ['b', [-1, 1]],
        ['c', [-1, 1]],
      ],
      'callers still see one tensor per column',
    );
    const out = rt.run({
      mass_packed_0: { type: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] },
    });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [321, 654]);
    rt.unload();
  });

  test('an input used elsewhere too is left alone', async () => {
    assert.equal(packColumnInputs(columns(true)), undefined);
    const rt = await loadOnnxRuntime(columns(true));
    assert.equal(rt.packed.length, 0);
    rt.unload();
  });

  test('bad call: truncated bytes are refused by the reader (the loader then keeps the graph as it is)', () => {
    assert.throws(() => packColumnInputs(Uint8Array.from([1, 2, 3])), RangeError);
    assert.throws(() => packColumnInputs(Uint8Array.from([0x3a, 0x80])), RangeError);
    assert.equal(packColumnInputs(Uint8Array.from([0x08, 0x01])), undefined, 'no graph: nothing to pack');
  });
});

describe('the row and tensor codecs of a loaded model', () => {
  test('rows, tables, columns and V2 tensors give the same feeds; the matrix form too', async () => {
    const rt = await loadOnnxRuntime(columns());
    const sig = {
      task: 'regression' as const,
      target: 't',
      inputs: ['a', 'b', 'c'].map((name) => ({ name, type: 'numeric' as const })),
    };
    const m = new LoadedModel(version('v', sig), rt, 100, 0);
    const run = (feeds: Parameters<typeof rt.run>[0]) => Array.from(rt.run(feeds).y!.data as Float32Array);
    const records = m.rows!.encodeRecords([{ a: 1, b: 2, c: null }], '/rows');
    const y = run(records);
    assert.ok(Number.isNaN(y[0]), 'a model without imputation passes NaN through');
    const table = m.rows!.encodeTable(['c', 'a', 'b'], [[3, 1, 2]], '/t');
    assert.deepEqual(run(table), [321]);
    const cols = m.rows!.encodeColumns({ a: [1], b: [2], c: [3] }, '/c');
    assert.deepEqual(run(cols.feeds), [321]);
    const v2 = m.tensors.decode(
      ['a', 'b', 'c'].map((name, j) => ({ name, datatype: 'FP32', shape: [1], data: [j + 1] })),
    );
    assert.deepEqual(run(v2.feeds), [321]);
    const matrix = m.tensors.decode([
      { name: 'input-0', datatype: 'FP32', shape: [1, 3], data: [[1, 2, 3]] },
    ]);
    assert.deepEqual(run(matrix.feeds), [321]);
    const raw = Buffer.alloc(12);
    [1, 2, 3].forEach((v, i) => raw.writeFloatLE(v, i * 4));
    const fromRaw = m.tensors.decode([{ name: 'input-0', datatype: 'FP32', shape: [1, 3], data: [], raw }]);
    assert.deepEqual(run(fromRaw.feeds), [321]);
    rt.unload();
  });

  test('FP16 round trip; JSON data writes NaN as null; batches stack and split', () => {
    for (const v of [0, 1, -2.5, 65504, 0.0001])
      assert.ok(Math.abs(fromHalf(toHalf(v)) - v) <= Math.abs(v) * 1e-3 + 1e-7);
    assert.equal(
      dataJson({ type: 'float32', data: Float32Array.from([1.5, NaN]), dims: [2] }, false),
      '[1.5,null]',
    );
    assert.equal(dataJson({ type: 'string', data: ['a'], dims: [1] }, true), '["YQ=="]');
    const t = concatBatch([
      { type: 'float32', data: Float32Array.from([1, 2]), dims: [1, 2] },
      { type: 'float32', data: Float32Array.from([3, 4, 5, 6]), dims: [2, 2] },
    ]);
    assert.deepEqual(t.dims, [3, 2]);
    assert.deepEqual(Array.from(sliceBatch(t, 1, 2).data as Float32Array), [3, 4, 5, 6]);
  });
});

describe('the scheduler', () => {
  async function setup(batching: { maxBatchSize: number; maxWaitUs: number } | null, maxQueue = 100) {
    const rt = await loadOnnxRuntime(columns());
    const cache = new ModelCache(async (v) => new LoadedModel(v, rt, 1000, 0), 1e9);
    const v = version('v1');
    await cache.acquire(v);
    const sizes: number[] = [];
    const s = new Scheduler(cache, v, { batching, maxQueue }, { batch: (rows) => sizes.push(rows) });
    const feed = (x: number) => ({
      mass_packed_0: { type: 'float32' as const, data: Float32Array.from([x, 0, 0]), dims: [1, 3] },
    });
    return { s, sizes, feed, close: () => cache.close() };
  }

  test('batching merges concurrent requests into one run and splits the answers back', async () => {
    const { s, sizes, feed, close } = await setup({ maxBatchSize: 8, maxWaitUs: 5_000 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_v, i) => s.submit(feed(i), 1)));
    answers.forEach((a, i) => assert.deepEqual(Array.from(a.y!.data as Float32Array), [i]));
    assert.deepEqual(sizes, [8, 2]);
    close();
  });

  test('without batching each request runs alone; a full queue refuses at once', async () => {
    const { s, sizes, feed, close } = await setup(null, 3);
    const ok = [s.submit(feed(1), 1), s.submit(feed(2), 1), s.submit(feed(3), 1)];
    assert.throws(() => s.submit(feed(4), 1), /OVERLOADED|requests waiting/);
    await Promise.all(ok);
    assert.deepEqual(sizes, [1, 1, 1]);
    close();
  });
});

describe('routing specs', () => {
  test('weights, shadow and aliases are checked; promote and rollback move production', () => {
    const base = defaultSpec(1, 10);
    assert.throws(() => applySpec(base, { traffic: [] }), /traffic/);
    assert.throws(() => applySpec(base, { traffic: [{ version: 1, weight: 0 }] }), /weights/);
    assert.throws(
      () =>
        applySpec(base, {
          traffic: [
            { version: 1, weight: 50 },
            { version: 1, weight: 50 },
          ],
        }),
      /twice/,
    );
    assert.throws(() => applySpec(base, { shadow: { version: 1 } }), /shadow/);
    assert.throws(() => applySpec(base, { aliases: { Prod: 1 } }), /aliases\/Prod/);
    assert.throws(() => applySpec(base, { batching: { maxBatchSize: 0, maxWaitUs: 1 } }), /maxBatchSize/);
    const canary = applySpec(base, {
      traffic: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
      aliases: { production: 1, staging: 2 },
    });
    const promoted = promoteSpec(canary, {});
    assert.deepEqual(promoted.traffic, [{ version: 2, weight: 100 }]);
    assert.equal(promoted.previous, 1);
    const back = rollbackSpec(promoted);
    assert.deepEqual(back.traffic, [{ version: 1, weight: 100 }]);
    assert.equal(back.aliases.production, 1);
    assert.throws(() => rollbackSpec(base), /nothing to roll back/);
  });

  test('a weighted pick follows the cumulative weights', () => {
    const t1 = { version: { version: 1 } } as never;
    const t2 = { version: { version: 2 } } as never;
    const r = {
      name: 'd',
      routes: [t1, t2],
      cumulative: [90, 100],
      targets: new Map([
        [1, t1],
        [2, t2],
      ]),
      spec: { aliases: { staging: 2 } },
    } as unknown as Routing;
    assert.equal(
      pickTarget(r, undefined, () => 0.5),
      t1,
    );
    assert.equal(
      pickTarget(r, undefined, () => 0.95),
      t2,
    );
    assert.equal(pickTarget(r, 'staging'), t2);
    assert.equal(pickTarget(r, '1'), t1);
    assert.throws(() => pickTarget(r, '3'), /not found/);
  });

  test('shadow comparison: labels decide when there are labels, numbers otherwise', () => {
    const a = {
      label: { type: 'int64' as const, data: BigInt64Array.from([1n]), dims: [1] },
      p: { type: 'float32' as const, data: Float32Array.from([0.9]), dims: [1] },
    };
    const b = {
      label: { type: 'int64' as const, data: BigInt64Array.from([1n]), dims: [1] },
      p: { type: 'float32' as const, data: Float32Array.from([0.7]), dims: [1] },
    };
    const c = compare(a, b);
    assert.equal(c.agree, true);
    assert.ok(Math.abs((c.maxAbsDiff as number) - 0.2) < 1e-6);
    assert.equal(compare({ p: a.p }, { p: b.p }).agree, false);
  });
});

test('the fine histogram: percentiles within 2%', () => {
  const h = new FineHistogram();
  for (let i = 1; i <= 1000; i++) h.observe(i);
  assert.ok(Math.abs(h.quantile(0.5) - 500) / 500 < 0.03);
  assert.ok(Math.abs(h.quantile(0.99) - 990) / 990 < 0.03);
  assert.equal(h.countAtMost(1e9), 1000);
  assert.ok(Math.abs(h.countAtMost(100) - 100) <= 3);
});

describe('the numeric matrix reader', () => {
  test('reads exactly what JSON.parse reads', () => {
    const text =
      '{"inputs": [[0, -0, 1, -1, 0.1, 1e-7, 1.5e+300, -2.2250738585072014e-308, 123456789012345678, 0.30000000000000004],\n' +
      ' [3.14159, 1E22, 1e23, 9007199254740993, -0.000123, 5e-324, 1.7976931348623157e308 , 42 , 7.0, 1e-22]]}';
    const m = readNumericMatrix(Buffer.from(text))!;
    assert.equal(m.key, 'inputs');
    assert.deepEqual([m.rows, m.cols], [2, 10]);
    const expected = (JSON.parse(text) as { inputs: number[][] }).inputs.flat();
    m.data.forEach((v, i) => assert.ok(Object.is(v, expected[i]), `${i}: ${v} vs ${expected[i]}`));
    assert.deepEqual(readNumericMatrix(Buffer.from(' {"instances":[[1,2],[3,4]]} '))?.toJSON(), [
      [1, 2],
      [3, 4],
    ]);
  });

  test('anything else is left to the JSON parser', () => {
    for (const text of [
      '{"inputs": [[1, null]]}',
      '{"inputs": [["1"]]}',
      '{"inputs": [[1, 2], [3]]}',
      '{"inputs": [[01]]}',
      '{"inputs": [[1.]]}',
      '{"inputs": [[1e]]}',
      '{"inputs": [[1]], "params": {}}',
      '{"dataframe_split": [[1]]}',
      '{"inputs": [[1]]',
      '{"inputs": [[[1]]]}',
      '{"inputs": []}',
    ])
      assert.equal(readNumericMatrix(Buffer.from(text)), undefined, text);
  });
});
