import { createRng } from '../../ml/rng.js';
import { fitLinearSVM, predictSVMProba } from '../../ml/svm.js';
import { linearSVMHead } from '../../onnx/heads/svm.js';
import type { Trainer } from '../trainer.js';

/** Linear SVM (scikit-learn's LinearSVC: squared hinge, L2, one-vs-rest) with Platt-scaled probabilities. */
export const linearSVM: Trainer = {
  name: 'linear_svm',
  summary: 'Linear SVM: squared hinge loss, L2 penalty, one-vs-rest, Platt-scaled probabilities',
  tasks: ['classification'],
  preprocessing: 'scaled',
  params: {
    C: { type: 'number', default: 1, min: 1e-12, description: 'inverse penalty on the hinge losses' },
    maxIter: {
      type: 'integer',
      default: 1000,
      min: 1,
      max: 100_000,
      description: 'passes of dual coordinate descent at most, per one-vs-rest problem',
    },
    tol: {
      type: 'number',
      default: 1e-4,
      min: 1e-12,
      description: 'projected-gradient tolerance of the dual solver',
    },
    solver: {
      type: 'enum',
      default: 'auto',
      values: ['auto', 'primal', 'dual'],
      description:
        "'auto': primal L-BFGS from 10,000 rows (and rows ≥ 2 × features), else dual coordinate descent (same optimum)",
    },
  },
  fit(X, y, params, ctx) {
    const K = ctx.classes === 2 ? 1 : ctx.classes;
    const fit = fitLinearSVM(X, y as Int32Array, ctx.classes, {
      C: params.C as number,
      maxIter: params.maxIter as number,
      tol: params.tol as number,
      solver: params.solver as 'auto' | 'primal' | 'dual',
      rng: createRng(ctx.seed),
      onProgress: (problem, iterations) => ctx.onProgress((problem + 1) / K, problem + 1, { iterations }),
    });
    const F = X.cols;
    const importance = new Float64Array(F);
    for (let k = 0; k < K; k++)
      for (let j = 0; j < F; j++) importance[j]! += Math.abs(fit.model.weights[k * F + j]!);
    return {
      predict: (Z) => predictSVMProba(fit.model, Z),
      head: linearSVMHead(fit.model),
      importance,
      info: { iterations: Math.max(...fit.iterations), converged: fit.converged },
    };
  },
};
