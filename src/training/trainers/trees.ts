import { fitForest, predictForest } from '../../ml/forest.js';
import type { MaxFeaturesRule } from '../../ml/forest.js';
import { fitGbdt, predictGbdt } from '../../ml/gbdt.js';
import { checkExportSize, forestHead, gbdtHead } from '../../onnx/heads/trees.js';
import type { FitContext, Trainer } from '../trainer.js';

/**
 * Per feature of X, whether it holds ordinal category codes. The pipeline knows it from the
 * 'raw' preprocessor (numeric steps first, then one column per categorical step) and may pass it
 * as `ctx.categorical`; without it every feature is split as ordered numbers, which is still
 * correct, only coarser for categories.
 */
function categoricalOf(ctx: FitContext): ArrayLike<boolean> | undefined {
  return (ctx as FitContext & { readonly categorical?: ArrayLike<boolean> }).categorical;
}

/** 0 means "no limit" in the integer parameters below. */
const unlimited = (value: number): number => (value > 0 ? value : Infinity);

const maxBins = {
  type: 'integer',
  default: 255,
  min: 2,
  max: 255,
  description: 'Bins per feature (quantiles of the training values); missing values get one more',
} as const;

/**
 * Histogram gradient-boosted trees (Friedman 2001; Ke et al. 2017), scikit-learn 1.2's
 * HistGradientBoosting defaults. Missing values and categories are handled natively.
 */
export const gradientBoosting: Trainer = {
  name: 'gradient_boosting',
  summary:
    'Histogram gradient-boosted trees (leaf-wise, early stopping, native missing values and categories)',
  tasks: ['classification', 'regression'],
  preprocessing: 'raw',
  // 'auto' holds out its own rows (validationFraction) only when there are more than 10,000.
  wantsValidation: (params) => params.earlyStopping === 'on',
  params: {
    maxIter: { type: 'integer', default: 100, min: 1, max: 10_000, description: 'Boosting rounds at most' },
    learningRate: {
      type: 'number',
      default: 0.1,
      min: 1e-6,
      max: 1,
      description: 'Shrinkage of each tree',
    },
    maxLeafNodes: {
      type: 'integer',
      default: 31,
      min: 0,
      max: 65_536,
      description: 'Leaves per tree at most (0: no limit; then set maxDepth)',
    },
    maxDepth: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 64,
      description: 'Depth per tree at most (0: no limit)',
    },
    minSamplesLeaf: {
      type: 'integer',
      default: 20,
      min: 1,
      max: 1_000_000,
      description: 'Rows per leaf at least',
    },
    l2: { type: 'number', default: 0, min: 0, max: 1e6, description: 'L2 penalty on leaf values' },
    subsample: {
      type: 'number',
      default: 1,
      min: 0.01,
      max: 1,
      description: 'Share of the rows drawn for each round',
    },
    colsampleByTree: {
      type: 'number',
      default: 1,
      min: 0.01,
      max: 1,
      description: 'Share of the features drawn for each round',
    },
    earlyStopping: {
      type: 'enum',
      default: 'auto',
      values: ['auto', 'on', 'off'],
      description: 'Stop when the validation loss stops improving; auto: on above 10,000 rows',
    },
    validationFraction: {
      type: 'number',
      default: 0.1,
      min: 0.01,
      max: 0.5,
      description: 'Share of the training rows held out for early stopping (auto)',
    },
    nIterNoChange: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 1000,
      description: 'Rounds without improvement before stopping',
    },
    maxBins,
  },
  fit(X, y, params, ctx) {
    if (!y) throw new RangeError('gradient boosting needs a target');
    const maxIter = params.maxIter as number;
    const mode = params.earlyStopping as string;
    const classification = ctx.task === 'classification';
    const categorical = categoricalOf(ctx);
    const model = fitGbdt(X, y, {
      loss: classification ? 'log_loss' : 'squared_error',
      ...(classification ? { classes: ctx.classes } : {}),
      maxIter,
      learningRate: params.learningRate as number,
      maxLeafNodes: unlimited(params.maxLeafNodes as number),
      maxDepth: unlimited(params.maxDepth as number),
      minSamplesLeaf: params.minSamplesLeaf as number,
      l2: params.l2 as number,
      subsample: params.subsample as number,
      colsampleByTree: params.colsampleByTree as number,
      earlyStopping: mode === 'auto' ? 'auto' : mode === 'on',
      validationFraction: params.validationFraction as number,
      nIterNoChange: params.nIterNoChange as number,
      maxBins: params.maxBins as number,
      ...(mode === 'on' && ctx.validation ? { validation: ctx.validation } : {}),
      ...(categorical ? { categorical } : {}),
      seed: ctx.seed,
      onProgress: (iteration, p) =>
        ctx.onProgress(iteration / maxIter, iteration, {
          loss: p.loss,
          ...(p.validationLoss !== undefined ? { validation_loss: p.validationLoss } : {}),
        }),
    });
    const trees = model.ensemble.trees;
    let leaves = 0;
    for (const tree of trees)
      for (let k = 0; k < tree.feature.length; k++) if (tree.feature[k]! < 0) leaves++;
    const info: Record<string, number | boolean | string> = {
      iterations: model.iterations,
      iterationsRun: model.iterationsRun,
      bestIteration: model.iterations,
      earlyStopped: model.earlyStopped,
      trees: trees.length,
      leaves,
    };
    const trainLoss = model.trainLoss[model.iterations - 1];
    if (trainLoss !== undefined && Number.isFinite(trainLoss)) info.trainLoss = trainLoss;
    const best = model.validationLoss?.[model.iterations];
    if (best !== undefined && Number.isFinite(best)) info.validationLoss = best;
    return {
      predict: (Z) => predictGbdt(model, Z),
      head: gbdtHead(model),
      importance: model.importance,
      info,
    };
  },
};

/**
 * Random forests (Breiman 2001) on binned features, scikit-learn 1.2's RandomForest defaults,
 * with the out-of-bag score; trees are built on every core.
 */
export const randomForest: Trainer = {
  name: 'random_forest',
  summary: 'Random forest (bootstrap, feature sampling per split, out-of-bag score), trees built in parallel',
  tasks: ['classification', 'regression'],
  preprocessing: 'raw',
  params: {
    trees: { type: 'integer', default: 100, min: 1, max: 5000, description: 'Number of trees' },
    maxFeatures: {
      type: 'enum',
      default: 'auto',
      values: ['auto', 'sqrt', 'log2', 'all'],
      description: 'Features drawn per split; auto: sqrt for classification, all for regression',
    },
    maxDepth: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 256,
      description: 'Depth per tree at most (0: no limit)',
    },
    maxLeafNodes: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 10_000_000,
      description: 'Leaves per tree at most (0: no limit)',
    },
    minSamplesLeaf: {
      type: 'integer',
      default: 1,
      min: 1,
      max: 1_000_000,
      description: 'Rows per leaf at least',
    },
    bootstrap: { type: 'boolean', default: true, description: 'Draw a bootstrap sample for each tree' },
    maxSamples: {
      type: 'number',
      default: 1,
      min: 0.01,
      max: 1,
      description: 'Bootstrap sample size as a share of the rows',
    },
    maxBins,
  },
  fit(X, y, params, ctx) {
    if (!y) throw new RangeError('a random forest needs a target');
    const classification = ctx.task === 'classification';
    const rule = params.maxFeatures as string;
    const trees = params.trees as number;
    const categorical = categoricalOf(ctx);
    const model = fitForest(X, y, {
      task: classification ? 'classification' : 'regression',
      ...(classification ? { classes: ctx.classes } : {}),
      trees,
      maxFeatures: (rule === 'auto' ? (classification ? 'sqrt' : 'all') : rule) as MaxFeaturesRule,
      maxDepth: unlimited(params.maxDepth as number),
      maxLeafNodes: unlimited(params.maxLeafNodes as number),
      minSamplesLeaf: params.minSamplesLeaf as number,
      bootstrap: params.bootstrap as boolean,
      maxSamples: params.maxSamples as number,
      maxBins: params.maxBins as number,
      ...(categorical ? { categorical } : {}),
      seed: ctx.seed,
      onProgress: (done, total) => ctx.onProgress(done / total, done, {}),
    });
    // Fail now, with advice, rather than at export after the evaluation.
    checkExportSize(model.ensemble);
    let nodes = 0;
    for (const tree of model.ensemble.trees) nodes += tree.feature.length;
    const info: Record<string, number | boolean | string> = {
      trees: model.ensemble.trees.length,
      nodes,
      maxFeatures: model.maxFeatures,
    };
    if (model.oobScore !== undefined) info.oobScore = model.oobScore;
    // (the thread count is left out: the stored model must not depend on the machine)
    return {
      predict: (Z) => predictForest(model, Z),
      head: forestHead(model),
      importance: model.importance,
      info,
    };
  },
};
