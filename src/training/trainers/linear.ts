import { fitLogisticDetailed, fitRidge, predictLinear, predictProba } from '../../ml/linear.js';
import { linearHead } from '../../onnx/export.js';
import type { Trainer } from '../trainer.js';

const l2 = {
  type: 'number',
  default: 1,
  min: 0,
  description: 'L2 penalty: ridge alpha, or 1/C of scikit-learn',
} as const;

/** Ordinary least squares with an L2 penalty (ridge), solved exactly. */
export const linearRegression: Trainer = {
  name: 'linear_regression',
  summary: 'Linear regression with an L2 penalty (ridge), solved exactly',
  tasks: ['regression'],
  preprocessing: 'scaled',
  params: { l2 },
  fit(X, y, params) {
    const model = fitRidge(X, y as Float64Array, { l2: params.l2 as number });
    return {
      predict: (Z) => predictLinear(model, Z),
      head: linearHead(model),
      importance: model.weights.map(Math.abs),
      info: {},
    };
  },
};

/** Binary and multinomial logistic regression with an L2 penalty, by L-BFGS. */
export const logisticRegression: Trainer = {
  name: 'logistic_regression',
  summary: 'Logistic regression (binary or multinomial) with an L2 penalty, fitted by L-BFGS',
  tasks: ['classification'],
  preprocessing: 'scaled',
  params: {
    l2,
    maxIter: {
      type: 'integer',
      default: 300,
      min: 1,
      max: 100_000,
      description: 'L-BFGS iterations at most',
    },
  },
  fit(X, y, params, ctx) {
    const maxIter = params.maxIter as number;
    const fit = fitLogisticDetailed(X, y as Int32Array, ctx.classes, {
      l2: params.l2 as number,
      maxIter,
      onProgress: (iteration, loss) => ctx.onProgress(Math.min(1, iteration / maxIter), iteration, { loss }),
    });
    const F = X.cols;
    const importance = new Float64Array(F);
    const K = fit.model.weights.length / F;
    for (let k = 0; k < K; k++)
      for (let j = 0; j < F; j++) importance[j]! += Math.abs(fit.model.weights[k * F + j]!);
    return {
      predict: (Z) => predictProba(fit.model, Z),
      head: linearHead(fit.model),
      importance,
      info: { iterations: fit.iterations, converged: fit.converged },
    };
  },
};
