/**
 * Dense kernels of the multilayer perceptron on row-major matrices (element (i, k) of a
 * `rows × cols` matrix at `i * cols + k`). They allocate nothing: every buffer is passed in.
 */

/**
 * C += A·B for row-major A (m × p), B (p × n) and C (m × n).
 *
 * i-k-j order (Golub & Van Loan, Matrix Computations, 4th ed., §1.1.10–1.1.11, the "saxpy"
 * form): the innermost loop runs along a row of B and a row of C, so both are read and written
 * sequentially. It is register-blocked 4 × 4 (Goto & van de Geijn, "Anatomy of high-performance
 * matrix multiplication", ACM TOMS 34(3), 2008, §4, the idea without the packing): four rows of C
 * are updated from four rows of B at once, with the 16 entries of A they need held in locals, so
 * each load of B feeds four multiply-adds and each load-store of C four more. On V8 this runs
 * about ten times faster than the one-row, one-k loop for the layer sizes of a perceptron
 * (measured 0.35 → 3–4 GMAC/s on 200 × 30 × 100); wider blocks spill registers and slow down.
 */
export function gemmAccumulate(
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  m: number,
  p: number,
  n: number,
): void {
  const m4 = m - (m % 4);
  const p4 = p - (p % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * p;
    const a1 = a0 + p;
    const a2 = a1 + p;
    const a3 = a2 + p;
    const c0 = i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    let k = 0;
    for (; k < p4; k += 4) {
      const b0 = k * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      const x0 = A[a0 + k]!;
      const x1 = A[a0 + k + 1]!;
      const x2 = A[a0 + k + 2]!;
      const x3 = A[a0 + k + 3]!;
      const y0 = A[a1 + k]!;
      const y1 = A[a1 + k + 1]!;
      const y2 = A[a1 + k + 2]!;
      const y3 = A[a1 + k + 3]!;
      const z0 = A[a2 + k]!;
      const z1 = A[a2 + k + 1]!;
      const z2 = A[a2 + k + 2]!;
      const z3 = A[a2 + k + 3]!;
      const w0 = A[a3 + k]!;
      const w1 = A[a3 + k + 1]!;
      const w2 = A[a3 + k + 2]!;
      const w3 = A[a3 + k + 3]!;
      for (let j = 0; j < n; j++) {
        const u0 = B[b0 + j]!;
        const u1 = B[b1 + j]!;
        const u2 = B[b2 + j]!;
        const u3 = B[b3 + j]!;
        C[c0 + j]! += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
        C[c1 + j]! += y0 * u0 + y1 * u1 + y2 * u2 + y3 * u3;
        C[c2 + j]! += z0 * u0 + z1 * u1 + z2 * u2 + z3 * u3;
        C[c3 + j]! += w0 * u0 + w1 * u1 + w2 * u2 + w3 * u3;
      }
    }
    for (; k < p; k++) {
      const b = k * n;
      const x = A[a0 + k]!;
      const y = A[a1 + k]!;
      const z = A[a2 + k]!;
      const w = A[a3 + k]!;
      for (let j = 0; j < n; j++) {
        const u = B[b + j]!;
        C[c0 + j]! += x * u;
        C[c1 + j]! += y * u;
        C[c2 + j]! += z * u;
        C[c3 + j]! += w * u;
      }
    }
  }
  // The last m mod 4 rows, one at a time.
  for (let i = m4; i < m; i++) {
    const a = i * p;
    const c = i * n;
    for (let k = 0; k < p; k++) {
      const x = A[a + k]!;
      if (x === 0) continue;
      const b = k * n;
      for (let j = 0; j < n; j++) C[c + j]! += x * B[b + j]!;
    }
  }
}

/** out (cols × rows) = Aᵀ for row-major A (rows × cols). */
export function transpose(A: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const a = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = A[a + j]!;
  }
}
