/**
 * A fully connected feed-forward network over mini-batches: forward pass, loss and gradient by
 * backpropagation (Rumelhart, Hinton & Williams, "Learning representations by back-propagating
 * errors", Nature 323, 1986; Goodfellow, Bengio & Courville, Deep Learning, 2016, §6.5), with
 * inverted dropout on the hidden units (Srivastava et al., "Dropout: a simple way to prevent
 * neural networks from overfitting", JMLR 15, 2014, scaled at training time so that prediction
 * uses the weights as they are).
 *
 * Every parameter lives in one packed vector θ, layer after layer: the weights W (nIn × nOut,
 * row-major: W[k·nOut + j] joins input unit k to output unit j), then the biases b (nOut). The
 * optimizers then update one array, and the gradient has the same layout. All buffers are sized
 * for `capacity` rows when the network is made; a batch may have fewer rows, never more.
 */
import type { Rng } from '../rng.js';
import { gemmAccumulate, transpose } from './dense.js';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid'] as const;
/** Hidden-unit nonlinearity; `sigmoid` is scikit-learn's `logistic`. */
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * The output unit(s) and the loss they pair with; each pair has the gradient δ = ŷ − y at the
 * output's pre-activation (Bishop, Pattern Recognition and Machine Learning, 2006, §5.2 and §4.3.6):
 * - `softmax`: C units, cross-entropy (C > 2 classes);
 * - `sigmoid`: one unit, binary cross-entropy (2 classes), P(class 1) = σ(z);
 * - `identity`: one unit, half squared error (regression).
 */
export type OutputKind = 'softmax' | 'sigmoid' | 'identity';

/** Targets of a batch: class indices for `softmax` and `sigmoid`, values for `identity`. */
export type Targets = Int32Array | Float64Array;

export class Network {
  /** Units per layer, input first: [F, h₁, …, h_L, K]. */
  readonly units: readonly number[];
  readonly activation: Activation;
  readonly output: OutputKind;
  readonly capacity: number;
  /** Packed parameters [W₀, b₀, W₁, b₁, …]. */
  readonly theta: Float64Array;
  /** Offsets of each layer's W and b in θ. */
  readonly weightOffset: readonly number[];
  readonly biasOffset: readonly number[];
  /** Input batch, capacity × F, row-major: fill its first `rows` rows before `forward`. */
  readonly input: Float64Array;

  private readonly layers: number;
  /** Output of layer ℓ (activations of hidden layer ℓ + 1, or the output scores for the last). */
  private readonly H: Float64Array[];
  /** Input of layer ℓ: `input` for ℓ = 0, else the previous layer's output after dropout. */
  private readonly inputs: Float64Array[];
  /** Inverted-dropout multipliers (0 or 1/(1 − p)) of each hidden layer's output; null without dropout. */
  private readonly masks: (Float64Array | null)[];
  /** ∂loss/∂(pre-activation) of layer ℓ's output. */
  private readonly deltas: Float64Array[];
  private readonly dropout: number;
  /** Scratch for a transposed layer input (nIn × rows) and transposed weights (nOut × nIn). */
  private readonly inputT: Float64Array;
  private readonly weightsT: Float64Array;

  constructor(
    units: readonly number[],
    activation: Activation,
    output: OutputKind,
    capacity: number,
    dropout = 0,
  ) {
    if (units.length < 2) throw new RangeError('a network needs an input and an output layer');
    for (const u of units) {
      if (!Number.isInteger(u) || u < 0) throw new RangeError(`layer sizes must be integers ≥ 0, got ${u}`);
    }
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${dropout}`);
    this.units = units;
    this.activation = activation;
    this.output = output;
    this.capacity = capacity;
    this.dropout = dropout;
    this.layers = units.length - 1;
    const weightOffset: number[] = [];
    const biasOffset: number[] = [];
    let size = 0;
    for (let l = 0; l < this.layers; l++) {
      weightOffset.push(size);
      size += units[l]! * units[l + 1]!;
      biasOffset.push(size);
      size += units[l + 1]!;
    }
    this.weightOffset = weightOffset;
    this.biasOffset = biasOffset;
    this.theta = new Float64Array(size);
    this.input = new Float64Array(capacity * units[0]!);
    this.H = [];
    this.inputs = [this.input];
    this.masks = [];
    this.deltas = [];
    for (let l = 0; l < this.layers; l++) {
      const width = capacity * units[l + 1]!;
      const h = new Float64Array(width);
      this.H.push(h);
      this.deltas.push(new Float64Array(width));
      const hidden = l < this.layers - 1;
      const mask = hidden && dropout > 0 ? new Float64Array(width) : null;
      this.masks.push(mask);
      if (hidden) this.inputs.push(mask ? new Float64Array(width) : h);
    }
    let widest = 0;
    let largest = 0;
    for (let l = 0; l < this.layers; l++) {
      widest = Math.max(widest, units[l]!);
      largest = Math.max(largest, units[l]! * units[l + 1]!);
    }
    this.inputT = new Float64Array(capacity * widest);
    this.weightsT = new Float64Array(largest);
  }

  /** Number of parameters. */
  get size(): number {
    return this.theta.length;
  }

  /** View of layer ℓ's weights (nIn × nOut, row-major) in `v` (θ or a gradient). */
  weights(v: Float64Array, l: number): Float64Array {
    return v.subarray(this.weightOffset[l]!, this.biasOffset[l]!);
  }

  /** View of layer ℓ's biases in `v` (θ or a gradient). */
  biases(v: Float64Array, l: number): Float64Array {
    return v.subarray(this.biasOffset[l]!, this.biasOffset[l]! + this.units[l + 1]!);
  }

  /**
   * Glorot & Bengio's uniform initialisation ("Understanding the difficulty of training deep
   * feedforward neural networks", AISTATS 2010, eq. 16) as scikit-learn's `_init_coef`: weights and
   * biases of each layer drawn from U(−r, r) with r = √(6 / (fan_in + fan_out)), and
   * r = √(2 / (fan_in + fan_out)) for sigmoid units.
   */
  initialise(rng: Rng): void {
    const factor = this.activation === 'sigmoid' ? 2 : 6;
    for (let l = 0; l < this.layers; l++) {
      const r = Math.sqrt(factor / (this.units[l]! + this.units[l + 1]!));
      const from = this.weightOffset[l]!;
      const to = this.biasOffset[l]! + this.units[l + 1]!;
      for (let p = from; p < to; p++) this.theta[p] = r * (2 * rng.next() - 1);
    }
  }

  /**
   * Forward pass over the first `rows` rows of `input`. With `rng`, hidden units are dropped
   * (training); without, the network is deterministic (prediction). Returns the output scores
   * (rows × K, row-major, before softmax or sigmoid): a view valid until the next call.
   */
  forward(rows: number, rng?: Rng): Float64Array {
    const theta = this.theta;
    for (let l = 0; l < this.layers; l++) {
      const nIn = this.units[l]!;
      const nOut = this.units[l + 1]!;
      const Z = this.H[l]!;
      // Z = A·W + 1·bᵀ: each row starts as the biases.
      const b = this.biases(theta, l);
      for (let i = 0; i < rows; i++) Z.set(b, i * nOut);
      gemmAccumulate(this.inputs[l]!, this.weights(theta, l), Z, rows, nIn, nOut);
      if (l === this.layers - 1) break;
      activate(this.activation, Z, rows * nOut);
      const mask = this.masks[l];
      if (mask && rng) this.drop(Z, mask, this.inputs[l + 1]!, rows * nOut, rng);
      else if (mask) this.inputs[l + 1]!.set(Z.subarray(0, rows * nOut));
    }
    return this.H[this.layers - 1]!.subarray(0, rows * this.units[this.layers]!);
  }

  /** Keeps each unit with probability 1 − p and scales the kept ones by 1/(1 − p). */
  private drop(H: Float64Array, mask: Float64Array, out: Float64Array, count: number, rng: Rng): void {
    // One 32-bit draw per unit: unit dropped when u < p·2³².
    const threshold = this.dropout * 4294967296;
    const scale = 1 / (1 - this.dropout);
    for (let p = 0; p < count; p++) {
      const m = rng.nextUint32() < threshold ? 0 : scale;
      mask[p] = m;
      out[p] = H[p]! * m;
    }
  }

  /**
   * Mean loss over the batch plus the L2 penalty, and its gradient with respect to θ written into
   * `grad` (same layout as θ), as scikit-learn's `_backprop`:
   *   J(θ) = (1/B)·Σᵢ ℓ(yᵢ, f(xᵢ; θ)) + (α / 2B)·Σ_ℓ ‖W_ℓ‖²   (biases not penalised).
   * The first `rows` rows of `input` are the batch and `y[0..rows)` its targets. With `rng`,
   * dropout is applied (a different mask on every call).
   */
  lossAndGradient(rows: number, y: Targets, alpha: number, grad: Float64Array, rng?: Rng): number {
    const L = this.layers;
    const K = this.units[L]!;
    const Z = this.forward(rows, rng);
    const D = this.deltas[L - 1]!;
    let loss = 0;
    // δ at the output is (ŷ − y) / B; dividing here makes every later product a batch mean.
    const inv = 1 / rows;
    if (this.output === 'identity') {
      for (let i = 0; i < rows; i++) {
        const r = Z[i]! - y[i]!;
        loss += 0.5 * r * r;
        D[i] = r * inv;
      }
    } else if (this.output === 'sigmoid') {
      for (let i = 0; i < rows; i++) {
        // ℓ = log(1 + e^z) − y·z, written with e = exp(−|z|) ≤ 1 so that nothing overflows.
        const z = Z[i]!;
        const e = Math.exp(-Math.abs(z));
        const yi = y[i]!;
        loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
        D[i] = ((z >= 0 ? 1 : e) / (1 + e) - yi) * inv;
      }
    } else {
      for (let i = 0; i < rows; i++) {
        // ℓ = log Σ_c e^{z_c} − z_y, shifted by the row maximum.
        const o = i * K;
        let max = -Infinity;
        for (let c = 0; c < K; c++) max = Math.max(max, Z[o + c]!);
        let sum = 0;
        for (let c = 0; c < K; c++) {
          const e = Math.exp(Z[o + c]! - max);
          D[o + c] = e;
          sum += e;
        }
        const yi = y[i]!;
        loss += max + Math.log(sum) - Z[o + yi]!;
        const scale = inv / sum;
        for (let c = 0; c < K; c++) D[o + c]! *= scale;
        D[o + yi]! -= inv;
      }
    }
    loss *= inv;

    const theta = this.theta;
    let penalty = 0;
    for (let l = L - 1; l >= 0; l--) {
      const nIn = this.units[l]!;
      const nOut = this.units[l + 1]!;
      const W = this.weights(theta, l);
      const G = this.weights(grad, l);
      const D = this.deltas[l]!;
      // ∇_W = Aᵀ·δ (summed over the batch; δ already carries 1/B), ∇_b = δᵀ·1.
      transpose(this.inputs[l]!, rows, nIn, this.inputT);
      G.fill(0);
      gemmAccumulate(this.inputT, D, G, nIn, rows, nOut);
      const g = this.biases(grad, l);
      g.fill(0);
      for (let i = 0; i < rows; i++) {
        const d = i * nOut;
        for (let j = 0; j < nOut; j++) g[j]! += D[d + j]!;
      }
      // ∇_W of (α / 2B)·‖W‖² is (α / B)·W.
      const decay = alpha * inv;
      for (let p = 0; p < W.length; p++) {
        const w = W[p]!;
        penalty += w * w;
        G[p]! += decay * w;
      }
      if (l > 0) this.backpropagate(l, rows);
    }
    return loss + 0.5 * alpha * penalty * inv;
  }

  /**
   * δ_{ℓ−1} = (δ_ℓ·W_ℓᵀ) ⊙ m ⊙ f′(H_{ℓ−1}): the chain rule through layer ℓ, its input's dropout mask
   * m and the activation of the layer below. f′ is written in terms of the activation's value:
   * ReLU 1[h > 0], tanh 1 − h², sigmoid h(1 − h).
   */
  private backpropagate(l: number, rows: number): void {
    const nIn = this.units[l]!;
    const nOut = this.units[l + 1]!;
    const E = this.deltas[l - 1]!;
    const H = this.H[l - 1]!;
    const mask = this.masks[l - 1] ?? null;
    const count = rows * nIn;
    transpose(this.weights(this.theta, l), nIn, nOut, this.weightsT);
    E.fill(0, 0, count);
    gemmAccumulate(this.deltas[l]!, this.weightsT, E, rows, nOut, nIn);
    if (mask) for (let p = 0; p < count; p++) E[p]! *= mask[p]!;
    // Multiplied by the derivative rather than branched on, for the reason given in `activate`.
    switch (this.activation) {
      case 'relu':
        for (let p = 0; p < count; p++) E[p]! *= +(H[p]! > 0);
        break;
      case 'tanh':
        for (let p = 0; p < count; p++) {
          const h = H[p]!;
          E[p]! *= 1 - h * h;
        }
        break;
      case 'sigmoid':
        for (let p = 0; p < count; p++) {
          const h = H[p]!;
          E[p]! *= h * (1 - h);
        }
        break;
    }
  }
}

/** h = f(z) in place over the first `count` entries. */
function activate(activation: Activation, Z: Float64Array, count: number): void {
  switch (activation) {
    case 'relu':
      // max(z, 0) = (z + |z|) / 2, exact in floating point, and without a branch: ReLU's signs
      // are as unpredictable as coin tosses, and mispredictions made the branchy loop 6× slower.
      for (let p = 0; p < count; p++) {
        const z = Z[p]!;
        Z[p] = 0.5 * (z + Math.abs(z));
      }
      break;
    case 'tanh':
      for (let p = 0; p < count; p++) Z[p] = Math.tanh(Z[p]!);
      break;
    case 'sigmoid':
      for (let p = 0; p < count; p++) Z[p] = 1 / (1 + Math.exp(-Z[p]!));
      break;
  }
}
