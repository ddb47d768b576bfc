// Hand-made ONNX models for tests: a graph wrapped as a model (opset 17), and a model version
// registered straight through the registry (no probe process), for tests that need many versions.
import { encodeModel, type GraphInit } from '../../src/onnx/proto.js';
import type { Signature } from '../../src/registry/service.js';
import type { TestServer } from './server.js';

export function onnxModel(graph: GraphInit): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'mass-test',
    producerVersion: '0',
    modelVersion: 1,
    graph,
    metadataProps: [],
  });
}

/** Registers `bytes` as the next version of `model` in `project`; returns its number. */
export async function registerVersion(
  server: TestServer,
  project: string,
  model: string,
  bytes: Uint8Array,
  signature: Signature,
): Promise<number> {
  const { store, artifacts, registry, auth } = server.platform.services;
  const p = await auth.findProject(project);
  const ref = await artifacts.put(bytes);
  const mv = await store.transaction((trx) =>
    registry.addVersion(trx, {
      projectId: p!.id,
      model,
      task: signature.task,
      artifactHash: ref.hash,
      sizeBytes: ref.size,
      algorithm: 'onnx',
      params: {},
      metrics: {},
      signature,
      datasetVersionId: null,
      jobId: null,
      codeVersion: 'test',
    }),
  );
  return mv.version;
}
