import type { Matrix } from '../../ml/types.js';
import {
  fitGaussianNB,
  fitMultinomialNB,
  predictGaussianNB,
  predictMultinomialNB,
} from '../../ml/naive-bayes.js';
import { gaussianNBHead, multinomialNBHead } from '../../onnx/heads/naive-bayes.js';
import type { Trainer } from '../trainer.js';

/** Gaussian naive Bayes (scikit-learn's GaussianNB). */
export const gaussianNB: Trainer = {
  name: 'gaussian_nb',
  summary: 'Gaussian naive Bayes: per-class normal distributions of independent features',
  tasks: ['classification'],
  preprocessing: 'scaled',
  params: {
    varSmoothing: {
      type: 'number',
      default: 1e-9,
      min: 0,
      max: 1,
      description: 'portion of the largest feature variance added to every variance',
    },
  },
  fit(X, y, params, ctx) {
    const model = fitGaussianNB(X, y as Int32Array, ctx.classes, {
      varSmoothing: params.varSmoothing as number,
    });
    ctx.onProgress(1, 1, {});
    return {
      predict: (Z) => predictGaussianNB(model, Z),
      head: gaussianNBHead(model),
      importance: separation(model.mean, model.variance, ctx.classes, X.cols),
      info: {},
    };
  },
};

/**
 * Multinomial naive Bayes (scikit-learn's MultinomialNB) for counts: it needs the features as
 * they are, so it asks for 'counts' preprocessing (no standardization, categories one-hot, text
 * columns as raw term counts, as scikit-learn's CountVectorizer) and refuses negative values
 * before fitting; a missing count counts as 0.
 */
export const multinomialNB: Trainer = {
  name: 'multinomial_nb',
  summary: 'Multinomial naive Bayes for non-negative counts (word counts of text columns, pixel intensities)',
  tasks: ['classification'],
  preprocessing: 'counts',
  params: {
    alpha: {
      type: 'number',
      default: 1,
      min: 0,
      description: 'additive (Laplace/Lidstone) smoothing of the per-class feature counts',
    },
  },
  fit(X, y, params, ctx) {
    checkCounts(X);
    const model = fitMultinomialNB(X, y as Int32Array, ctx.classes, { alpha: params.alpha as number });
    ctx.onProgress(1, 1, {});
    const F = X.cols;
    const C = ctx.classes;
    // Spread of log θ over the classes: how much a feature's count moves the decision.
    const importance = new Float64Array(F);
    for (let j = 0; j < F; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let c = 0; c < C; c++) {
        lo = Math.min(lo, model.logProb[c * F + j]!);
        hi = Math.max(hi, model.logProb[c * F + j]!);
      }
      importance[j] = hi - lo;
    }
    return {
      predict: (Z) => predictMultinomialNB(model, Z),
      head: multinomialNBHead(model),
      importance,
      info: {},
    };
  },
};

/** Refuses negative or infinite features with a message that says what to do. */
function checkCounts(X: Matrix): void {
  const n = X.rows;
  for (let q = 0; q < X.data.length; q++) {
    const x = X.data[q]!;
    if (x < 0 || x === Infinity) {
      throw new RangeError(
        `multinomial_nb needs non-negative counts, but feature ${Math.floor(q / n)} has ${x} (row ${q % n}); ` +
          'use it on count or frequency columns, or choose gaussian_nb',
      );
    }
  }
}

/** Per feature, the largest |θ_cj − θ_c'j| / √(mean variance): how far apart the classes sit. */
function separation(mean: Float64Array, variance: Float64Array, C: number, F: number): Float64Array {
  const out = new Float64Array(F);
  for (let j = 0; j < F; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    let v = 0;
    for (let c = 0; c < C; c++) {
      lo = Math.min(lo, mean[c * F + j]!);
      hi = Math.max(hi, mean[c * F + j]!);
      v += variance[c * F + j]! / C;
    }
    out[j] = (hi - lo) / Math.sqrt(v);
  }
  return out;
}
