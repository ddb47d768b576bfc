/**
 * Limited-memory BFGS for smooth unconstrained minimisation.
 *
 * J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006:
 *  - Algorithm 7.4 (two-loop recursion) for the product H_k·∇f with the last m pairs (s_i, y_i);
 *  - eq. (7.20), H_k⁰ = γ_k·I with γ_k = sᵀy / yᵀy, so that a unit step is usually accepted;
 *  - Algorithm 7.5 (L-BFGS), the update skipped when the curvature sᵀy is not positive;
 *  - Algorithms 3.5 and 3.6 (line search for the strong Wolfe conditions, with zoom), the trial
 *    step chosen by safeguarded cubic interpolation, eq. (3.59).
 * If the Wolfe curvature test cannot be met within the evaluation budget, the best step seen that
 * satisfies the sufficient-decrease (Armijo) condition is taken, as a backtracking search would.
 */

/** Writes ∇f(x) into `grad` and returns f(x). Must not keep references to `x` or `grad`. */
export type ObjectiveFn = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Maximum number of iterations (accepted steps). Default 100. */
  readonly maxIter?: number;
  /** Converged when the largest gradient component is at most `tol`: ‖∇f‖∞ ≤ tol. Default 1e-6. */
  readonly tol?: number;
  /**
   * Also converged when one step lowers f by at most ftol·max(|f_k|, |f_{k+1}|, 1), as L-BFGS-B's
   * `factr` test. Default 64·ε ≈ 1.4e-14, the value scikit-learn passes to SciPy.
   */
  readonly ftol?: number;
  /** Number of (s, y) pairs kept, m. Default 10. */
  readonly memory?: number;
  /** Function evaluations allowed per line search. Default 40. */
  readonly maxLineSearch?: number;
  /** Called after every accepted step. */
  readonly onIteration?: (iteration: number, value: number, gradNorm: number) => void;
}

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly value: number;
  /** ‖∇f(x)‖∞ at the returned point. */
  readonly gradNorm: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly converged: boolean;
  /** Why the iteration stopped. */
  readonly reason: 'gradient' | 'reduction' | 'max_iter' | 'line_search';
}

// Sufficient-decrease and curvature constants of the Wolfe conditions (N&W §3.1: c1 = 1e-4, c2 = 0.9 for quasi-Newton).
const C1 = 1e-4;
const C2 = 0.9;

/** Minimises f from `x0` (not modified). Throws if f is not finite at `x0`. */
export function minimizeLbfgs(fg: ObjectiveFn, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-6;
  const ftol = options.ftol ?? 64 * Number.EPSILON;
  const m = Math.max(1, options.memory ?? 10);
  const maxLs = Math.max(2, options.maxLineSearch ?? 40);
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f)) throw new Error(`L-BFGS: the objective is ${f} at the starting point`);
  let gradNorm = normInf(g);
  if (gradNorm <= tol) {
    return { x, value: f, gradNorm, iterations: 0, evaluations, converged: true, reason: 'gradient' };
  }

  // Ring buffer of the last m pairs s_i = x_{i+1} − x_i, y_i = ∇f_{i+1} − ∇f_i, and ρ_i = 1 / y_iᵀs_i.
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const a = new Float64Array(m);
  let stored = 0;
  let head = 0; // slot of the next pair
  let gamma = 1;

  const d = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const search = new LineSearch(fg, n, maxLs);

  let iterations = 0;
  let reason: LbfgsResult['reason'] = 'max_iter';
  while (iterations < maxIter) {
    // Two-loop recursion (N&W Algorithm 7.4): d = −H_k·g.
    d.set(g);
    for (let k = 0; k < stored; k++) {
      const i = (head - 1 - k + m) % m;
      const ai = rho[i]! * dot(S[i]!, d);
      a[i] = ai;
      axpy(-ai, Y[i]!, d);
    }
    for (let j = 0; j < n; j++) d[j]! *= -gamma;
    for (let k = stored - 1; k >= 0; k--) {
      const i = (head - 1 - k + m) % m;
      const b = rho[i]! * dot(Y[i]!, d);
      // d holds −r here, so the update r += s(α − β) becomes d −= s(α + β) with β computed on −r.
      axpy(-(a[i]! + b), S[i]!, d);
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Rounding can make H_k·g useless; fall back to steepest descent with a fresh memory.
      stored = 0;
      gamma = 1;
      for (let j = 0; j < n; j++) d[j] = -g[j]!;
      slope = -dot(g, g);
    }

    // Without curvature information a unit step in x is a guess of the right scale (N&W §3.5).
    const alpha0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const step = search.run(x, f, d, slope, alpha0, xNew, gNew);
    evaluations += step.evaluations;
    if (!step.ok) {
      if (stored > 0) {
        // Retry once along −g before giving up: the memory may describe a different region.
        stored = 0;
        gamma = 1;
        continue;
      }
      reason = 'line_search';
      break;
    }

    // New pair; skipped if yᵀs ≤ 0, which would make H_k indefinite (N&W §7.2 and eq. 6.7).
    const s = S[head]!;
    const y = Y[head]!;
    let sy = 0;
    let yy = 0;
    for (let j = 0; j < n; j++) {
      const sj = xNew[j]! - x[j]!;
      const yj = gNew[j]! - g[j]!;
      s[j] = sj;
      y[j] = yj;
      sy += sj * yj;
      yy += yj * yj;
    }
    if (sy > Number.EPSILON * yy && yy > 0) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
      gamma = sy / yy; // eq. (7.20)
    }

    const fOld = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = step.value;
    iterations++;
    gradNorm = normInf(g);
    options.onIteration?.(iterations, f, gradNorm);
    if (gradNorm <= tol) {
      reason = 'gradient';
      break;
    }
    if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) {
      reason = 'reduction';
      break;
    }
  }
  const converged = reason === 'gradient' || reason === 'reduction';
  return { x, value: f, gradNorm, iterations, evaluations, converged, reason };
}

interface StepResult {
  readonly ok: boolean;
  readonly value: number;
  readonly evaluations: number;
}

/** Line search for the strong Wolfe conditions, N&W Algorithms 3.5 (bracketing) and 3.6 (zoom). */
class LineSearch {
  private readonly xBest: Float64Array;
  private readonly gBest: Float64Array;

  constructor(
    private readonly fg: ObjectiveFn,
    n: number,
    private readonly maxEval: number,
  ) {
    this.xBest = new Float64Array(n);
    this.gBest = new Float64Array(n);
  }

  /**
   * Searches along d from x (f(x) = f0, ∇f(x)ᵀd = slope < 0), starting with step alpha1.
   * On success the accepted point and its gradient are in `xt` and `gt`.
   */
  run(
    x: Float64Array,
    f0: number,
    d: Float64Array,
    slope: number,
    alpha1: number,
    xt: Float64Array,
    gt: Float64Array,
  ): StepResult {
    const { fg, xBest, gBest, maxEval } = this;
    const n = x.length;
    let evaluations = 0;
    let fAt = 0;
    let slopeAt = 0;
    const evaluate = (alpha: number): void => {
      for (let j = 0; j < n; j++) xt[j] = x[j]! + alpha * d[j]!;
      fAt = fg(xt, gt);
      slopeAt = dot(gt, d);
      evaluations++;
    };
    const armijo = (alpha: number, f: number): boolean => Number.isFinite(f) && f <= f0 + C1 * alpha * slope;
    const wolfe = (): boolean => Math.abs(slopeAt) <= -C2 * slope;
    // Best sufficient-decrease point so far: the fallback when the budget runs out.
    let bestAlpha = 0;
    let bestF = f0;
    const remember = (alpha: number): void => {
      if (fAt < bestF) {
        bestAlpha = alpha;
        bestF = fAt;
        xBest.set(xt);
        gBest.set(gt);
      }
    };

    // Algorithm 3.5: grow the step until it brackets a Wolfe point or satisfies both conditions.
    let prev = 0;
    let fPrev = f0;
    let slopePrev = slope;
    let alpha = alpha1;
    let lo = 0;
    let fLo = f0;
    let slopeLo = slope;
    let hi = 0;
    let fHi = f0;
    let slopeHi = slope;
    let bracketed = false;
    while (evaluations < maxEval) {
      evaluate(alpha);
      if (!armijo(alpha, fAt) || (evaluations > 1 && fAt >= fPrev)) {
        [lo, fLo, slopeLo, hi, fHi, slopeHi] = [prev, fPrev, slopePrev, alpha, fAt, slopeAt];
        bracketed = true;
        break;
      }
      remember(alpha);
      if (wolfe()) return { ok: true, value: fAt, evaluations };
      if (slopeAt >= 0) {
        [lo, fLo, slopeLo, hi, fHi, slopeHi] = [alpha, fAt, slopeAt, prev, fPrev, slopePrev];
        bracketed = true;
        break;
      }
      [prev, fPrev, slopePrev] = [alpha, fAt, slopeAt];
      alpha *= 2;
    }

    // Algorithm 3.6 (zoom): lo always satisfies sufficient decrease and has the lowest f so far.
    while (bracketed && evaluations < maxEval) {
      const width = Math.abs(hi - lo);
      if (width <= 1e-16 * Math.max(1, Math.abs(lo), Math.abs(hi))) break;
      alpha = cubicStep(lo, fLo, slopeLo, hi, fHi, slopeHi);
      evaluate(alpha);
      if (!armijo(alpha, fAt) || fAt >= fLo) {
        [hi, fHi, slopeHi] = [alpha, fAt, slopeAt];
      } else {
        remember(alpha);
        if (wolfe()) return { ok: true, value: fAt, evaluations };
        if (slopeAt * (hi - lo) >= 0) [hi, fHi, slopeHi] = [lo, fLo, slopeLo];
        [lo, fLo, slopeLo] = [alpha, fAt, slopeAt];
      }
    }

    if (bestAlpha > 0) {
      xt.set(xBest);
      gt.set(gBest);
      return { ok: true, value: bestF, evaluations };
    }
    return { ok: false, value: f0, evaluations };
  }
}

/**
 * Minimiser of the cubic that interpolates f and f' at a and b (N&W eq. 3.59), kept at least 10%
 * of the interval away from either end so that the bracket shrinks; bisection when the cubic has
 * no minimiser or a value is not finite.
 */
function cubicStep(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const margin = 0.1 * (hi - lo);
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  let t = (a + b) / 2;
  if (Number.isFinite(fb) && Number.isFinite(db) && disc >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    const c = b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
    if (Number.isFinite(c)) t = c;
  }
  return Math.min(Math.max(t, lo + margin), hi - margin);
}

function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j]! * v[j]!;
  return s;
}

/** v += α·u */
function axpy(alpha: number, u: Float64Array, v: Float64Array): void {
  for (let j = 0; j < u.length; j++) v[j]! += alpha * u[j]!;
}

function normInf(v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s = Math.max(s, Math.abs(v[j]!));
  return s;
}
