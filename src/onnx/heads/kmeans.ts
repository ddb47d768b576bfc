/**
 * The ONNX head of k-means (`ml/kmeans.ts`): the index of the nearest centroid,
 * ArgMin(ReduceSumSquare(X[:, None, :] − centroids, axis 2)) as int64 [N]. The squared distances
 * are formed from differences, as `predictKMeans` does (not ‖x‖² − 2x·c + ‖c‖², which cancels),
 * in double; ArgMin keeps the first index on ties, as `predictKMeans` does.
 */
import type { KMeansModel } from '../../ml/kmeans.js';
import type { ModelHead } from '../export.js';
import { attr, type GraphBuilder } from '../graph.js';

export function kmeansHead(model: KMeansModel): ModelHead {
  return {
    kind: 'clustering',
    clusters: model.k,
    write(g: GraphBuilder, X: string, f: number): string {
      if (f !== model.features) throw new RangeError(`the model has ${model.features} features, X has ${f}`);
      if (model.centroids.length !== model.k * f)
        throw new RangeError(`centroids has length ${model.centroids.length}, expected ${model.k * f}`);
      const axis1 = g.constant('axes', { type: 'int64', dims: [1], values: [1] });
      const C = g.constant('centroids', { type: 'double', dims: [model.k, f], values: model.centroids });
      const diff = g.op('Sub', [g.op('Unsqueeze', [X, axis1]), C]); // [N, k, F]
      const d2 = g.op('ReduceSumSquare', [diff], {
        attributes: [attr.ints('axes', [2]), attr.int('keepdims', 0)],
      }); // [N, k]
      return g.op('ArgMin', [d2], { attributes: [attr.int('axis', 1), attr.int('keepdims', 0)] });
    },
  };
}
