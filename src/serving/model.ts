import type { ModelVersion, TensorSpec } from '../registry/service.js';
import { RowEncoder } from './codec.js';
import { FeedLayout } from './layout.js';
import { loadOnnxRuntime, type ModelRuntime } from './runtime.js';
import { allocate, type Tensors } from './tensors.js';
import { TensorDecoder } from './v2.js';

/** What an ONNX Runtime session of this size costs besides its file (measured: 0.4–0.8 MB for small models). */
const SESSION_OVERHEAD_BYTES = 512 * 1024;

/**
 * A model version loaded for serving: its runtime and the codecs compiled for its signature once,
 * so that a request only looks values up and writes them into typed arrays.
 */
export class LoadedModel {
  readonly layout: FeedLayout;
  /** Rows by column name, when the model takes one value per column (every model Mass trains). */
  readonly rows: RowEncoder | undefined;
  readonly tensors: TensorDecoder;
  /** Every feed and output has a dynamic first dimension: requests can be stacked into one run. */
  readonly batchable: boolean;
  /** The estimate the cache budgets with. */
  readonly bytes: number;
  warmupError: string | undefined;

  constructor(
    readonly version: ModelVersion,
    readonly runtime: ModelRuntime,
    maxRows: number,
    public loadMs: number,
  ) {
    this.layout = new FeedLayout(runtime);
    this.rows = RowEncoder.compile(version.signature, this.layout);
    // Models trained by Mass impute missing numbers: null (JSON) or NaN (gRPC) is a missing value.
    const columns = version.signature.inputs;
    const numeric = columns.length > 0 && columns.every((c) => c.type === 'numeric');
    this.tensors = new TensorDecoder(
      this.layout,
      columns.length > 0,
      maxRows,
      numeric && this.rows ? columns.map((c) => this.layout.slots.get(c.name)!) : undefined,
    );
    this.batchable =
      runtime.feeds.every((f) => f.shape[0] === -1) && runtime.outputs.every((o) => o.shape[0] === -1);
    this.bytes = SESSION_OVERHEAD_BYTES + 3 * version.sizeBytes;
  }

  get inputs(): readonly TensorSpec[] {
    return this.runtime.inputs;
  }

  get outputs(): readonly TensorSpec[] {
    return this.runtime.outputs;
  }

  /**
   * Runs every node once so that the first caller does not pay for lazy initialisation: one row
   * of missing values for trained models, zeros (dynamic dimensions as 1) for others.
   */
  warm(): void {
    const feeds: Tensors = {};
    for (const f of this.runtime.feeds) {
      const dims = f.shape.map((d) => (d >= 0 ? d : 1));
      const data = allocate(
        f.type,
        dims.reduce((a, b) => a * b, 1),
      );
      if (data instanceof Float32Array && this.rows) data.fill(NaN);
      feeds[f.name] = { type: f.type, data, dims };
    }
    try {
      this.runtime.run(feeds);
      this.warmupError = undefined;
    } catch (error) {
      // A model whose inputs need particular values (token ids, a fixed length) may refuse zeros:
      // it is still served, and the first real request pays for the initialisation.
      this.warmupError = (error as Error).message;
      if (this.rows) throw error;
    }
  }
}

/** Loads a version's ONNX file from the artifact store, compiles its codecs and warms it up. */
export function modelLoader(
  artifacts: { get(hash: string): Promise<Uint8Array> },
  maxRows: number,
  onLoaded: (model: LoadedModel) => void,
): (version: ModelVersion) => Promise<LoadedModel> {
  return async (version) => {
    const started = performance.now();
    const bytes = await artifacts.get(version.artifactHash);
    const runtime = await loadOnnxRuntime(bytes);
    try {
      const model = new LoadedModel(version, runtime, maxRows, 0);
      model.warm();
      model.loadMs = performance.now() - started;
      onLoaded(model);
      return model;
    } catch (error) {
      runtime.unload();
      throw error;
    }
  };
}
