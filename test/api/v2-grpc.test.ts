// The Open Inference Protocol over gRPC, with a @grpc/grpc-js client: health, metadata, inference
// with typed contents and with raw contents, the same keys and model names as REST, and errors
// as gRPC statuses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  close,
  deploy,
  flat,
  golden,
  irisCsv,
  register,
  servingFixture,
  sharedModel,
  train,
  type ServingFixture,
} from '../serving/support.js';

type Client = grpc.Client &
  Record<
    string,
    (req: unknown, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: any) => void) => void
  >;

describe('Open Inference Protocol over gRPC', () => {
  let f: ServingFixture;
  let client: Client;

  before(async () => {
    f = await servingFixture({ grpcPort: 0 });
    await train(f, 'iris', irisCsv(), 'target', 'iris');
    assert.equal((await deploy(f, { name: 'iris', model: 'iris' })).status, 201);
    for (const name of ['species_encoder', 'text_encoder']) {
      await register(f, 'lab', name, sharedModel(name));
      assert.equal((await deploy(f, { name: name.split('_')[0]!, model: name })).status, 201);
    }
    const definition = protoLoader.loadSync('src/serving/grpc/grpc_service.proto', {
      keepCase: true,
      longs: String,
      defaults: true,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(definition) as any;
    client = new proto.inference.GRPCInferenceService(
      `127.0.0.1:${f.server.platform.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
  });
  after(async () => {
    client?.close();
    await f.server.dispose();
  });

  const rpc = (method: string, req: unknown, key: string | null = f.key, project?: string) =>
    new Promise<{ error: grpc.ServiceError | null; response: any; headers: grpc.Metadata | undefined }>(
      (resolve) => {
        const md = new grpc.Metadata();
        if (key) md.set('authorization', `Bearer ${key}`);
        if (project) md.set('x-mass-project', project);
        let headers: grpc.Metadata | undefined;
        const call = (client[method] as any).call(
          client,
          req,
          md,
          (error: grpc.ServiceError | null, response: unknown) => resolve({ error, response, headers }),
        );
        call.on('metadata', (m: grpc.Metadata) => (headers = m));
      },
    );

  test('health and server metadata', async () => {
    assert.equal((await rpc('ServerLive', {}, null)).response.live, true);
    assert.equal((await rpc('ServerReady', {}, null)).response.ready, true);
    const meta = (await rpc('ServerMetadata', {}, null)).response;
    assert.equal(meta.name, 'mass');
  });

  test('model metadata and readiness, with the key', async () => {
    const m = await rpc('ModelMetadata', { name: 'iris' });
    assert.equal(m.error, null);
    assert.equal(m.response.platform, 'onnx_onnxv1');
    assert.deepEqual(m.response.versions, ['1']);
    assert.equal(m.response.inputs.length, 4);
    assert.deepEqual(m.response.inputs[0].shape, ['-1', '1']);
    assert.equal((await rpc('ModelReady', { name: 'iris' })).response.ready, true);
    assert.equal((await rpc('ModelReady', { name: 'iris', version: '1' })).response.ready, true);
  });

  test('ModelInfer with typed contents: the same answer as REST for a trained model', async () => {
    const row = [5.1, 3.5, 1.4, 0.2];
    const names = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
    const r = await rpc('ModelInfer', {
      model_name: 'iris',
      id: 'abc',
      inputs: names.map((name, j) => ({
        name,
        datatype: 'FP32',
        shape: [1, 1],
        contents: { fp32_contents: [row[j]] },
      })),
    });
    assert.equal(r.error, null, r.error?.details);
    assert.equal(r.response.model_name, 'iris');
    assert.equal(r.response.model_version, '1');
    assert.equal(r.response.id, 'abc');
    assert.equal(r.response.parameters.request_id.string_param, r.headers?.get('x-request-id')[0]);
    assert.equal(r.headers?.get('x-mass-model')[0], 'iris');
    const out = Object.fromEntries(r.response.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(out.label.contents.int64_contents, ['0']);
    assert.equal(out.probabilities.contents.fp32_contents.length, 3);
    // The matrix form works over gRPC as well.
    const m = await rpc('ModelInfer', {
      model_name: 'iris',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: row } }],
      outputs: [{ name: 'label' }],
    });
    assert.equal(m.error, null, m.error?.details);
    assert.deepEqual(
      m.response.outputs.map((o: any) => o.name),
      ['label'],
    );
  });

  test('ModelInfer with raw contents (INT64 inputs) and BYTES contents', async () => {
    const text = golden('text_encoder');
    const raw = (name: string) => {
      const values = (text.inputs[name] as number[][]).flat();
      const b = Buffer.alloc(values.length * 8);
      values.forEach((v, i) => b.writeBigInt64LE(BigInt(v), i * 8));
      return b;
    };
    const n = (text.inputs.input_ids as number[][]).length;
    const r = await rpc('ModelInfer', {
      model_name: 'text',
      inputs: ['input_ids', 'attention_mask'].map((name) => ({ name, datatype: 'INT64', shape: [n, 16] })),
      raw_input_contents: [raw('input_ids'), raw('attention_mask')],
    });
    assert.equal(r.error, null, r.error?.details);
    const logits = r.response.raw_output_contents[0] as Buffer;
    const values = Array.from({ length: logits.length / 4 }, (_v, i) => logits.readFloatLE(i * 4));
    assert.ok(close(values, flat(text.outputs.logits), 1e-4));

    const species = golden('species_encoder');
    const s = await rpc('ModelInfer', {
      model_name: 'lab.species',
      inputs: [
        {
          name: 'species',
          datatype: 'BYTES',
          shape: [3],
          contents: { bytes_contents: (species.inputs.species as string[]).map((x) => Buffer.from(x)) },
        },
      ],
    });
    assert.equal(s.error, null, s.error?.details);
    assert.deepEqual(s.response.outputs[0].contents.int64_contents.map(Number), species.outputs.species_id);
  });

  test('bad call: errors are gRPC statuses naming the problem', async () => {
    const noKey = await rpc('ModelInfer', { model_name: 'iris' }, null);
    assert.equal(noKey.error?.code, grpc.status.UNAUTHENTICATED, noKey.error?.details);
    const other = await rpc('ModelInfer', { model_name: 'lab.iris' }, f.other);
    assert.equal(other.error?.code, grpc.status.NOT_FOUND);
    const missing = await rpc('ModelInfer', { model_name: 'nope', inputs: [] });
    assert.equal(missing.error?.code, grpc.status.NOT_FOUND);
    const wrong = await rpc('ModelInfer', {
      model_name: 'iris',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
    });
    assert.equal(wrong.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(wrong.error!.details, /shape.*request grpc_/);
    assert.equal(wrong.error!.metadata.get('x-mass-error-code')[0], 'PREDICTION_INPUT_INVALID');
    const nan = await rpc('ModelInfer', {
      model_name: 'species',
      inputs: [{ name: 'species', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
    });
    assert.equal(nan.error?.code, grpc.status.INVALID_ARGUMENT);
    const unscoped = await rpc('ModelInfer', { model_name: 'iris', inputs: [] }, f.admin);
    assert.equal(unscoped.error?.code, grpc.status.INVALID_ARGUMENT);
    const viaHeader = await rpc('ModelReady', { name: 'iris' }, f.admin, 'lab');
    assert.equal(viaHeader.response?.ready, true);
  });
});
