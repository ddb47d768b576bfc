/**
 * First-order optimizers over one packed parameter vector θ. Each `step` reads the gradient g of
 * the mini-batch objective and updates θ in place; the state (velocity, accumulated squares,
 * moments) is allocated once, at construction.
 */

export const OPTIMIZERS = ['adam', 'sgd', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  /** Step size η (scikit-learn's `learning_rate_init`). */
  readonly learningRate: number;
  /** SGD: momentum μ in [0, 1). */
  readonly momentum: number;
  /** SGD: Nesterov's accelerated gradient instead of classical momentum. */
  readonly nesterov: boolean;
  /** Adam: decay rates of the first and second moment estimates, in [0, 1). */
  readonly beta1: number;
  readonly beta2: number;
  /** Adam and Adagrad: added to the denominator for numerical stability. */
  readonly epsilon: number;
}

export interface Optimizer {
  step(theta: Float64Array, grad: Float64Array): void;
}

export function createOptimizer(name: OptimizerName, size: number, options: OptimizerOptions): Optimizer {
  switch (name) {
    case 'sgd':
      return sgd(size, options);
    case 'adagrad':
      return adagrad(size, options);
    case 'adam':
      return adam(size, options);
  }
}

/**
 * Stochastic gradient descent with momentum, in the form of scikit-learn's `SGDOptimizer`:
 * v ← μv − ηg, then θ ← θ + v (classical, Polyak 1964) or θ ← θ + μv − ηg (Nesterov's momentum as
 * rewritten by Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and
 * momentum in deep learning", ICML 2013, eq. 7, and Bengio et al. 2013).
 */
function sgd(size: number, o: OptimizerOptions): Optimizer {
  const v = new Float64Array(size);
  const { learningRate: eta, momentum: mu, nesterov } = o;
  return {
    step(theta, g) {
      for (let p = 0; p < size; p++) {
        const gp = g[p]!;
        const vp = mu * v[p]! - eta * gp;
        v[p] = vp;
        theta[p]! += nesterov ? mu * vp - eta * gp : vp;
      }
    },
  };
}

/**
 * Adagrad (Duchi, Hazan & Singer, "Adaptive subgradient methods for online learning and
 * stochastic optimization", JMLR 12, 2011, diagonal form): G ← G + g², θ ← θ − η·g / (√G + ε).
 */
function adagrad(size: number, o: OptimizerOptions): Optimizer {
  const G = new Float64Array(size);
  const { learningRate: eta, epsilon } = o;
  return {
    step(theta, g) {
      for (let p = 0; p < size; p++) {
        const gp = g[p]!;
        const Gp = G[p]! + gp * gp;
        G[p] = Gp;
        theta[p]! -= (eta * gp) / (Math.sqrt(Gp) + epsilon);
      }
    },
  };
}

/**
 * Adam (Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015, Algorithm 1 with
 * the bias corrections folded into the step size as in its §2): m ← β₁m + (1 − β₁)g,
 * v ← β₂v + (1 − β₂)g², η_t = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ), θ ← θ − η_t·m / (√v + ε).
 * This is also scikit-learn's `AdamOptimizer`.
 */
function adam(size: number, o: OptimizerOptions): Optimizer {
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const { learningRate: eta, beta1, beta2, epsilon } = o;
  let t = 0;
  return {
    step(theta, g) {
      t++;
      const etaT = (eta * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      for (let p = 0; p < size; p++) {
        const gp = g[p]!;
        const mp = beta1 * m[p]! + (1 - beta1) * gp;
        const vp = beta2 * v[p]! + (1 - beta2) * gp * gp;
        m[p] = mp;
        v[p] = vp;
        theta[p]! -= (etaT * mp) / (Math.sqrt(vp) + epsilon);
      }
    },
  };
}
