import ort from 'onnxruntime-node';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

export interface NamedTensor {
  readonly type: 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';
  readonly data: TensorData;
  readonly dims: readonly number[];
}

export interface TensorInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** A loaded model: the seam between Mass and the engine that runs it (MLServer's runtime shape). */
export interface ModelRuntime {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  run(feeds: Readonly<Record<string, NamedTensor>>): Promise<Record<string, NamedTensor>>;
  unload(): Promise<void>;
}

/** ONNX Runtime: the one engine of Mass, for models it trained and models it imported alike. */
export async function loadOnnxRuntime(bytes: Uint8Array): Promise<ModelRuntime> {
  const session = await ort.InferenceSession.create(bytes, {
    // Small online requests: one thread per run keeps latency predictable and leaves the other core to HTTP.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const info = (m: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
    m.map((v) => ({
      name: v.name,
      type: v.isTensor ? v.type : 'non-tensor',
      shape: v.isTensor ? [...v.shape] : [],
    }));
  const inputs = info(session.inputMetadata);
  const outputs = info(session.outputMetadata);
  return {
    inputs,
    outputs,
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds))
        ortFeeds[name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
      const results = await session.run(ortFeeds);
      const out: Record<string, NamedTensor> = {};
      for (const [name, t] of Object.entries(results)) {
        out[name] = { type: t.type as NamedTensor['type'], data: t.data as TensorData, dims: t.dims };
      }
      return out;
    },
    unload: () => session.release(),
  };
}
