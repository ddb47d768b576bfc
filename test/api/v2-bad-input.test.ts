// Issue 6's bad input, through every prediction front door of the real server: each gets a clear
// 4xx problem+json naming the input, and the process keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { boolAndDouble, oneRowOnly } from '../serving/graphs.js';
import {
  call,
  deploy,
  irisCsv,
  irisTensors,
  register,
  servingFixture,
  sharedModel,
  train,
  type ServingFixture,
} from '../serving/support.js';

const SETOSA = [5.1, 3.5, 1.4, 0.2];

function assertProblem(
  r: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
  mention?: RegExp,
): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  assert.equal(r.body.requestId, r.headers.get('x-request-id'));
  const text = [
    r.body.detail,
    ...(r.body.errors ?? []).map((e: { path: string; message: string }) => `${e.path}: ${e.message}`),
  ].join('\n');
  if (mention) assert.match(text, mention);
}

describe('bad input to the prediction front doors', () => {
  let f: ServingFixture;
  const infer = (json: unknown, name = 'iris') =>
    call(f.server, 'POST', `/v2/models/${name}/infer`, { key: f.key, json });

  before(async () => {
    f = await servingFixture({ maxPredictRows: 100, maxBodyBytes: 1024 * 1024 });
    await train(f, 'iris', irisCsv(), 'target', 'iris');
    assert.equal((await deploy(f, { name: 'iris', model: 'iris' })).status, 201);
    await register(f, 'lab', 'species', sharedModel('species_encoder'));
    await register(f, 'lab', 'text', sharedModel('text_encoder'));
    await register(f, 'lab', 'fragile', oneRowOnly());
    await register(f, 'lab', 'bools', boolAndDouble());
    for (const name of ['species', 'text', 'fragile', 'bools'])
      assert.equal((await deploy(f, { name, model: name })).status, 201);
  });
  after(() => f.server.dispose());

  test('a good request is served (the baseline of the cases below)', async () => {
    assert.equal((await infer({ inputs: irisTensors([SETOSA]) })).status, 200);
    const r = await infer(
      {
        inputs: [
          { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
          { name: 'value', datatype: 'FP64', shape: [2, 2], data: [1, 2, 3, 4] },
        ],
      },
      'bools',
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out = Object.fromEntries(r.body.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(out.not.data, [false, true]);
    assert.deepEqual([out.twice.datatype, out.twice.data], ['FP64', [2, 4, 6, 8]]);
  });

  test('bad call: unknown deployment or model → 404', async () => {
    assertProblem(await infer({ inputs: irisTensors([SETOSA]) }, 'nope'), 404, 'NOT_FOUND', /nope/);
    assertProblem(await call(f.server, 'GET', '/v2/models/nope', { key: f.key }), 404, 'NOT_FOUND');
    assertProblem(
      await call(f.server, 'POST', '/v1/projects/lab/deployments/nope/invocations', {
        key: f.key,
        json: { instances: [SETOSA] },
      }),
      404,
      'NOT_FOUND',
    );
    assertProblem(
      await call(f.server, 'POST', '/api/predict', {
        key: f.key,
        json: { model_id: 'nope', input_parameters: {} },
      }),
      404,
      'NOT_FOUND',
    );
  });

  test('bad call: a missing, extra or misnamed input → 400 naming it', async () => {
    const [a, b, c] = irisTensors([SETOSA]);
    assertProblem(await infer({ inputs: [a, b, c] }), 400, 'PREDICTION_INPUT_INVALID', /petal width/);
    assertProblem(
      await infer({ inputs: [...irisTensors([SETOSA]), { ...a!, name: 'colour' }] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/4\/name.*colour/,
    );
    assertProblem(
      await infer({ inputs: [{ ...a!, name: 'sepal length' }, b, c, irisTensors([SETOSA])[3]] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /"sepal length" is not an input/,
    );
    assertProblem(await infer({ inputs: [a, a, b, c] }), 400, 'PREDICTION_INPUT_INVALID', /twice/);
    assertProblem(await infer({ inputs: [] }), 400, 'PREDICTION_INPUT_INVALID', /\/inputs/);
    assertProblem(await infer({ inputz: [] }), 400, 'PREDICTION_INPUT_INVALID', /inputz/);
    assertProblem(
      await infer({ inputs: irisTensors([SETOSA]), outputs: [{ name: 'score' }] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /score/,
    );
  });

  test('bad call: a wrong datatype or shape → 400 naming the input', async () => {
    const t = irisTensors([SETOSA]);
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, datatype: 'FP64' }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/datatype.*FP32/,
    );
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, datatype: 'FLOAT' }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /datatype/,
    );
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, shape: [1, 2] }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/shape/,
    );
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, shape: [2, 1] }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/data.*1 values; shape needs 2/,
    );
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, shape: [-1, 1] }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /shape/,
    );
    assertProblem(
      await infer({
        inputs: [{ ...t[0]!, shape: [2, 1], data: [1, 2] }, ...t.slice(1)],
      }),
      400,
      'PREDICTION_INPUT_INVALID',
      /rows/,
    );
    const ids = Array.from({ length: 16 }, () => 1);
    assertProblem(
      await infer(
        {
          inputs: [
            { name: 'input_ids', datatype: 'INT64', shape: [1, 16], data: ids },
            { name: 'attention_mask', datatype: 'INT64', shape: [1, 16], data: [...ids.slice(1), 0.5] },
          ],
        },
        'text',
      ),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/1\/data\/15.*whole number/,
    );
  });

  test('bad call: a string where a number is expected, NaN/Infinity where the model does not take them', async () => {
    const t = irisTensors([SETOSA]);
    assertProblem(
      await infer({ inputs: [{ ...t[0]!, data: ['5.1'] }, ...t.slice(1)] }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/data\/0.*must be a number.*string/,
    );
    for (const v of ['NaN', 'Infinity'])
      assertProblem(
        await infer({ inputs: [{ ...t[0]!, data: [v] }, ...t.slice(1)] }),
        400,
        'PREDICTION_INPUT_INVALID',
        /must be a number/,
      );
    // Imported models take no missing values: null is refused (a trained model imputes it).
    assertProblem(
      await infer(
        {
          inputs: [
            { name: 'value', datatype: 'FP64', shape: [1, 2], data: [1, null] },
            { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
          ],
        },
        'bools',
      ),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/data\/1.*must be a number, got null/,
    );
    assertProblem(
      await infer(
        {
          inputs: [
            { name: 'value', datatype: 'FP64', shape: [1, 2], data: [1, 2] },
            { name: 'flag', datatype: 'BOOL', shape: [1], data: [1] },
          ],
        },
        'bools',
      ),
      400,
      'PREDICTION_INPUT_INVALID',
      /true or false/,
    );
    // Rows: the existing rows API names the column.
    const rows = [
      { 'sepal length (cm)': 'five', 'sepal width (cm)': 3, 'petal length (cm)': 1, 'petal width (cm)': 0.2 },
    ];
    assertProblem(
      await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/invocations', {
        key: f.key,
        json: { dataframe_records: rows },
      }),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/dataframe_records\/0\/sepal length \(cm\).*must be a number/,
    );
  });

  test('bad call: more rows than the configured maximum → 413', async () => {
    const many = Array.from({ length: 101 }, () => SETOSA);
    assertProblem(await infer({ inputs: irisTensors(many) }), 413, 'TOO_MANY_ROWS', /100/);
    assertProblem(
      await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/invocations', {
        key: f.key,
        json: { instances: many },
      }),
      413,
      'TOO_MANY_ROWS',
    );
  });

  test('bad call: a 50 MB body, a body that is not JSON → 413, 400; the server keeps serving', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    big.write('{"inputs": [', 0);
    const r = await fetch(`${f.server.url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.key}`, 'content-type': 'application/json' },
      body: big,
    }).catch((e: unknown) => e as Error);
    if (r instanceof Response) assert.equal(r.status, 413);
    assertProblem(
      await call(f.server, 'POST', '/v2/models/iris/infer', {
        key: f.key,
        body: '{"inputs": [',
        type: 'application/json',
      }),
      400,
      'BODY_NOT_JSON',
    );
    assertProblem(
      await call(f.server, 'POST', '/v2/models/iris/infer', {
        key: f.key,
        body: 'inputs',
        type: 'text/plain',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.equal((await infer({ inputs: irisTensors([SETOSA]) })).status, 200);
  });

  test('bad call: a V2 BYTES tensor with bad base64 → 400 naming the element', async () => {
    assertProblem(
      await infer(
        {
          inputs: [
            {
              name: 'species',
              datatype: 'BYTES',
              shape: [2],
              parameters: { content_type: 'base64' },
              data: ['c2V0b3Nh', 'not base64!'],
            },
          ],
        },
        'species',
      ),
      400,
      'PREDICTION_INPUT_INVALID',
      /\/inputs\/0\/data\/1 is not valid base64/,
    );
  });

  test("bad call: a caller without access to the deployment → 404 (another project's key), 401 without a key", async () => {
    const body = { inputs: irisTensors([SETOSA]) };
    assertProblem(
      await call(f.server, 'POST', '/v2/models/lab.iris/infer', { key: f.other, json: body }),
      404,
      'NOT_FOUND',
    );
    assertProblem(
      await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/invocations', {
        key: f.other,
        json: { instances: [SETOSA] },
      }),
      404,
      'NOT_FOUND',
    );
    assertProblem(
      await call(f.server, 'POST', '/api/predict', {
        key: f.other,
        json: { model_id: 'lab.iris', input_parameters: {} },
      }),
      404,
      'NOT_FOUND',
    );
    assertProblem(
      await call(f.server, 'POST', '/v2/models/iris/infer', { json: body }),
      401,
      'UNAUTHENTICATED',
    );
  });

  test('bad call: a model that fails at run time → 500 with the request id; the next request is served', async () => {
    const one = { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] };
    assert.equal((await infer({ inputs: [one] }, 'fragile')).status, 200);
    const r = await infer(
      { inputs: [{ ...one, shape: [2, 4], data: [...one.data, ...one.data] }] },
      'fragile',
    );
    assertProblem(r, 500, 'INFERENCE_FAILED');
    assert.ok(r.body.detail.includes(r.body.requestId), 'the detail names the request id');
    assert.equal((await infer({ inputs: [one] }, 'fragile')).status, 200);
  });

  test('bad call: MLflow and simple bodies that are not what they say', async () => {
    const inv = (json: unknown) =>
      call(f.server, 'POST', '/v1/projects/lab/deployments/iris/invocations', { key: f.key, json });
    assertProblem(
      await inv({ instances: [SETOSA], inputs: [SETOSA] }),
      400,
      'VALIDATION_FAILED',
      /exactly one/,
    );
    assertProblem(await inv({ data: [SETOSA] }), 400, 'VALIDATION_FAILED', /\/data/);
    assertProblem(
      await inv({ dataframe_split: { columns: ['a'], data: [[1]] } }),
      400,
      'PREDICTION_INPUT_INVALID',
      /"a"/,
    );
    assertProblem(await inv({ instances: [[1, 2, 3]] }), 400, 'PREDICTION_INPUT_INVALID', /4 values/);
    const r = await inv({ instances: [[1, 2, 3]] });
    assert.equal(r.body.error_code, 'BAD_REQUEST', 'MLflow clients read error_code and message');
    assert.equal(typeof r.body.message, 'string');
    assertProblem(
      await call(f.server, 'POST', '/api/predict', {
        key: f.key,
        json: { model_id: 'iris', input_parameters: { 'sepal length (cm)': 1 } },
      }),
      400,
      'PREDICTION_INPUT_INVALID',
      /sepal width/,
    );
    assertProblem(
      await call(f.server, 'POST', '/api/predict', {
        key: f.key,
        json: {
          model_id: 'iris',
          output_target: 'colour',
          input_parameters: {
            'sepal length (cm)': 5,
            'sepal width (cm)': 3,
            'petal length (cm)': 1,
            'petal width (cm)': 0.2,
          },
        },
      }),
      400,
      'VALIDATION_FAILED',
      /colour/,
    );
  });

  test('bad call: hostile tensors: a huge shape with few values, deep nesting, too many dimensions → 400', async () => {
    const ids = { name: 'input_ids', datatype: 'INT64', shape: [1, 1_000_000_000], data: [1, 2, 3] };
    const mask = { name: 'attention_mask', datatype: 'INT64', shape: [1, 16], data: Array(16).fill(1) };
    assertProblem(
      await infer({ inputs: [ids, mask] }, 'text'),
      400,
      'PREDICTION_INPUT_INVALID',
      /3 values; shape needs 1000000000/,
    );
    const deep = `{"inputs":[{"name":"species","datatype":"BYTES","shape":[1],"data":${'['.repeat(5000)}"a"${']'.repeat(5000)}}]}`;
    assertProblem(
      await call(f.server, 'POST', '/v2/models/species/infer', {
        key: f.key,
        body: deep,
        type: 'application/json',
      }),
      400,
      'PREDICTION_INPUT_INVALID',
      /data/,
    );
    assertProblem(
      await infer(
        { inputs: [{ name: 'species', datatype: 'BYTES', shape: Array(40).fill(1), data: ['a'] }] },
        'species',
      ),
      400,
      'PREDICTION_INPUT_INVALID',
      /shape/,
    );
    assert.equal((await infer({ inputs: irisTensors([SETOSA]) })).status, 200);
  });

  test('fuzz: random V2 bodies never crash the server: every answer is 200 or a 4xx problem', async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const values: unknown[] = [0, -1, 1.5, 1e308, 'x', '', null, true, [], {}, [[1]], [1, [2]], '5', -0];
    for (let i = 0; i < 150; i++) {
      const base = irisTensors([SETOSA]) as any[];
      const t = base[Math.floor(rnd() * 4)];
      const field = pick(['name', 'datatype', 'shape', 'data', 'parameters', 'extra']);
      t[field] = pick([...values, ['a'], [1, 1], [1e9, 1]]);
      const body =
        rnd() < 0.1 ? pick(values) : { inputs: base, ...(rnd() < 0.2 ? { outputs: pick(values) } : {}) };
      const r = await infer(body, pick(['iris', 'species', 'text']));
      assert.ok(
        r.status === 200 || (r.status >= 400 && r.status < 500),
        `${r.status} ${JSON.stringify(r.body)}`,
      );
    }
    assert.equal((await infer({ inputs: irisTensors([SETOSA]) })).status, 200);
  });
});
