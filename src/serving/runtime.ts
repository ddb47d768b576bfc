import { createRequire } from 'node:module';
import ort from 'onnxruntime-node';
import type { TensorSpec } from '../registry/service.js';
import { packColumnInputs, type PackedInput } from './graph-pack.js';
import { allocate, ORT_OF_ONNX, specOf, type NamedTensor, type OrtType, type Tensors } from './tensors.js';

export type { NamedTensor, TensorData } from './tensors.js';

/** An input or output of the graph as it is fed: its runtime name, element type and shape (-1 dynamic). */
export interface GraphValue {
  readonly name: string;
  readonly type: OrtType;
  readonly shape: readonly number[];
}

/**
 * A loaded model: the seam between Mass and the engine that runs it (MLServer's runtime shape).
 * `run` is synchronous: ONNX Runtime's Node binding computes on the calling thread anyway, and
 * the scheduler in front of the runtime decides when (and with how many rows) it runs.
 */
export interface ModelRuntime {
  /** The graph's inputs and outputs as callers see them (Open Inference Protocol datatypes). */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The inputs as the runtime is fed: the public ones, except packed columns (see graph-pack.ts). */
  readonly feeds: readonly GraphValue[];
  readonly packed: readonly PackedInput[];
  /** Runs the graph; `outputs` limits what is computed and returned (default: every output). */
  run(feeds: Readonly<Tensors>, outputs?: readonly string[]): Tensors;
  unload(): void;
}

interface NativeMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type: number;
  readonly shape: readonly number[];
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: readonly NativeMetadata[];
  readonly outputMetadata: readonly NativeMetadata[];
  run(feeds: object, fetches: Record<string, null>, options: object): Record<string, ort.Tensor>;
  dispose(): void;
}

interface NativeBinding {
  readonly binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

// Small online requests: one thread per run keeps latency predictable and leaves the other core to HTTP.
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };

let native: NativeBinding | undefined;

/**
 * The synchronous session of onnxruntime-node's binding (the object its InferenceSession wraps in
 * a setImmediate and a promise per run). Pinned with the package version; see docs/decisions/0002.
 */
function nativeBinding(): NativeBinding {
  if (!native) {
    const require = createRequire(import.meta.url);
    native = require('onnxruntime-node/dist/binding') as NativeBinding;
    native.initOrt();
  }
  return native;
}

function openSession(bytes: Uint8Array): NativeSession {
  const session = new (nativeBinding().binding.InferenceSession)();
  session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, SESSION_OPTIONS);
  return session;
}

function graphValues(metadata: readonly NativeMetadata[]): GraphValue[] {
  return metadata.map((m) => {
    const type = m.isTensor ? ORT_OF_ONNX[m.type] : undefined;
    if (!type) throw new Error(`${m.name} is not a tensor of a supported element type`);
    return { name: m.name, type, shape: m.shape.map((d) => (d >= 0 ? d : -1)) };
  });
}

/** Loads ONNX bytes into a session, packing column inputs when that is provably equivalent. */
export async function loadOnnxRuntime(bytes: Uint8Array): Promise<ModelRuntime> {
  // Yield once so that a burst of loads does not hold the event loop for its whole length.
  await new Promise((resolve) => setImmediate(resolve));
  const original = openSession(bytes);
  const inputs = graphValues(original.inputMetadata);
  const outputs = graphValues(original.outputMetadata);
  let session = original;
  let packed: readonly PackedInput[] = [];
  let rewrite: ReturnType<typeof packColumnInputs>;
  try {
    rewrite = packColumnInputs(bytes);
  } catch {
    rewrite = undefined;
  }
  if (rewrite) {
    try {
      const candidate = openSession(rewrite.bytes);
      if (samePredictions(original, candidate, inputs, outputs, rewrite.packed)) {
        session = candidate;
        packed = rewrite.packed;
        original.dispose();
      } else {
        candidate.dispose();
      }
    } catch {
      // The original graph works; the optimisation is optional.
    }
  }
  const feeds = session === original ? inputs : graphValues(session.inputMetadata);
  return makeRuntime(session, inputs, outputs, feeds, packed);
}

function makeRuntime(
  session: NativeSession,
  inputs: readonly GraphValue[],
  outputs: readonly GraphValue[],
  feeds: readonly GraphValue[],
  packed: readonly PackedInput[],
): ModelRuntime {
  const allFetches: Record<string, null> = Object.fromEntries(outputs.map((o) => [o.name, null]));
  const runOptions = {};
  let released = false;
  return {
    inputs: inputs.map((v) => specOf(v.name, v.type, v.shape)),
    outputs: outputs.map((v) => specOf(v.name, v.type, v.shape)),
    feeds,
    packed,
    run(tensors, wanted) {
      if (released) throw new Error('the model was unloaded');
      const nativeFeeds: Record<string, object> = {};
      for (const name in tensors) {
        const t = tensors[name]!;
        nativeFeeds[name] = { location: 'cpu', type: t.type, dims: t.dims, data: t.data };
      }
      let fetches = allFetches;
      if (wanted) {
        fetches = {};
        for (const name of wanted) fetches[name] = null;
      }
      const results = session.run(nativeFeeds, fetches, runOptions);
      const out: Tensors = {};
      for (const name in results) {
        const t = results[name]!;
        out[name] = { type: t.type as OrtType, data: t.data as NamedTensor['data'], dims: t.dims };
      }
      return out;
    },
    unload() {
      if (released) return;
      released = true;
      session.dispose();
    },
  };
}

/** Runs both graphs on the same pseudo-random rows (with missing values) and compares every output. */
function samePredictions(
  original: NativeSession,
  candidate: NativeSession,
  inputs: readonly GraphValue[],
  outputs: readonly GraphValue[],
  packed: readonly PackedInput[],
): boolean {
  const n = 5;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const feeds: Record<string, object> = {};
  const values = new Map<string, Float32Array>();
  for (const input of inputs) {
    const dims = input.shape.map((d, i) => (d >= 0 ? d : i === 0 ? n : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    const data = allocate(input.type, count);
    if (data instanceof Float32Array) {
      for (let i = 0; i < count; i++) data[i] = i % 7 === 3 ? NaN : (random() - 0.5) * 8;
      values.set(input.name, data);
    } else if (Array.isArray(data)) {
      for (let i = 0; i < count; i++) data[i] = i % 2 ? 'a' : '';
    }
    feeds[input.name] = { location: 'cpu', type: input.type, dims, data };
  }
  const packedFeeds: Record<string, object> = { ...feeds };
  for (const p of packed) {
    const k = p.columns.length;
    const data = new Float32Array(n * k);
    p.columns.forEach((column, j) => {
      const v = values.get(column)!;
      for (let i = 0; i < n; i++) data[i * k + j] = v[i]!;
      delete packedFeeds[column];
    });
    packedFeeds[p.name] = { location: 'cpu', type: 'float32', dims: [n, k], data };
  }
  const fetches = Object.fromEntries(outputs.map((o) => [o.name, null]));
  const a = original.run(feeds, fetches, {});
  const b = candidate.run(packedFeeds, fetches, {});
  for (const o of outputs) {
    const x = a[o.name]?.data;
    const y = b[o.name]?.data;
    if (!x || !y || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const p = x[i];
      const q = y[i];
      if (p === q || (typeof p === 'number' && Number.isNaN(p) && Number.isNaN(q as number))) continue;
      return false;
    }
  }
  return true;
}

/** The engine's own version, for server metadata. */
export const RUNTIME_NAME = `onnxruntime-node ${ort.env.versions.common}`;
