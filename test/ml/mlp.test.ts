// The multilayer perceptron: kernels against naive loops, backpropagation against finite
// differences, one step of each optimizer against its formula, the stopping rules, determinism,
// dropout, target standardisation and bad input. Small synthetic problems only: fast.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fitMlpClassifier,
  fitMlpRegressor,
  predictMlp,
  type Activation,
  type MlpModel,
  type OptimizerName,
} from '../../src/ml/mlp.js';
import { gemmAccumulate, transpose } from '../../src/ml/mlp/dense.js';
import { Network, type OutputKind } from '../../src/ml/mlp/network.js';
import { createOptimizer } from '../../src/ml/mlp/optimizers.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';

function gaussian(rng: Rng): number {
  // Box–Muller.
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * gaussian(rng));
}

/** Two Gaussian blobs per class in F dimensions, column-major, with labels 0..C-1. */
function blobs(n: number, F: number, C: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const centres = Array.from({ length: C }, () => randomArray(rng, F, 2));
  const data = new Float64Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % C;
    y[i] = c;
    for (let j = 0; j < F; j++) data[j * n + i] = centres[c]![j]! + gaussian(rng);
  }
  return { X: { data, rows: n, cols: F }, y };
}

/** y = sin(x₀) + x₁·x₂ + noise: needs a nonlinear model. */
function wave(n: number, seed: number, offset = 0, scale = 1): { X: Matrix; y: Float64Array } {
  const rng = createRng(seed);
  const F = 3;
  const data = randomArray(rng, n * F);
  const y = Float64Array.from(
    { length: n },
    (_, i) =>
      offset + scale * (Math.sin(2 * data[i]!) + data[n + i]! * data[2 * n + i]! + 0.05 * gaussian(rng)),
  );
  return { X: { data, rows: n, cols: F }, y };
}

/** A reference forward pass by the definition, one row at a time, without any buffer sharing. */
function naivePredict(model: MlpModel, X: Matrix): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < X.rows; i++) {
    let h = Array.from({ length: X.cols }, (_, j) => X.data[j * X.rows + i]!);
    model.layers.forEach((layer, l) => {
      const z = Array.from(layer.bias);
      for (let k = 0; k < layer.inputs; k++)
        for (let j = 0; j < layer.outputs; j++) z[j]! += h[k]! * layer.weights[k * layer.outputs + j]!;
      const last = l === model.layers.length - 1;
      const f = (v: number) =>
        model.activation === 'relu'
          ? Math.max(v, 0)
          : model.activation === 'tanh'
            ? Math.tanh(v)
            : 1 / (1 + Math.exp(-v));
      h = last ? z : z.map(f);
    });
    if (model.output === 'identity') out.push(h[0]!);
    else if (model.output === 'sigmoid') {
      const p = 1 / (1 + Math.exp(-h[0]!));
      out.push(1 - p, p);
    } else {
      const max = Math.max(...h);
      const e = h.map((v) => Math.exp(v - max));
      const s = e.reduce((a, b) => a + b, 0);
      out.push(...e.map((v) => v / s));
    }
  }
  return Float64Array.from(out);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('dense kernels', () => {
  test('gemmAccumulate adds A·B, on shapes with remainders of the 4 × 4 blocks', () => {
    const rng = createRng(1);
    for (const [m, p, n] of [
      [1, 1, 1],
      [4, 4, 4],
      [7, 5, 3],
      [9, 13, 1],
      [3, 8, 11],
      [12, 1, 6],
      [5, 0, 4],
    ] as const) {
      const A = randomArray(rng, m * p);
      const B = randomArray(rng, p * n);
      const C0 = randomArray(rng, m * n);
      const C = C0.slice();
      gemmAccumulate(A, B, C, m, p, n);
      const want = C0.slice();
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++)
          for (let k = 0; k < p; k++) want[i * n + j]! += A[i * p + k]! * B[k * n + j]!;
      assert.ok(maxAbsDiff(C, want) < 1e-12, `${m}×${p}×${n}`);
    }
  });

  test('transpose', () => {
    const out = new Float64Array(6);
    transpose(Float64Array.from([1, 2, 3, 4, 5, 6]), 2, 3, out);
    assert.deepEqual(Array.from(out), [1, 4, 2, 5, 3, 6]);
  });
});

describe('backpropagation', () => {
  // Central differences (f(θ + h·e_p) − f(θ − h·e_p)) / 2h have error O(h²); with h = 1e-5 and
  // losses of order 1 the agreement is about 1e-9, so 1e-6 relative leaves a wide margin.
  const cases: readonly { activation: Activation; output: OutputKind; classes: number }[] = [
    { activation: 'relu', output: 'softmax', classes: 3 },
    { activation: 'tanh', output: 'softmax', classes: 4 },
    { activation: 'sigmoid', output: 'sigmoid', classes: 2 },
    { activation: 'relu', output: 'sigmoid', classes: 2 },
    { activation: 'tanh', output: 'identity', classes: 0 },
    { activation: 'sigmoid', output: 'identity', classes: 0 },
  ];
  for (const c of cases) {
    test(`gradient = finite differences: ${c.activation} hidden [5, 4], ${c.output} output`, () => {
      const rng = createRng(7);
      const F = 3;
      const rows = 6;
      const K = c.output === 'softmax' ? c.classes : 1;
      const net = new Network([F, 5, 4, K], c.activation, c.output, 8);
      net.initialise(rng);
      for (let p = 0; p < net.size; p++) net.theta[p]! += 0.3 * gaussian(rng);
      net.input.set(randomArray(rng, rows * F));
      const y =
        c.classes > 0 ? Int32Array.from({ length: rows }, (_, i) => i % c.classes) : randomArray(rng, rows);
      const alpha = 0.3;
      const grad = new Float64Array(net.size);
      net.lossAndGradient(rows, y, alpha, grad);
      const scratch = new Float64Array(net.size);
      const h = 1e-5;
      for (let p = 0; p < net.size; p++) {
        const t = net.theta[p]!;
        net.theta[p] = t + h;
        const up = net.lossAndGradient(rows, y, alpha, scratch);
        net.theta[p] = t - h;
        const down = net.lossAndGradient(rows, y, alpha, scratch);
        net.theta[p] = t;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(numeric - grad[p]!) <= 1e-6 * Math.max(1, Math.abs(numeric)),
          `parameter ${p}: backprop ${grad[p]} vs finite differences ${numeric}`,
        );
      }
    });
  }

  for (const activation of ['relu', 'tanh', 'sigmoid'] as const) {
    test(`gradient = finite differences with dropout 0.4 (${activation}; the same mask at every evaluation)`, () => {
      const rng = createRng(8);
      const net = new Network([4, 6, 5, 3], activation, 'softmax', 8, 0.4);
      net.initialise(rng);
      net.input.set(randomArray(rng, 7 * 4));
      const y = Int32Array.from({ length: 7 }, (_, i) => i % 3);
      // A generator re-made from one seed draws the same mask on every call.
      const evaluate = (grad: Float64Array) => net.lossAndGradient(7, y, 0.1, grad, createRng(99));
      const grad = new Float64Array(net.size);
      evaluate(grad);
      const scratch = new Float64Array(net.size);
      const h = 1e-5;
      for (let p = 0; p < net.size; p++) {
        const t = net.theta[p]!;
        net.theta[p] = t + h;
        const up = evaluate(scratch);
        net.theta[p] = t - h;
        const down = evaluate(scratch);
        net.theta[p] = t;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(numeric - grad[p]!) <= 1e-6 * Math.max(1, Math.abs(numeric)), `parameter ${p}`);
      }
      // The mask did act: without it the loss is another.
      assert.notEqual(evaluate(scratch), net.lossAndGradient(7, y, 0.1, scratch));
    });
  }

  test('the loss is the mean cross-entropy plus (α/2B)·‖W‖², biases not penalised', () => {
    const net = new Network([1, 2], 'relu', 'softmax', 2);
    // W = [[1, −1]], b = [5, 5]: the biases must not count in the penalty.
    net.theta.set([1, -1, 5, 5]);
    net.input.set([0.5, -0.5]);
    const grad = new Float64Array(net.size);
    const loss = net.lossAndGradient(2, Int32Array.from([0, 1]), 0.4, grad);
    // Row 1: z = [5.5, 4.5], class 0; row 2: z = [4.5, 5.5], class 1: both −log σ(1).
    const ce = Math.log1p(Math.exp(-1));
    assert.ok(Math.abs(loss - (ce + (0.5 * 0.4 * 2) / 2)) < 1e-12, `loss ${loss}`);
  });
});

describe('optimizers: one step against the formula', () => {
  const g = Float64Array.from([0.5, -2, 0]);
  const options = {
    learningRate: 0.1,
    momentum: 0.9,
    nesterov: false,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  };
  test('SGD, classical momentum: θ − ηg, then θ + μv − ηg', () => {
    const theta = Float64Array.from([1, 1, 1]);
    const sgd = createOptimizer('sgd', 3, options);
    sgd.step(theta, g);
    assert.ok(maxAbsDiff(theta, [0.95, 1.2, 1]) < 1e-15);
    sgd.step(theta, g);
    // v = 0.9·(−0.05) − 0.05 = −0.095 for the first parameter.
    assert.ok(maxAbsDiff(theta, [0.855, 1.58, 1]) < 1e-15);
  });
  test('SGD, Nesterov: the first step is −(1 + μ)ηg', () => {
    const theta = Float64Array.from([1, 1, 1]);
    createOptimizer('sgd', 3, { ...options, nesterov: true }).step(theta, g);
    assert.ok(maxAbsDiff(theta, [1 - 1.9 * 0.05, 1 + 1.9 * 0.2, 1]) < 1e-15);
  });
  test('Adagrad: θ − ηg / (√(g²) + ε), then the accumulated squares slow it down', () => {
    const theta = Float64Array.from([1, 1, 1]);
    const adagrad = createOptimizer('adagrad', 3, options);
    adagrad.step(theta, g);
    assert.ok(maxAbsDiff(theta, [0.9, 1.1, 1]) < 1e-7);
    adagrad.step(theta, g);
    assert.ok(maxAbsDiff(theta, [0.9 - 0.1 / Math.SQRT2, 1.1 + 0.1 / Math.SQRT2, 1]) < 1e-7);
  });
  test('Adam: the bias-corrected first step is −η·sign(g)', () => {
    const theta = Float64Array.from([1, 1, 1]);
    createOptimizer('adam', 3, options).step(theta, g);
    assert.ok(maxAbsDiff(theta, [0.9, 1.1, 1]) < 1e-7);
  });
});

describe('fitMlpClassifier / fitMlpRegressor', () => {
  const { X, y } = blobs(300, 4, 3, 11);

  for (const optimizer of ['adam', 'sgd', 'adagrad'] as const satisfies readonly OptimizerName[]) {
    test(`${optimizer} decreases the training loss and separates the blobs`, () => {
      const fit = fitMlpClassifier(X, y, 3, {
        optimizer,
        hiddenLayers: [16],
        maxEpochs: 30,
        learningRate: optimizer === 'adam' ? 1e-2 : 5e-2,
      });
      const curve = fit.lossCurve;
      assert.equal(curve.length, fit.epochs);
      assert.ok(curve[curve.length - 1]! < 0.5 * curve[0]!, `loss ${curve[0]} → ${curve.at(-1)}`);
      const P = predictMlp(fit.model, X);
      let hits = 0;
      for (let i = 0; i < X.rows; i++) {
        const row = Array.from(P.subarray(i * 3, i * 3 + 3));
        if (row.indexOf(Math.max(...row)) === y[i]) hits++;
      }
      assert.ok(hits / X.rows > 0.9, `training accuracy ${hits / X.rows}`);
    });
  }

  test('deterministic for a seed; another seed gives other weights', () => {
    const options = { hiddenLayers: [8, 4], maxEpochs: 5, dropout: 0.2, seed: 3 };
    const a = fitMlpClassifier(X, y, 3, options);
    const b = fitMlpClassifier(X, y, 3, options);
    const c = fitMlpClassifier(X, y, 3, { ...options, seed: 4 });
    a.model.layers.forEach((layer, l) => {
      assert.deepEqual(layer.weights, b.model.layers[l]!.weights);
      assert.deepEqual(layer.bias, b.model.layers[l]!.bias);
    });
    assert.deepEqual(a.lossCurve, b.lossCurve);
    assert.notDeepEqual(a.model.layers[0]!.weights, c.model.layers[0]!.weights);
  });

  test('stops when the training loss stops improving by tol (converged), or at maxEpochs (not)', () => {
    const stopped = fitMlpClassifier(X, y, 3, { hiddenLayers: [8], tol: 0.5, maxEpochs: 100 });
    assert.equal(stopped.stopReason, 'training_loss');
    assert.equal(stopped.converged, true);
    // nIterNoChange = 10: the 11th epoch in a row without an improvement of 0.5 stops it.
    assert.ok(stopped.epochs >= 11 && stopped.epochs < 100, `${stopped.epochs} epochs`);
    const capped = fitMlpClassifier(X, y, 3, { hiddenLayers: [8], maxEpochs: 3 });
    assert.equal(capped.stopReason, 'max_epochs');
    assert.equal(capped.converged, false);
    assert.equal(capped.epochs, 3);
  });

  test('early stopping: stops on the validation score and keeps the best parameters', () => {
    const valid = blobs(90, 4, 3, 12);
    const scores: number[] = [];
    const fit = fitMlpClassifier(X, y, 3, {
      hiddenLayers: [16],
      learningRate: 1e-2,
      maxEpochs: 1000,
      earlyStopping: true,
      validation: valid,
      onEpoch: (_epoch, _loss, score) => scores.push(score!),
    });
    assert.equal(fit.stopReason, 'validation_score');
    assert.ok(fit.epochs < 1000, `${fit.epochs} epochs`);
    assert.deepEqual(Array.from(fit.validationScores), scores);
    assert.equal(fit.bestValidationScore, Math.max(...scores));
    // The last nIterNoChange + 1 scores did not beat the best by tol.
    const best = fit.bestValidationScore;
    for (const s of scores.slice(-11)) assert.ok(s < best + 1e-4);
    // The returned model is the best one, not the last one.
    const P = predictMlp(fit.model, valid.X);
    let hits = 0;
    for (let i = 0; i < valid.X.rows; i++) {
      const row = Array.from(P.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === valid.y[i]) hits++;
    }
    assert.equal(hits / valid.X.rows, best);
  });

  test('early stopping with dropout scores the validation rows without dropout', () => {
    const valid = blobs(90, 4, 3, 17);
    const fit = fitMlpClassifier(X, y, 3, {
      hiddenLayers: [16],
      dropout: 0.3,
      maxEpochs: 15,
      earlyStopping: true,
      validation: valid,
    });
    // The kept parameters reproduce the best score exactly: no unit was dropped while scoring.
    const P = predictMlp(fit.model, valid.X);
    let hits = 0;
    for (let i = 0; i < valid.X.rows; i++) {
      const row = Array.from(P.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === valid.y[i]) hits++;
    }
    assert.equal(hits / valid.X.rows, fit.bestValidationScore);
  });

  test('early stopping without a validation set holds out a stratified share of the rows', () => {
    const fit = fitMlpClassifier(X, y, 3, { hiddenLayers: [8], earlyStopping: true, maxEpochs: 20 });
    assert.equal(fit.validationScores.length, fit.epochs);
    // 10% of 300 rows: accuracies are multiples of 1/30.
    for (const s of fit.validationScores) assert.ok(Math.abs(s * 30 - Math.round(s * 30)) < 1e-9);
  });

  test('dropout is applied while training only: prediction is the plain forward pass', () => {
    const fit = fitMlpClassifier(X, y, 3, { hiddenLayers: [12, 6], dropout: 0.5, maxEpochs: 5 });
    const first = predictMlp(fit.model, X);
    assert.deepEqual(predictMlp(fit.model, X), first);
    assert.ok(maxAbsDiff(first, naivePredict(fit.model, X)) < 1e-12);
  });

  for (const activation of ['relu', 'tanh', 'sigmoid'] as const) {
    test(`predictMlp = the definition (${activation}; softmax, sigmoid and identity outputs; > 256 rows)`, () => {
      const big = blobs(600, 4, 3, 13);
      for (const classes of [3, 2]) {
        const labels = Int32Array.from(big.y, (c) => c % classes);
        const fit = fitMlpClassifier(big.X, labels, classes, {
          hiddenLayers: [7, 5],
          activation,
          maxEpochs: 2,
        });
        assert.ok(maxAbsDiff(predictMlp(fit.model, big.X), naivePredict(fit.model, big.X)) < 1e-12);
      }
      const w = wave(300, 14);
      const reg = fitMlpRegressor(w.X, w.y, { hiddenLayers: [6], activation, maxEpochs: 2 });
      assert.ok(maxAbsDiff(predictMlp(reg.model, w.X), naivePredict(reg.model, w.X)) < 1e-10);
    });
  }

  test('binary classification: one sigmoid unit, probabilities [1 − p, p]', () => {
    const labels = Int32Array.from(y, (c) => (c === 0 ? 1 : 0));
    const fit = fitMlpClassifier(X, labels, 2, { hiddenLayers: [8], maxEpochs: 20, learningRate: 1e-2 });
    assert.equal(fit.model.output, 'sigmoid');
    assert.equal(fit.model.layers.at(-1)!.outputs, 1);
    const P = predictMlp(fit.model, X);
    for (let i = 0; i < X.rows; i++) assert.ok(Math.abs(P[2 * i]! + P[2 * i + 1]! - 1) < 1e-15);
  });

  test('regression: a standardised target is folded back into the output layer', () => {
    // The same problem on a large offset and scale: standardised, the fit is the same up to the
    // scale; raw, Adam's small steps cannot reach the offset in a few epochs.
    const small = wave(400, 15);
    const large = wave(400, 15, 5000, 300);
    const options = { hiddenLayers: [32], maxEpochs: 60, learningRate: 1e-2 };
    const a = fitMlpRegressor(small.X, small.y, options);
    const b = fitMlpRegressor(large.X, large.y, options);
    const rmse = (fit: ReturnType<typeof fitMlpRegressor>, d: typeof small) => {
      const p = predictMlp(fit.model, d.X);
      let s = 0;
      for (let i = 0; i < p.length; i++) s += (p[i]! - d.y[i]!) ** 2;
      return Math.sqrt(s / p.length);
    };
    const ra = rmse(a, small);
    const rb = rmse(b, large);
    assert.ok(ra < 0.5, `rmse ${ra}`);
    assert.ok(Math.abs(rb / 300 - ra) < 0.1 * ra + 1e-3, `scaled rmse ${rb / 300} vs ${ra}`);
    const raw = fitMlpRegressor(large.X, large.y, { ...options, standardizeTarget: false });
    assert.ok(rmse(raw, large) > 10 * rb, 'without standardisation the offset is not learned in 60 epochs');
  });

  test('no hidden layer is a linear (or logistic) model', () => {
    const fit = fitMlpClassifier(X, y, 3, { hiddenLayers: [], maxEpochs: 3 });
    assert.equal(fit.model.layers.length, 1);
    assert.ok(maxAbsDiff(predictMlp(fit.model, X), naivePredict(fit.model, X)) < 1e-12);
  });

  test('bad call: non-finite features, labels out of range, bad options, mismatched model', () => {
    const nan: Matrix = { data: Float64Array.from([1, NaN]), rows: 2, cols: 1 };
    assert.throws(
      () => fitMlpClassifier(nan, Int32Array.from([0, 1]), 2),
      /non-finite value \(NaN\) at row 1/,
    );
    assert.throws(() => fitMlpClassifier(X, y, 2), /label 2 at row 2 is outside 0..1/);
    assert.throws(() => fitMlpClassifier(X, y, 1), /classes must be an integer ≥ 2/);
    assert.throws(
      () => fitMlpRegressor(wave(5, 1).X, Float64Array.from([1, 2, 3, 4, Infinity])),
      /target 4 is Infinity/,
    );
    assert.throws(
      () => fitMlpClassifier(X, y, 3, { hiddenLayers: [0] }),
      /hidden layer size must be an integer ≥ 1/,
    );
    assert.throws(() => fitMlpClassifier(X, y, 3, { dropout: 1 }), /dropout must be in \[0, 1\)/);
    assert.throws(() => fitMlpClassifier(X, y, 3, { learningRate: 0 }), /learningRate must be > 0/);
    assert.throws(() => fitMlpClassifier(X, y, 3, { batchSize: 2.5 }), /batchSize must be an integer ≥ 1/);
    const fit = fitMlpClassifier(X, y, 3, { hiddenLayers: [4], maxEpochs: 1 });
    assert.throws(() => predictMlp(fit.model, wave(3, 1).X), /X has 3 columns, the model 4 inputs/);
  });

  test('bad call: a learning rate so large that the loss diverges is reported', () => {
    const w = wave(200, 16);
    assert.throws(
      () =>
        fitMlpRegressor(w.X, w.y, {
          optimizer: 'sgd',
          learningRate: 1e3,
          hiddenLayers: [8],
          standardizeTarget: false,
          maxEpochs: 50,
        }),
      /diverged .* lower the learning rate/,
    );
  });
});
