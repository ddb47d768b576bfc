import { fitKMeans, predictKMeans, silhouetteScore } from '../../ml/kmeans.js';
import { createRng } from '../../ml/rng.js';
import { kmeansHead } from '../../onnx/heads/kmeans.js';
import type { Trainer } from '../trainer.js';

/** Rows at or above which `algorithm: 'auto'` picks mini-batch k-means. */
export const MINIBATCH_ROWS = 500_000;
/** Rows sampled for the silhouette (it costs a distance per pair of sampled rows). */
export const SILHOUETTE_SAMPLE = 2000;

/** k-means: greedy k-means++, then Lloyd (exact, triangle-inequality accelerated) or mini-batch. */
export const kmeans: Trainer = {
  name: 'kmeans',
  summary: 'k-means clustering: k-means++ seeding, Lloyd iterations (Elkan/Hamerly bounds) or mini-batch',
  tasks: ['clustering'],
  preprocessing: 'scaled',
  params: {
    k: { type: 'integer', default: 8, min: 1, max: 10_000, description: 'number of clusters' },
    nInit: {
      type: 'integer',
      default: 1,
      min: 1,
      max: 100,
      description: 'independent k-means++ starts; the lowest inertia is kept',
    },
    maxIter: {
      type: 'integer',
      default: 300,
      min: 1,
      max: 100_000,
      description: 'Lloyd iterations at most (mini-batch: passes over the data, at most 100)',
    },
    tol: {
      type: 'number',
      default: 1e-4,
      min: 0,
      description: 'stop when the squared centroid shift is below tol × mean feature variance',
    },
    algorithm: {
      type: 'enum',
      default: 'auto',
      values: ['auto', 'lloyd', 'minibatch'],
      description: `'auto': Lloyd below ${MINIBATCH_ROWS.toLocaleString('en')} rows, mini-batch from there`,
    },
    batchSize: { type: 'integer', default: 1024, min: 1, max: 1_000_000, description: 'mini-batch rows' },
  },
  fit(X, _y, params, ctx) {
    const rng = createRng(ctx.seed);
    const choice = params.algorithm as string;
    const algorithm = choice === 'auto' ? (X.rows >= MINIBATCH_ROWS ? 'minibatch' : 'lloyd') : choice;
    const maxIter = params.maxIter as number;
    const nInit = params.nInit as number;
    const fit = fitKMeans(X, {
      k: params.k as number,
      rng,
      nInit,
      maxIter: algorithm === 'lloyd' ? maxIter : Math.min(maxIter, 100),
      tol: params.tol as number,
      batchSize: params.batchSize as number,
      algorithm: algorithm === 'minibatch' ? 'minibatch' : 'lloyd',
      onIteration: (run, iteration, figure) =>
        ctx.onProgress(
          Math.min(1, (run + Math.min(1, iteration / maxIter)) / nInit),
          iteration,
          algorithm === 'lloyd' ? { shift: figure } : { batch_inertia: figure },
        ),
    });
    const silhouette = silhouetteScore(X, fit.labels, { sampleSize: SILHOUETTE_SAMPLE, rng });
    return {
      predict: (Z) => Float64Array.from(predictKMeans(fit.model, Z)),
      head: kmeansHead(fit.model),
      info: {
        algorithm,
        inertia: fit.inertia,
        ...(Number.isFinite(silhouette) ? { silhouette } : {}),
        silhouette_rows: Math.min(X.rows, SILHOUETTE_SAMPLE),
        iterations: fit.iterations,
        converged: fit.converged,
      },
    };
  },
};
