// Issue 5, bad uploads: every file that is not a model Mass can serve is refused at upload with
// a clear 4xx problem+json, and leaves nothing behind: no model, no version, no blob, no temp file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProtoWriter, encodeModel, writeNode, writeValueInfo, type ModelInit } from '../../src/onnx/proto.js';
import { mulberry32 } from '../onnx/fixtures.js';
import { pgSkipReason, withTestDatabase } from '../support/pg.js';
import { call, SHARED_DATA, startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 32 * 1024;
const MODELS = resolve('../shared/data/models');
const HAVE_MODELS = existsSync(MODELS);
if (!HAVE_MODELS) console.warn(`!!! ${MODELS} is missing: the real-model bad-upload tests are SKIPPED`);

function assertProblem(
  r: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
  mention?: RegExp,
): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.status, status);
  assert.equal(r.body.code, code);
  assert.equal(r.body.requestId, r.headers.get('x-request-id'));
  const text = [
    r.body.detail,
    ...(r.body.errors ?? []).map((e: { path: string; message: string }) => `${e.path}: ${e.message}`),
  ].join('\n');
  if (mention) assert.match(text, mention);
}

/** A one-node model x → y, float [N,2]. */
function oneNode(
  node: ModelInit['graph']['nodes'][number],
  extraOpsets: ModelInit['opsetImports'] = [],
): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }, ...extraOpsets],
    producerName: 'test',
    producerVersion: '1',
    modelVersion: 1,
    graph: {
      name: 'g',
      nodes: [node],
      initializers: [],
      inputs: [{ name: 'x', type: 'float', shape: ['N', 2] }],
      outputs: [{ name: 'y', type: 'float', shape: ['N', 2] }],
    },
    metadataProps: [],
  });
}

/** scikit-learn's default classifier output: ZipMap, a sequence of maps, which is not a tensor. */
function zipMapModel(): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, 8);
  w.string(2, 'skl2onnx');
  w.message(7, (g) => {
    g.message(1, (n) =>
      writeNode(n, {
        opType: 'ZipMap',
        domain: 'ai.onnx.ml',
        inputs: ['x'],
        outputs: ['output_probability'],
        attributes: [{ name: 'classlabels_int64s', type: 'ints', value: [0, 1] }],
      }),
    );
    g.string(2, 'g');
    g.message(11, (v) => writeValueInfo(v, { name: 'x', type: 'float', shape: ['N', 2] }));
    // ValueInfo { name, type: TypeProto { sequence_type 4 { elem_type: TypeProto { map_type 5 { key 7, value float tensor } } } } }
    g.message(12, (v) => {
      v.string(1, 'output_probability');
      v.message(2, (t) =>
        t.message(4, (seq) =>
          seq.message(1, (e) =>
            e.message(5, (map) => {
              map.int32(1, 7);
              map.message(2, (val) => val.message(1, (tt) => tt.int32(1, 1)));
            }),
          ),
        ),
      );
    });
  });
  for (const [domain, version] of [
    ['', 17],
    ['ai.onnx.ml', 3],
  ] as const)
    w.message(8, (o) => {
      o.string(1, domain);
      o.int64(2, version);
    });
  return w.finish();
}

describe('bad model uploads', { timeout: 60_000 }, () => {
  let server: TestServer;
  let maintainer: string;
  let viewer: string;
  let otherKey: string;

  before(async () => {
    server = await startTestServer({ maxUploadBytes: LIMIT });
    const admin = server.adminKey!;
    for (const name of ['credit', 'other'])
      await call(server, 'POST', '/v1/projects', { key: admin, json: { name } });
    const key = async (project: string, role: string) =>
      (await call(server, 'POST', '/v1/keys', { key: admin, json: { name: role, project, role } })).body.key;
    maintainer = await key('credit', 'maintainer');
    viewer = await key('credit', 'viewer');
    otherKey = await key('other', 'owner');
  });
  after(() => server.dispose());

  const upload = (
    name: string,
    body: Uint8Array | string,
    options: { query?: string; type?: string; key?: string; headers?: Record<string, string> } = {},
  ) =>
    call(server, 'POST', `/v1/projects/credit/models/${name}/versions${options.query ?? ''}`, {
      key: options.key ?? maintainer,
      body: typeof body === 'string' ? body : Buffer.from(body),
      type: options.type ?? 'application/octet-stream',
      ...(options.headers ? { headers: options.headers } : {}),
    });

  test('bad call: not ONNX — random bytes, a CSV, JSON, an empty body, a zip → 400 MODEL_INVALID', async () => {
    const rand = mulberry32(99);
    const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256));
    assertProblem(await upload('noise', noise), 400, 'MODEL_INVALID', /not a valid ONNX model/);
    const csv = readFileSync(join(SHARED_DATA, 'iris.csv')).subarray(0, 2000);
    assertProblem(await upload('csv', csv), 400, 'MODEL_INVALID', /text/);
    assertProblem(await upload('json', '{"model": "onnx"}'), 400, 'MODEL_INVALID', /text/);
    assertProblem(await upload('empty', new Uint8Array(0)), 400, 'MODEL_INVALID', /empty/);
    assertProblem(
      await upload('zip', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4])),
      400,
      'MODEL_INVALID',
      /zip archive/,
    );
  });

  test('bad call: a truncated ONNX file → 400 MODEL_INVALID saying so', { skip: !HAVE_MODELS }, async () => {
    const bytes = readFileSync(join(MODELS, 'breast_cancer_mlp.onnx'));
    for (const cut of [bytes.length >> 1, bytes.length - 1000, 50])
      assertProblem(await upload('cut', bytes.subarray(0, cut)), 400, 'MODEL_INVALID', /truncated/);
  });

  test('bad call: a tensor in an external file → 400 (the server never reads a path a model names)', async () => {
    const w = new ProtoWriter();
    w.int64(1, 8);
    w.message(7, (g) => {
      g.message(1, (n) => writeNode(n, { opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }));
      g.string(2, 'g');
      g.message(5, (t) => {
        t.int64(1, 2);
        t.int32(2, 1);
        t.string(8, 'w');
        t.message(13, (e) => {
          e.string(1, 'location');
          e.string(2, '/etc/passwd');
        });
        t.int32(14, 1);
      });
      g.message(11, (v) => writeValueInfo(v, { name: 'x', type: 'float', shape: ['N', 2] }));
      g.message(12, (v) => writeValueInfo(v, { name: 'y', type: 'float', shape: ['N', 2] }));
    });
    w.message(8, (o) => o.int64(2, 17));
    assertProblem(await upload('external', w.finish()), 400, 'MODEL_INVALID', /external file/);
  });

  test("bad call: an operator ONNX Runtime cannot run, or a broken graph → 422 with ONNX Runtime's reason", async () => {
    const unknown = oneNode(
      { opType: 'Frobnicate', domain: 'com.example.unknown', inputs: ['x'], outputs: ['y'] },
      [{ domain: 'com.example.unknown', version: 1 }],
    );
    assertProblem(
      await upload('frob', unknown),
      422,
      'MODEL_UNSUPPORTED',
      /ONNX Runtime cannot load the model: .*Frobnicate.*not a registered function\/op/,
    );
    const noSuchOp = oneNode({ opType: 'Frobnicate', inputs: ['x'], outputs: ['y'] });
    assertProblem(
      await upload('frob2', noSuchOp),
      422,
      'MODEL_UNSUPPORTED',
      /No Op registered for Frobnicate/,
    );
    const dangling = oneNode({ opType: 'Relu', inputs: ['nowhere'], outputs: ['y'] });
    assertProblem(await upload('dangling', dangling), 422, 'MODEL_UNSUPPORTED', /nowhere/);
  });

  test('bad call: a sequence-of-maps output (ZipMap) → 422 saying how to export tensors', async () => {
    assertProblem(
      await upload('zipmap', zipMapModel()),
      422,
      'MODEL_UNSUPPORTED',
      /sequence of maps.*zipmap/,
    );
  });

  test('bad call: over the size limit → 413, declared or streamed', { skip: !HAVE_MODELS }, async () => {
    const big = readFileSync(join(MODELS, 'text_encoder.onnx'));
    assert.ok(big.length > LIMIT);
    assertProblem(await upload('big', big), 413, 'PAYLOAD_TOO_LARGE', new RegExp(String(LIMIT)));
    // Streamed without a Content-Length: stopped while reading.
    const chunks = Array.from({ length: Math.ceil(big.length / 4096) }, (_, i) =>
      big.subarray(i * 4096, (i + 1) * 4096),
    );
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const r = await fetch(`${server.url}/v1/projects/credit/models/big2/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${maintainer}`, 'content-type': 'application/octet-stream' },
      body: stream,
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e as Error);
    if (r instanceof Response) assert.equal(r.status, 413);
    // else the server closed the connection while the client was still sending: also refused.
  });

  test('bad call: bad names, bad options, a wrong content type → 400 / 415 naming the field', async () => {
    const model = oneNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] });
    assertProblem(await upload('bad%20name', model), 400, 'VALIDATION_FAILED', /model/);
    assertProblem(await upload('.hidden', model), 400, 'VALIDATION_FAILED', /model/);
    assertProblem(await upload('a%2F..%2Fb', model), 400, 'VALIDATION_FAILED', /model/);
    assertProblem(await upload('-lead', model), 400, 'VALIDATION_FAILED', /model/);
    assertProblem(await upload('ok', '{}', { type: 'application/json' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assertProblem(
      await upload('ok', model, { type: 'text/csv' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /octet-stream/,
    );
    assertProblem(await upload('ok', model, { query: '?task=clustering' }), 400, 'VALIDATION_FAILED', /task/);
    assertProblem(await upload('ok', model, { query: '?colour=blue' }), 400, 'VALIDATION_FAILED', /colour/);
    assertProblem(
      await upload('ok', model, { query: '?task=custom&labels=a,b' }),
      400,
      'VALIDATION_FAILED',
      /labels/,
    );
    assertProblem(
      await upload('ok', model, { query: '?labels=a,b,c' }),
      400,
      'VALIDATION_FAILED',
      /labels.*2 columns.*3 labels/,
    );
    assertProblem(await upload('ok', model, { query: '?labels=a,a' }), 400, 'VALIDATION_FAILED', /twice/);
    assertProblem(
      await upload('ok', model, { query: '?task=classification&output=nope' }),
      400,
      'VALIDATION_FAILED',
      /no output "nope"/,
    );
    assertProblem(
      await upload('ok', model, { headers: { 'x-mass-import-options': '{"labels": [' } }),
      400,
      'VALIDATION_FAILED',
      /x-mass-import-options.*JSON/,
    );
    assertProblem(
      await upload('ok', model, { headers: { 'x-mass-import-options': '{"colour": "blue"}' } }),
      400,
      'VALIDATION_FAILED',
      /colour/,
    );
  });

  test("bad call: another project's key → 404; a viewer → 403; no key → 401", async () => {
    const model = oneNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] });
    assertProblem(await upload('ok', model, { key: otherKey }), 404, 'NOT_FOUND', /project "credit"/);
    assertProblem(await upload('ok', model, { key: viewer }), 403, 'FORBIDDEN');
    const r = await call(server, 'POST', '/v1/projects/credit/models/ok/versions', {
      body: Buffer.from(model),
      type: 'application/octet-stream',
    });
    assertProblem(r, 401, 'UNAUTHENTICATED');
  });

  test('bad call: a version whose task differs from the model → 409, and its file is not kept', async () => {
    const relu = oneNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] });
    const first = await upload('relu', relu);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.signature.task, 'custom');
    const sigmoid = oneNode({ opType: 'Sigmoid', inputs: ['x'], outputs: ['y'] });
    assertProblem(
      await upload('relu', sigmoid, { query: '?labels=no,yes' }),
      409,
      'STATE_CONFLICT',
      /custom model.*classification/,
    );
  });

  test('nothing half-written: one model, one version, one blob, no temp file', async () => {
    const listed = await call(server, 'GET', '/v1/projects/credit/models', { key: maintainer });
    assert.deepEqual(
      listed.body.items.map((m: { name: string; latestVersion: number }) => [m.name, m.latestVersion]),
      [['relu', 1]],
    );
    const root = join(server.home, 'artifacts');
    const tmp = join(root, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
    const blobs = readdirSync(join(root, 'sha256'), { recursive: true }).filter((p) => String(p).length > 60);
    assert.equal(blobs.length, 1, `blobs: ${blobs.join(', ')}`);
  });
});

describe('model uploads on PostgreSQL', { timeout: 60_000 }, () => {
  test('a good import, a refused conflict and a broken file: one model, one version', async (t) => {
    const db = await withTestDatabase();
    if (!db) return t.skip(pgSkipReason());
    const server = await startTestServer({ databaseUrl: db.url }).catch(async (error: unknown) => {
      await db.drop();
      throw error;
    });
    // The server first (it writes on close), then its database.
    t.after(async () => {
      await server.dispose();
      await db.drop();
    });
    const key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'pg' } });
    const upload = (name: string, body: Uint8Array, query = '') =>
      call(server, 'POST', `/v1/projects/pg/models/${name}/versions${query}`, {
        key,
        body: Buffer.from(body),
        type: 'application/octet-stream',
      });
    const relu = oneNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] });
    const first = await upload('m', relu);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assertProblem(await upload('m', relu, '?labels=a,b'), 409, 'STATE_CONFLICT');
    assertProblem(await upload('m', relu.subarray(0, relu.length - 3)), 400, 'MODEL_INVALID');
    const second = await upload('m', oneNode({ opType: 'Sigmoid', inputs: ['x'], outputs: ['y'] }));
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.version, 2);
    const model = await call(server, 'GET', '/v1/projects/pg/models/m', { key });
    assert.deepEqual(
      model.body.versions.map((v: { version: number; algorithm: string }) => [v.version, v.algorithm]),
      [
        [2, 'imported'],
        [1, 'imported'],
      ],
    );
  });
});
