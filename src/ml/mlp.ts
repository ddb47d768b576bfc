/**
 * Multilayer perceptron for classification and regression, trained by mini-batch stochastic
 * optimisation as scikit-learn 1.2's `MLPClassifier` / `MLPRegressor` (solver 'adam' or 'sgd'),
 * plus Adagrad, inverted dropout and optional standardisation of a regression target.
 *
 * What is the same as scikit-learn, so that results can be compared on the same data:
 * - Glorot-uniform initialisation (`Network.initialise`); the objective (1/B)·Σ loss + (α/2B)·‖W‖²
 *   per mini-batch; two classes as one sigmoid output unit, more as softmax; squared error for
 *   regression; mini-batches of min(200, n) rows, reshuffled every epoch;
 * - the stopping rule: after each epoch, if the training loss (or, with early stopping, the
 *   validation score — accuracy or R²) has not improved by at least `tol` for more than
 *   `nIterNoChange` consecutive epochs, training stops (converged); at `maxEpochs` it stops
 *   unconverged. With early stopping the parameters of the best validation score are kept.
 * What differs: the random stream (xoshiro128**, not numpy's Mersenne Twister), and a regression
 * target is standardised by default (scikit-learn does not; `standardizeTarget: false` restores
 * its behaviour), which makes the default step size suit any scale of target.
 */
import { argmaxRows } from './linear.js';
import { accuracy, r2 } from './metrics.js';
import { ACTIVATIONS, Network, type Activation, type OutputKind, type Targets } from './mlp/network.js';
import { OPTIMIZERS, createOptimizer, type OptimizerName } from './mlp/optimizers.js';
import { createRng, shuffle } from './rng.js';
import { trainTestSplit } from './split.js';
import type { Matrix } from './types.js';

export { ACTIVATIONS, OPTIMIZERS, type Activation, type OptimizerName, type OutputKind };

/** One dense layer: outputs = inputs·W + b. */
export interface MlpLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** inputs × outputs, row-major: weights[k·outputs + j] joins input k to output j. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/**
 * A fitted perceptron: the hidden layers apply `activation`, the last layer `output`
 * (`softmax` for C > 2 classes, `sigmoid` = P(class 1) for 2 classes, `identity` for regression).
 */
export interface MlpModel {
  readonly kind: 'mlp';
  readonly activation: Activation;
  readonly output: OutputKind;
  /** Number of classes; 0 for a regression. */
  readonly classes: number;
  readonly layers: readonly MlpLayer[];
}

export interface MlpOptions {
  /** Units of each hidden layer. Default [100]. An empty list is a linear / logistic model. */
  readonly hiddenLayers?: readonly number[];
  /** Default 'relu'. */
  readonly activation?: Activation;
  /** Default 'adam'. */
  readonly optimizer?: OptimizerName;
  /** Step size η (scikit-learn's `learning_rate_init`). Default 1e-3. */
  readonly learningRate?: number;
  /** L2 penalty α on the weights. Default 1e-4. */
  readonly alpha?: number;
  /** Rows per mini-batch, clipped to [1, n]. Default 200 (so min(200, n)). */
  readonly batchSize?: number;
  /** Passes over the training rows at most. Default 200. */
  readonly maxEpochs?: number;
  /** SGD momentum μ. Default 0.9. */
  readonly momentum?: number;
  /** SGD with Nesterov's momentum. Default true, as scikit-learn. */
  readonly nesterov?: boolean;
  /** Adam's β₁, β₂. Default 0.9, 0.999. */
  readonly beta1?: number;
  readonly beta2?: number;
  /** Adam's and Adagrad's ε. Default 1e-8. */
  readonly epsilon?: number;
  /** Probability of dropping each hidden unit while training. Default 0. */
  readonly dropout?: number;
  /** Stop when the validation score stops improving, and keep the best parameters. Default false. */
  readonly earlyStopping?: boolean;
  /**
   * The rows to score for early stopping. When absent and `earlyStopping` is set, a
   * `validationFraction` of the training rows is held out (stratified for classifiers).
   */
  readonly validation?: { readonly X: Matrix; readonly y: Targets };
  /** Default 0.1. */
  readonly validationFraction?: number;
  /** Epochs without an improvement of at least `tol` tolerated before stopping. Default 10. */
  readonly nIterNoChange?: number;
  /** Default 1e-4. */
  readonly tol?: number;
  /** Regression: train on (y − mean) / std and fold the scaling into the last layer. Default true. */
  readonly standardizeTarget?: boolean;
  /** Seed of the initialisation, the shuffles, dropout and the validation split. Default 0. */
  readonly seed?: number;
  /** Called after every epoch with the mean training loss and, with early stopping, the validation score. */
  readonly onEpoch?: (epoch: number, loss: number, validationScore?: number) => void;
}

export type StopReason = 'training_loss' | 'validation_score' | 'max_epochs';

export interface MlpFit {
  readonly model: MlpModel;
  /** Epochs run. */
  readonly epochs: number;
  /** False when `maxEpochs` ended the training before the stopping rule did. */
  readonly converged: boolean;
  readonly stopReason: StopReason;
  /**
   * Mean training objective of the last epoch (loss + penalty; for a standardised regression
   * target, in units of the standardised target).
   */
  readonly loss: number;
  readonly lossCurve: Float64Array;
  /** Validation score per epoch (accuracy or R²); empty without early stopping. */
  readonly validationScores: Float64Array;
  /** Best validation score, whose parameters the model has; NaN without early stopping. */
  readonly bestValidationScore: number;
}

/** Every option but the data and the callback, resolved. */
export type MlpSettings = Required<Omit<MlpOptions, 'validation' | 'onEpoch'>>;

/** The defaults: scikit-learn 1.2's, plus those of what it lacks (Adagrad, dropout, target scaling). */
export const MLP_DEFAULTS: Readonly<MlpSettings> = {
  hiddenLayers: [100],
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 1e-3,
  alpha: 1e-4,
  batchSize: 200,
  maxEpochs: 200,
  momentum: 0.9,
  nesterov: true,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  dropout: 0,
  earlyStopping: false,
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-4,
  standardizeTarget: true,
  seed: 0,
};

/** Fits a classifier on labels 0..classes−1 (see the module comment for the method). */
export function fitMlpClassifier(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: MlpOptions = {},
): MlpFit {
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  if (y.length !== X.rows) throw new RangeError(`y has ${y.length} labels for ${X.rows} rows`);
  checkLabels(y, classes);
  if (options.validation) checkLabels(options.validation.y as Int32Array, classes);
  return fit(X, y, classes, options);
}

/** Fits a regression (see the module comment for the method). */
export function fitMlpRegressor(X: Matrix, y: Float64Array, options: MlpOptions = {}): MlpFit {
  if (y.length !== X.rows) throw new RangeError(`y has ${y.length} values for ${X.rows} rows`);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]!)) throw new RangeError(`target ${i} is ${y[i]}; impute or drop it first`);
  }
  return fit(X, y, 0, options);
}

/**
 * Predictions for the rows of X: N × C class probabilities, row-major, for a classifier (for two
 * classes [1 − σ(z), σ(z)]); N values for a regression. Dropout is never applied here.
 */
export function predictMlp(model: MlpModel, X: Matrix): Float64Array {
  checkMatrix(X);
  const net = networkOf(model, Math.max(1, Math.min(X.rows, PREDICT_CHUNK)));
  const F = X.cols;
  if (F !== net.units[0]) throw new RangeError(`X has ${F} columns, the model ${net.units[0]} inputs`);
  const C = model.classes;
  const out = new Float64Array(X.rows * (C > 0 ? C : 1));
  forEachChunk(net, X, (start, rows, Z) => writeOutputs(model.output, Z, rows, C, out, start));
  return out;
}

/** Rows per forward pass at prediction: buffers of a few hundred rows stay in cache. */
const PREDICT_CHUNK = 256;

function fit(X: Matrix, y: Targets, classes: number, options: MlpOptions): MlpFit {
  const o: MlpSettings = { ...MLP_DEFAULTS, ...stripUndefined(options) };
  checkMatrix(X);
  checkOptions(o);
  const n = X.rows;
  if (n === 0) throw new RangeError('cannot fit on 0 rows');
  const isClassifier = classes > 0;
  const output: OutputKind = !isClassifier ? 'identity' : classes === 2 ? 'sigmoid' : 'softmax';
  const K = classes > 2 ? classes : 1;
  const rng = createRng(o.seed);

  // Held-out rows for early stopping: given, or a seeded (stratified) share of the training rows.
  let train: { X: Matrix; y: Targets } = { X, y };
  let valid: { X: Matrix; y: Targets } | null = null;
  if (o.earlyStopping) {
    if (options.validation) {
      valid = options.validation;
      checkMatrix(valid.X);
      if (valid.X.cols !== X.cols) throw new RangeError('validation X has a different number of columns');
      if (valid.y.length !== valid.X.rows) throw new RangeError('validation y does not match its X');
      if (valid.X.rows === 0) throw new RangeError('the validation set is empty');
    } else {
      const split = trainTestSplit(n, {
        testFraction: o.validationFraction,
        seed: o.seed,
        ...(isClassifier ? { stratify: y as Int32Array } : {}),
      });
      train = { X: takeRows(X, split.train), y: takeTargets(y, split.train) };
      valid = { X: takeRows(X, split.test), y: takeTargets(y, split.test) };
    }
  }

  // Standardise a regression target (population std, as StandardScaler); undone at the end.
  let yMean = 0;
  let yScale = 1;
  if (!isClassifier && o.standardizeTarget) {
    const t = train.y;
    for (let i = 0; i < t.length; i++) yMean += t[i]!;
    yMean /= t.length;
    let ss = 0;
    for (let i = 0; i < t.length; i++) ss += (t[i]! - yMean) ** 2;
    const std = Math.sqrt(ss / t.length);
    yScale = std > 0 ? std : 1;
    train = { X: train.X, y: Float64Array.from(train.y, (v) => (v - yMean) / yScale) };
    if (valid) valid = { X: valid.X, y: Float64Array.from(valid.y, (v) => (v - yMean) / yScale) };
  }

  const m = train.X.rows;
  const F = X.cols;
  const B = Math.min(Math.max(1, o.batchSize), m);
  const net = new Network([F, ...o.hiddenLayers, K], o.activation, output, B, o.dropout);
  net.initialise(rng);
  const optimizer = createOptimizer(o.optimizer, net.size, o);
  const grad = new Float64Array(net.size);

  // Row-major copy of the training rows, so that a shuffled batch is gathered by copying whole
  // rows rather than by B·F scattered reads of the column-major matrix.
  const Xr = rowMajor(train.X);
  const yTrain = train.y;
  const yBatch: Targets = isClassifier ? new Int32Array(B) : new Float64Array(B);
  const order = Uint32Array.from({ length: m }, (_, i) => i);
  const input = net.input;
  const useDropout = o.dropout > 0;

  const lossCurve = new Float64Array(o.maxEpochs);
  const validationScores = new Float64Array(valid ? o.maxEpochs : 0);
  const best = valid ? new Float64Array(net.size) : null;
  let bestScore = -Infinity;
  let bestLoss = Infinity;
  let noImprovement = 0;
  let epochs = 0;
  let stopReason: StopReason = 'max_epochs';
  const scorer = valid ? validationScorer(net, valid, classes) : null;

  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    shuffle(order, rng);
    let total = 0;
    for (let start = 0; start < m; start += B) {
      const rows = Math.min(B, m - start);
      for (let r = 0; r < rows; r++) {
        const i = order[start + r]!;
        const src = i * F;
        const dst = r * F;
        for (let j = 0; j < F; j++) input[dst + j] = Xr[src + j]!;
        yBatch[r] = yTrain[i]!;
      }
      const loss = net.lossAndGradient(rows, yBatch, o.alpha, grad, useDropout ? rng : undefined);
      total += loss * rows;
      optimizer.step(net.theta, grad);
    }
    const loss = total / m;
    if (!Number.isFinite(loss)) {
      throw new RangeError(`the training loss diverged (${loss}) at epoch ${epoch}; lower the learning rate`);
    }
    lossCurve[epoch - 1] = loss;
    epochs = epoch;

    // scikit-learn's `_update_no_improvement_count`.
    let score: number | undefined;
    if (scorer) {
      score = scorer();
      validationScores[epoch - 1] = score;
      noImprovement = score < bestScore + o.tol ? noImprovement + 1 : 0;
      if (score > bestScore) {
        bestScore = score;
        best!.set(net.theta);
      }
    } else {
      noImprovement = loss > bestLoss - o.tol ? noImprovement + 1 : 0;
      if (loss < bestLoss) bestLoss = loss;
    }
    options.onEpoch?.(epoch, loss, score);
    if (noImprovement > o.nIterNoChange) {
      stopReason = scorer ? 'validation_score' : 'training_loss';
      break;
    }
  }
  if (best && bestScore > -Infinity) net.theta.set(best);

  const layers = layersOf(net);
  if (!isClassifier && (yMean !== 0 || yScale !== 1)) {
    // y = μ + s·(h·W + b) = h·(sW) + (sb + μ): the scaling folded into the output layer.
    const last = layers[layers.length - 1]!;
    for (let p = 0; p < last.weights.length; p++) last.weights[p]! *= yScale;
    last.bias[0] = last.bias[0]! * yScale + yMean;
  }
  return {
    model: { kind: 'mlp', activation: o.activation, output, classes, layers },
    epochs,
    converged: stopReason !== 'max_epochs',
    stopReason,
    loss: lossCurve[epochs - 1]!,
    lossCurve: lossCurve.slice(0, epochs),
    validationScores: validationScores.slice(0, valid ? epochs : 0),
    bestValidationScore: valid ? bestScore : NaN,
  };
}

/**
 * The early-stopping score of the network's current parameters on the validation rows: accuracy
 * for classifiers, R² for regression (scikit-learn's `score`). Reuses the training network's
 * buffers, without dropout, and allocates its outputs once.
 */
function validationScorer(net: Network, valid: { X: Matrix; y: Targets }, classes: number): () => number {
  const n = valid.X.rows;
  const C = classes;
  const out = new Float64Array(n * (C > 0 ? C : 1));
  return () => {
    forEachChunk(net, valid.X, (start, rows, Z) => writeOutputs(net.output, Z, rows, C, out, start));
    return C === 0 ? r2(valid.y, out) : accuracy(valid.y, argmaxRows(out, n, C));
  };
}

/**
 * Runs the network without dropout over X in chunks of its capacity: each chunk is gathered from
 * the column-major X (sequential reads down each column) into the row-major input buffer.
 */
function forEachChunk(
  net: Network,
  X: Matrix,
  use: (start: number, rows: number, scores: Float64Array) => void,
): void {
  const n = X.rows;
  const F = X.cols;
  const input = net.input;
  const Xd = X.data;
  for (let start = 0; start < n; start += net.capacity) {
    const rows = Math.min(net.capacity, n - start);
    for (let j = 0; j < F; j++) {
      const col = j * n + start;
      for (let r = 0; r < rows; r++) input[r * F + j] = Xd[col + r]!;
    }
    use(start, rows, net.forward(rows));
  }
}

/** Turns output scores into probabilities (or values) in `out`, rows start..start+rows. */
function writeOutputs(
  output: OutputKind,
  Z: Float64Array,
  rows: number,
  C: number,
  out: Float64Array,
  start: number,
): void {
  if (output === 'identity') {
    out.set(Z.subarray(0, rows), start);
  } else if (output === 'sigmoid') {
    for (let i = 0; i < rows; i++) {
      const p1 = 1 / (1 + Math.exp(-Z[i]!));
      out[(start + i) * 2] = 1 - p1;
      out[(start + i) * 2 + 1] = p1;
    }
  } else {
    // Row-wise softmax, stabilised by the row maximum.
    for (let i = 0; i < rows; i++) {
      const o = (start + i) * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, Z[i * C + c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(Z[i * C + c]! - max);
        out[o + c] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) out[o + c]! /= sum;
    }
  }
}

/** A prediction network holding the model's parameters. */
function networkOf(model: MlpModel, capacity: number): Network {
  const layers = model.layers;
  if (layers.length === 0) throw new RangeError('the model has no layers');
  const units = [layers[0]!.inputs, ...layers.map((l) => l.outputs)];
  const K = model.output === 'softmax' ? model.classes : 1;
  if (units[units.length - 1] !== K)
    throw new RangeError(`the output layer has ${units.at(-1)} units, expected ${K}`);
  const net = new Network(units, model.activation, model.output, capacity);
  layers.forEach((layer, l) => {
    if (layer.inputs !== units[l])
      throw new RangeError(`layer ${l} has ${layer.inputs} inputs, expected ${units[l]}`);
    if (layer.weights.length !== layer.inputs * layer.outputs || layer.bias.length !== layer.outputs)
      throw new RangeError(`layer ${l}: weights or bias of the wrong length`);
    net.weights(net.theta, l).set(layer.weights);
    net.biases(net.theta, l).set(layer.bias);
  });
  return net;
}

/** Copies the network's parameters out into layers. */
function layersOf(net: Network): MlpLayer[] {
  const out: MlpLayer[] = [];
  for (let l = 0; l < net.units.length - 1; l++) {
    out.push({
      inputs: net.units[l]!,
      outputs: net.units[l + 1]!,
      weights: net.weights(net.theta, l).slice(),
      bias: net.biases(net.theta, l).slice(),
    });
  }
  return out;
}

function rowMajor(X: Matrix): Float64Array {
  const n = X.rows;
  const F = X.cols;
  const out = new Float64Array(n * F);
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) out[i * F + j] = X.data[col + i]!;
  }
  return out;
}

function takeRows(X: Matrix, rows: Uint32Array): Matrix {
  const n = rows.length;
  const data = new Float64Array(n * X.cols);
  for (let j = 0; j < X.cols; j++) {
    const col = j * X.rows;
    for (let k = 0; k < n; k++) data[j * n + k] = X.data[col + rows[k]!]!;
  }
  return { data, rows: n, cols: X.cols };
}

function takeTargets(y: Targets, rows: Uint32Array): Targets {
  return y instanceof Int32Array
    ? Int32Array.from(rows, (i) => y[i]!)
    : Float64Array.from(rows, (i) => y[i]!);
}

function checkMatrix(X: Matrix): void {
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`matrix data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
  for (let p = 0; p < X.data.length; p++) {
    if (!Number.isFinite(X.data[p]!))
      throw new RangeError(
        `X has a non-finite value (${X.data[p]}) at row ${p % X.rows}, column ${Math.floor(p / X.rows)}; impute first`,
      );
  }
}

function checkLabels(y: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      throw new RangeError(`label ${c} at row ${i} is outside 0..${classes - 1}`);
  }
}

function checkOptions(o: MlpSettings): void {
  const positiveInteger = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer ≥ 1, got ${v}`);
  };
  for (const u of o.hiddenLayers) positiveInteger('each hidden layer size', u);
  positiveInteger('batchSize', o.batchSize);
  positiveInteger('maxEpochs', o.maxEpochs);
  if (!Number.isInteger(o.nIterNoChange) || o.nIterNoChange < 0)
    throw new RangeError(`nIterNoChange must be an integer ≥ 0, got ${o.nIterNoChange}`);
  if (!ACTIVATIONS.includes(o.activation)) throw new RangeError(`unknown activation ${String(o.activation)}`);
  if (!OPTIMIZERS.includes(o.optimizer)) throw new RangeError(`unknown optimizer ${String(o.optimizer)}`);
  const inRange = (name: string, v: number, lo: number, hi: number, hiOpen: boolean) => {
    if (!(v >= lo && (hiOpen ? v < hi : v <= hi)))
      throw new RangeError(`${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  };
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate)))
    throw new RangeError(`learningRate must be > 0, got ${o.learningRate}`);
  if (!(o.alpha >= 0 && Number.isFinite(o.alpha))) throw new RangeError(`alpha must be ≥ 0, got ${o.alpha}`);
  inRange('momentum', o.momentum, 0, 1, true);
  inRange('beta1', o.beta1, 0, 1, true);
  inRange('beta2', o.beta2, 0, 1, true);
  inRange('dropout', o.dropout, 0, 1, true);
  if (!(o.epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${o.epsilon}`);
  if (!(o.tol >= 0)) throw new RangeError(`tol must be ≥ 0, got ${o.tol}`);
  if (o.earlyStopping && !(o.validationFraction > 0 && o.validationFraction < 1))
    throw new RangeError(`validationFraction must be in (0, 1), got ${o.validationFraction}`);
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be a safe integer, got ${o.seed}`);
}

/** Drops keys set to undefined, so that they do not override the defaults. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
