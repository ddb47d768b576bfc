import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { minimizeLbfgs, type ObjectiveFn } from '../../src/ml/lbfgs.js';

/**
 * Extended Rosenbrock function Σ 100(x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})², minimum 0 at (1, …, 1)
 * (N&W Exercise 2.1; Moré, Garbow & Hillstrom, ACM TOMS 7(1), 1981, problem 21).
 */
const rosenbrock: ObjectiveFn = (x, g) => {
  let f = 0;
  for (let i = 0; i + 1 < x.length; i += 2) {
    const a = x[i]!;
    const b = x[i + 1]!;
    const t1 = b - a * a;
    const t2 = 1 - a;
    f += 100 * t1 * t1 + t2 * t2;
    g[i] = -400 * a * t1 - 2 * t2;
    g[i + 1] = 200 * t1;
  }
  return f;
};

describe('minimizeLbfgs', () => {
  test('Rosenbrock from the classic start (−1.2, 1) reaches (1, 1)', () => {
    const values: number[] = [];
    const r = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      maxIter: 200,
      tol: 1e-8,
      onIteration: (_, value) => values.push(value),
    });
    assert.ok(r.converged, r.reason);
    assert.equal(r.reason, 'gradient');
    assert.ok(
      Math.abs(r.x[0]! - 1) < 1e-6 && Math.abs(r.x[1]! - 1) < 1e-6,
      `x = ${Array.from(r.x).join(', ')}`,
    );
    assert.ok(r.value < 1e-12);
    // A quasi-Newton method needs a few dozen iterations along the curved valley.
    assert.ok(r.iterations < 60, `${r.iterations} iterations`);
    // The Wolfe line search only accepts steps that lower f.
    for (let k = 1; k < values.length; k++) assert.ok(values[k]! < values[k - 1]!);
  });

  test('extended Rosenbrock in 100 dimensions', () => {
    const x0 = Float64Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const r = minimizeLbfgs(rosenbrock, x0, { maxIter: 1000, tol: 1e-7 });
    assert.ok(r.converged, r.reason);
    for (const xi of r.x) assert.ok(Math.abs(xi - 1) < 1e-5);
    assert.equal(x0[0], -1.2, 'x0 is not modified');
  });

  test('a badly scaled quadratic is solved to the exact minimiser, at the pace of SciPy', () => {
    // f(x) = ½ Σ d_i (x_i − 1)², d_i log-spaced from 1 to 10³ (50 dimensions). SciPy's L-BFGS-B with
    // maxcor=10, gtol=1e-8, ftol=0 needs 329 iterations; a slower pace would point to a wrong recursion.
    const n = 50;
    const d = Float64Array.from({ length: n }, (_, i) => 10 ** ((3 * i) / (n - 1)));
    const f: ObjectiveFn = (x, g) => {
      let v = 0;
      for (let i = 0; i < n; i++) {
        const e = x[i]! - 1;
        v += 0.5 * d[i]! * e * e;
        g[i] = d[i]! * e;
      }
      return v;
    };
    const r = minimizeLbfgs(f, new Float64Array(n), { maxIter: 1000, tol: 1e-8, ftol: 0 });
    assert.equal(r.reason, 'gradient');
    assert.ok(r.iterations < 400, `${r.iterations} iterations`);
    // |x_i − 1| = |g_i| / d_i ≤ tol.
    for (let i = 0; i < n; i++) assert.ok(Math.abs(r.x[i]! - 1) <= 1e-8);
  });

  test('stops at maxIter without claiming convergence', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIter: 3, tol: 1e-12 });
    assert.equal(r.iterations, 3);
    assert.equal(r.converged, false);
    assert.equal(r.reason, 'max_iter');
  });

  test('already optimal: zero iterations', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.from([1, 1]));
    assert.equal(r.iterations, 0);
    assert.ok(r.converged);
  });

  test('steps through regions where f is infinite', () => {
    // f = −log(1 − t²) + t is +∞ outside (−1, 1); the first trial step from 0.9 leaves the domain.
    const f: ObjectiveFn = (x, g) => {
      const t = x[0]!;
      if (Math.abs(t) >= 1) {
        g[0] = NaN;
        return Infinity;
      }
      g[0] = (2 * t) / (1 - t * t) + 1;
      return -Math.log(1 - t * t) + t;
    };
    const r = minimizeLbfgs(f, Float64Array.from([0.9]), { tol: 1e-10 });
    assert.ok(r.converged, r.reason);
    // f'(t) = 0 ⇔ t² − 2t − 1 = 0 ⇔ t = 1 − √2.
    assert.ok(Math.abs(r.x[0]! - (1 - Math.SQRT2)) < 1e-9);
  });

  test('bad call: an objective that is not finite at x0 throws', () => {
    assert.throws(() => minimizeLbfgs(() => NaN, new Float64Array(2)), /not finite|NaN/);
  });
});
