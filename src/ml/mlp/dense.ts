/**
 * Dense kernels of the multilayer perceptron on row-major mini-batch matrices (element (i, k) of
 * a `rows × cols` matrix at `i * cols + k`). They allocate nothing: every buffer is passed in.
 *
 * The products are written in i-k-j order (Golub & Van Loan, Matrix Computations, 4th ed.,
 * §1.1.10–1.1.11, the "saxpy" form): the innermost loop runs along one row of the weights and
 * one row of the output, so both are read and written sequentially, and one entry of the left
 * matrix is hoisted out of it. An entry equal to zero (ReLU's negative half, dropped units)
 * skips its whole row of the weights, which is exact because 0·w adds nothing.
 */

/** Z = A·W + 1·bᵀ: A is rows × nIn, W is nIn × nOut, b has nOut entries, Z is rows × nOut. */
export function affine(
  A: Float64Array,
  W: Float64Array,
  b: Float64Array,
  Z: Float64Array,
  rows: number,
  nIn: number,
  nOut: number,
): void {
  if (nOut === 1) {
    // One output unit (binary classifier, regression): a dot product per row, no saxpy of length 1.
    const b0 = b[0]!;
    for (let i = 0; i < rows; i++) {
      const a = i * nIn;
      let s = b0;
      for (let k = 0; k < nIn; k++) s += A[a + k]! * W[k]!;
      Z[i] = s;
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    const a = i * nIn;
    const z = i * nOut;
    for (let j = 0; j < nOut; j++) Z[z + j] = b[j]!;
    for (let k = 0; k < nIn; k++) {
      const aik = A[a + k]!;
      if (aik === 0) continue;
      const w = k * nOut;
      for (let j = 0; j < nOut; j++) Z[z + j]! += aik * W[w + j]!;
    }
  }
}

/**
 * G = Aᵀ·D and g = Dᵀ·1, the gradients of a layer's weights and biases summed over the batch
 * (overwritten, not accumulated): A is rows × nIn, D rows × nOut, G nIn × nOut, g nOut.
 * Row by row of the batch, so that A and D are read once and sequentially; G (nIn·nOut entries)
 * stays in cache for layers of the usual widths.
 */
export function weightGradient(
  A: Float64Array,
  D: Float64Array,
  G: Float64Array,
  g: Float64Array,
  rows: number,
  nIn: number,
  nOut: number,
): void {
  G.fill(0, 0, nIn * nOut);
  g.fill(0, 0, nOut);
  for (let i = 0; i < rows; i++) {
    const a = i * nIn;
    const d = i * nOut;
    for (let j = 0; j < nOut; j++) g[j]! += D[d + j]!;
    for (let k = 0; k < nIn; k++) {
      const aik = A[a + k]!;
      if (aik === 0) continue;
      const w = k * nOut;
      for (let j = 0; j < nOut; j++) G[w + j]! += aik * D[d + j]!;
    }
  }
}

/**
 * E = D·Wᵀ, the gradient with respect to a layer's input: D is rows × nOut, W nIn × nOut, E rows ×
 * nIn. Entry (i, k) is the dot product of row i of D with row k of W, both contiguous. Where
 * `skip` (rows × nIn) is zero the entry is not needed (a unit whose derivative or dropout mask is
 * zero) and is set to zero without computing it.
 */
export function inputGradient(
  D: Float64Array,
  W: Float64Array,
  E: Float64Array,
  skip: Float64Array | null,
  rows: number,
  nIn: number,
  nOut: number,
): void {
  for (let i = 0; i < rows; i++) {
    const d = i * nOut;
    const e = i * nIn;
    for (let k = 0; k < nIn; k++) {
      if (skip !== null && skip[e + k] === 0) {
        E[e + k] = 0;
        continue;
      }
      const w = k * nOut;
      let s = 0;
      for (let j = 0; j < nOut; j++) s += D[d + j]! * W[w + j]!;
      E[e + k] = s;
    }
  }
}
