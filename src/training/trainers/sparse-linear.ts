import { fitElasticNet, fitSparseLogistic } from '../../ml/coordinate-descent.js';
import { predictLinear, predictProba } from '../../ml/linear.js';
import { linearHead } from '../../onnx/export.js';
import type { Trainer } from '../trainer.js';

/** Lasso / elastic-net regression by coordinate descent (scikit-learn's ElasticNet). */
export const elasticNet: Trainer = {
  name: 'elastic_net',
  summary: 'Elastic net / lasso regression (L1 + L2 penalties) by coordinate descent',
  tasks: ['regression'],
  preprocessing: 'scaled',
  params: {
    alpha: {
      type: 'number',
      default: 1,
      min: 0,
      description:
        "penalty strength α of 1/(2n)‖y − Xw‖² + α·l1Ratio·‖w‖₁ + ½α(1 − l1Ratio)‖w‖² (scikit-learn's)",
    },
    l1Ratio: {
      type: 'number',
      default: 0.5,
      min: 0,
      max: 1,
      description: 'share of L1 in the penalty; 1 = lasso',
    },
    maxIter: {
      type: 'integer',
      default: 1000,
      min: 1,
      max: 100_000,
      description: 'coordinate passes at most',
    },
    tol: {
      type: 'number',
      default: 1e-4,
      min: 1e-12,
      description: 'duality-gap tolerance relative to ‖y − ȳ‖²',
    },
  },
  fit(X, y, params, ctx) {
    const maxIter = params.maxIter as number;
    const fit = fitElasticNet(X, y as Float64Array, {
      alpha: params.alpha as number,
      l1Ratio: params.l1Ratio as number,
      maxIter,
      tol: params.tol as number,
      onIteration: (iteration, objective) => ctx.onProgress(iteration / maxIter, iteration, { objective }),
    });
    let nonZero = 0;
    for (const w of fit.model.weights) if (w !== 0) nonZero++;
    return {
      predict: (Z) => predictLinear(fit.model, Z),
      head: linearHead(fit.model),
      importance: fit.model.weights.map(Math.abs),
      info: { iterations: fit.iterations, converged: fit.converged, nonzero_weights: nonZero },
    };
  },
};

/** L1 / elastic-net logistic regression by coordinate descent (glmnet's algorithm). */
export const sparseLogistic: Trainer = {
  name: 'sparse_logistic',
  summary: 'Logistic regression with an L1 or elastic-net penalty (sparse weights), by coordinate descent',
  tasks: ['classification'],
  preprocessing: 'scaled',
  params: {
    C: {
      type: 'number',
      default: 1,
      min: 1e-12,
      description: "inverse penalty: C·Σ log-loss + l1Ratio·‖W‖₁ + ½(1 − l1Ratio)‖W‖² (scikit-learn's)",
    },
    l1Ratio: {
      type: 'number',
      default: 1,
      min: 0,
      max: 1,
      description: 'share of L1 in the penalty; 1 = lasso',
    },
    maxIter: {
      type: 'integer',
      default: 100,
      min: 1,
      max: 10_000,
      description: 'Newton (outer) iterations at most',
    },
  },
  fit(X, y, params, ctx) {
    const maxIter = params.maxIter as number;
    const fit = fitSparseLogistic(X, y as Int32Array, ctx.classes, {
      C: params.C as number,
      l1Ratio: params.l1Ratio as number,
      maxIter,
      onIteration: (iteration, objective) =>
        ctx.onProgress(iteration / maxIter, iteration, { loss: objective }),
    });
    const F = X.cols;
    const K = fit.model.weights.length / F;
    const importance = new Float64Array(F);
    let nonZero = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < F; j++) {
        const w = fit.model.weights[k * F + j]!;
        importance[j]! += Math.abs(w);
        if (w !== 0) nonZero++;
      }
    }
    return {
      predict: (Z) => predictProba(fit.model, Z),
      head: linearHead(fit.model),
      importance,
      info: { iterations: fit.iterations, converged: fit.converged, nonzero_weights: nonZero },
    };
  },
};
