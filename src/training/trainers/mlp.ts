import {
  ACTIVATIONS,
  MLP_DEFAULTS,
  OPTIMIZERS,
  fitMlpClassifier,
  fitMlpRegressor,
  predictMlp,
  type Activation,
  type MlpFit,
  type MlpOptions,
  type OptimizerName,
} from '../../ml/mlp.js';
import { mlpHead } from '../../onnx/heads/mlp.js';
import type { Params, Trainer } from '../trainer.js';

const d = MLP_DEFAULTS;

/**
 * Multilayer perceptron (`ml/mlp.ts`): the defaults are scikit-learn 1.2's MLPClassifier /
 * MLPRegressor, except that a regression target is standardised (see `standardizeTarget`).
 */
export const mlp: Trainer = {
  name: 'mlp',
  summary:
    'Multilayer perceptron: dense layers (ReLU, tanh or sigmoid), dropout and L2 weight decay, trained on mini-batches by Adam, SGD with momentum or Adagrad, with optional early stopping',
  tasks: ['classification', 'regression'],
  preprocessing: 'scaled',
  wantsValidation: (params) => params.earlyStopping === true,
  params: {
    hiddenLayers: {
      type: 'integers',
      default: d.hiddenLayers,
      min: 1,
      max: 4096,
      description: 'Units of each hidden layer, input side first',
    },
    activation: {
      type: 'enum',
      default: d.activation,
      values: ACTIVATIONS,
      description: "Hidden-unit nonlinearity ('sigmoid' is scikit-learn's 'logistic')",
    },
    optimizer: {
      type: 'enum',
      default: d.optimizer,
      values: OPTIMIZERS,
      description: 'Adam (Kingma & Ba 2015), SGD with momentum, or Adagrad (Duchi et al. 2011)',
    },
    learningRate: {
      type: 'number',
      default: d.learningRate,
      min: 1e-7,
      max: 10,
      description: "Step size (scikit-learn's learning_rate_init); Adagrad usually wants about 0.01",
    },
    alpha: { type: 'number', default: d.alpha, min: 0, max: 1e3, description: 'L2 penalty on the weights' },
    batchSize: {
      type: 'integer',
      default: d.batchSize,
      min: 1,
      max: 1_000_000,
      description: 'Rows per mini-batch (at most the number of training rows)',
    },
    maxEpochs: {
      type: 'integer',
      default: d.maxEpochs,
      min: 1,
      max: 100_000,
      description: 'Passes over the training rows at most',
    },
    momentum: { type: 'number', default: d.momentum, min: 0, max: 0.999, description: 'SGD momentum' },
    nesterov: { type: 'boolean', default: d.nesterov, description: "SGD: Nesterov's momentum" },
    beta1: {
      type: 'number',
      default: d.beta1,
      min: 0,
      max: 0.9999,
      description: 'Adam: decay of the first moment',
    },
    beta2: {
      type: 'number',
      default: d.beta2,
      min: 0,
      max: 0.99999,
      description: 'Adam: decay of the second moment',
    },
    epsilon: { type: 'number', default: d.epsilon, min: 1e-12, max: 1, description: 'Adam and Adagrad: ε' },
    dropout: {
      type: 'number',
      default: d.dropout,
      min: 0,
      max: 0.9,
      description: 'Probability of dropping a hidden unit while training (inverted dropout)',
    },
    earlyStopping: {
      type: 'boolean',
      default: d.earlyStopping,
      description:
        'Stop when the score on a validation split (accuracy or R²) stops improving, and keep the best epoch',
    },
    nIterNoChange: {
      type: 'integer',
      default: d.nIterNoChange,
      min: 1,
      max: 10_000,
      description: 'Epochs without an improvement of tol tolerated before stopping',
    },
    tol: {
      type: 'number',
      default: d.tol,
      min: 0,
      max: 1,
      description: 'Smallest improvement of the training loss (or validation score) that counts',
    },
    standardizeTarget: {
      type: 'boolean',
      default: d.standardizeTarget,
      description: 'Regression: train on the standardised target (scikit-learn does not)',
    },
  },
  fit(X, y, params, ctx) {
    if (y === undefined) throw new RangeError('the perceptron needs a target');
    const maxEpochs = params.maxEpochs as number;
    const options: MlpOptions = {
      ...optionsOf(params),
      seed: ctx.seed,
      ...(ctx.validation ? { validation: ctx.validation } : {}),
      onEpoch: (epoch, loss, score) =>
        ctx.onProgress(
          epoch / maxEpochs,
          epoch,
          score === undefined ? { loss } : { loss, validation_score: score },
        ),
    };
    const fit: MlpFit =
      ctx.task === 'classification'
        ? fitMlpClassifier(X, y as Int32Array, ctx.classes, options)
        : fitMlpRegressor(X, y as Float64Array, options);
    const model = fit.model;
    return {
      predict: (Z) => predictMlp(model, Z),
      head: mlpHead(model),
      info: {
        epochs: fit.epochs,
        converged: fit.converged,
        stopReason: fit.stopReason,
        loss: fit.loss,
        ...(Number.isFinite(fit.bestValidationScore) ? { bestValidationScore: fit.bestValidationScore } : {}),
      },
    };
  },
};

function optionsOf(params: Params): MlpOptions {
  return {
    hiddenLayers: params.hiddenLayers as readonly number[],
    activation: params.activation as Activation,
    optimizer: params.optimizer as OptimizerName,
    learningRate: params.learningRate as number,
    alpha: params.alpha as number,
    batchSize: params.batchSize as number,
    maxEpochs: params.maxEpochs as number,
    momentum: params.momentum as number,
    nesterov: params.nesterov as boolean,
    beta1: params.beta1 as number,
    beta2: params.beta2 as number,
    epsilon: params.epsilon as number,
    dropout: params.dropout as number,
    earlyStopping: params.earlyStopping as boolean,
    nIterNoChange: params.nIterNoChange as number,
    tol: params.tol as number,
    standardizeTarget: params.standardizeTarget as boolean,
  };
}
