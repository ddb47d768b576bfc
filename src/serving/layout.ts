import type { TensorSpec } from '../registry/service.js';
import type { ModelRuntime } from './runtime.js';
import { allocate, ORT_OF_V2, type OrtType, type TensorData, type Tensors } from './tensors.js';

/**
 * Where one public input of a model goes in the runtime's feeds: its own tensor, or one column of
 * a packed float [N,k] tensor (see graph-pack.ts). Computed once per loaded model version, so
 * that every codec writes values straight into the arrays the runtime reads.
 */
export interface InputSlot {
  readonly spec: TensorSpec;
  readonly type: OrtType;
  /** The runtime feed this input is written to. */
  readonly feed: string;
  /** Column in the packed feed, or -1 when the input is a feed of its own. */
  readonly column: number;
  /** Columns of the packed feed (1 for an own feed). */
  readonly width: number;
}

export class FeedLayout {
  readonly slots = new Map<string, InputSlot>();
  /** Feeds in the runtime's order, with their trailing shape. */
  readonly feeds: readonly {
    readonly name: string;
    readonly type: OrtType;
    readonly packed: boolean;
    readonly width: number;
    readonly vector: boolean;
  }[];

  constructor(runtime: ModelRuntime) {
    const packedOf = new Map<string, { feed: string; column: number; width: number }>();
    for (const p of runtime.packed)
      p.columns.forEach((c, column) => packedOf.set(c, { feed: p.name, column, width: p.columns.length }));
    for (const spec of runtime.inputs) {
      const p = packedOf.get(spec.name);
      this.slots.set(spec.name, {
        spec,
        type: ORT_OF_V2[spec.datatype],
        feed: p?.feed ?? spec.name,
        column: p?.column ?? -1,
        width: p?.width ?? 1,
      });
    }
    const packedWidth = new Map(runtime.packed.map((p) => [p.name, p.columns.length]));
    this.feeds = runtime.feeds.map((f) => {
      const width = packedWidth.get(f.name);
      const own = this.slots.get(f.name);
      return {
        name: f.name,
        type: f.type,
        packed: width !== undefined,
        width: width ?? 1,
        // [n, width] for a packed feed; the public rank for an own feed ([n] or [n,1]).
        vector: width === undefined && own !== undefined && own.spec.shape.length === 1,
      };
    });
  }

  /** Empty feeds for `n` rows of column-shaped inputs (rows-by-column requests). */
  allocateColumns(n: number): { feeds: Tensors; data: Map<string, TensorData> } {
    const feeds: Tensors = {};
    const data = new Map<string, TensorData>();
    for (const f of this.feeds) {
      const array = allocate(f.type, n * f.width);
      data.set(f.name, array);
      feeds[f.name] = { type: f.type, data: array, dims: f.vector ? [n] : [n, f.width] };
    }
    return { feeds, data };
  }
}
