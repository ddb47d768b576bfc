/**
 * Gradient histograms over row-major bins, the inner loop of histogram boosting (Ke et al. 2017,
 * Algorithm 1; Chen & Guestrin 2016, §4.1 on row-wise layout). For each row of a node: its
 * gradient g and hessian h are read once and added to the bin of every feature, whose bytes sit
 * side by side in one cache line. A histogram holds, per feature, BIN_SLOTS bins of three doubles:
 * Σg, Σh and the row count.
 *
 * The same function runs on the calling thread and in `histogram-worker.ts`, each on its share of
 * the features, over buffers shared between them.
 */
import { BIN_SLOTS, MISSING_BIN } from './binning.js';

/** Doubles per bin: Σg, Σh, count. */
export const STRIDE = 3;
/** Doubles per feature in a histogram. */
export const FEATURE_SPAN = BIN_SLOTS * STRIDE;

/** Zeroes the slots feature f can use: its value bins and the missing bin. */
export function clearFeature(hist: Float64Array, f: number, nBins: number): void {
  const offset = f * FEATURE_SPAN;
  hist.fill(0, offset, offset + nBins * STRIDE);
  hist.fill(0, offset + MISSING_BIN * STRIDE, offset + FEATURE_SPAN);
}

/**
 * Fills the histograms of features features[tFrom..tTo) from rows order[begin..end) of the
 * row-major bins (F bytes per row). `gh` interleaves each row's gradient and hessian
 * (gh[2i], gh[2i + 1]), so both come from one cache line; `unitHessian` ignores the hessians
 * and counts 1 per row (squared error). `identity` says features[t] = t, which lets the inner
 * loop run without the indirection (a fifth faster).
 */
export function buildRowMajor(
  hist: Float64Array,
  rowBins: Uint8Array,
  F: number,
  nBins: Int32Array,
  order: Uint32Array,
  begin: number,
  end: number,
  gh: Float64Array,
  unitHessian: boolean,
  features: Int32Array,
  identity: boolean,
  tFrom: number,
  tTo: number,
): void {
  for (let t = tFrom; t < tTo; t++) clearFeature(hist, features[t]!, nBins[features[t]!]!);
  if (identity) {
    if (unitHessian) buildIdentity(hist, rowBins, F, order, begin, end, gh, 0, tFrom, tTo);
    else buildIdentity(hist, rowBins, F, order, begin, end, gh, 1, tFrom, tTo);
    return;
  }
  for (let k = begin; k < end; k++) {
    const i = order[k]!;
    const g = gh[2 * i]!;
    const h = unitHessian ? 1 : gh[2 * i + 1]!;
    const base = i * F;
    for (let t = tFrom; t < tTo; t++) {
      const f = features[t]!;
      const o = f * FEATURE_SPAN + rowBins[base + f]! * STRIDE;
      hist[o]! += g;
      hist[o + 1]! += h;
      hist[o + 2]! += 1;
    }
  }
}

/**
 * Copies the bins (W words per row) and gradients of rows order[begin..end) from `source` and
 * `ghRow` (indexed by row) to positions begin..end of `work` and `gh`, for a sequential build.
 * With unit hessians only the gradients are copied.
 */
export function gatherRows(
  order: Uint32Array,
  source: Uint32Array,
  ghRow: Float64Array,
  work: Uint32Array,
  gh: Float64Array,
  W: number,
  unitHessian: boolean,
  begin: number,
  end: number,
): void {
  for (let k = begin; k < end; k++) {
    const i = order[k]!;
    for (let from = i * W, to = k * W, stop = from + W; from < stop; from += 4, to += 4) {
      work[to] = source[from]!;
      work[to + 1] = source[from + 1]!;
      work[to + 2] = source[from + 2]!;
      work[to + 3] = source[from + 3]!;
    }
    gh[2 * k] = ghRow[2 * i]!;
    if (!unitHessian) gh[2 * k + 1] = ghRow[2 * i + 1]!;
  }
}

/** parent −= child over the used slots of features[tFrom..tTo) (the histogram subtraction trick). */
export function subtractHistograms(
  parent: Float64Array,
  child: Float64Array,
  nBins: Int32Array,
  features: Int32Array,
  tFrom: number,
  tTo: number,
): void {
  for (let t = tFrom; t < tTo; t++) {
    const f = features[t]!;
    const from = f * FEATURE_SPAN;
    const to = from + nBins[f]! * STRIDE;
    for (let o = from; o < to; o++) parent[o]! -= child[o]!;
    for (let o = from + MISSING_BIN * STRIDE; o < from + FEATURE_SPAN; o++) parent[o]! -= child[o]!;
  }
}

/** Row-major copy of column-major bins, so that a row's features are adjacent. */
export function toRowMajor(bins: Uint8Array, rows: number, cols: number, shared = false): Uint8Array {
  const out = shared ? new Uint8Array(new SharedArrayBuffer(rows * cols)) : new Uint8Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const base = j * rows;
    for (let i = 0; i < rows; i++) out[i * cols + j] = bins[base + i]!;
  }
  return out;
}

/**
 * The identity-feature loop: features tFrom..tTo−1 of each row are adjacent bytes, read through
 * one moving index, several features per step so that their independent updates overlap.
 * `hessianOffset` 1 reads the hessian at gh[2i + 1]; 0 means unit hessians, whose sum is the
 * count: the hessian slot is then left alone.
 */
function buildIdentity(
  hist: Float64Array,
  rowBins: Uint8Array,
  F: number,
  order: Uint32Array,
  begin: number,
  end: number,
  gh: Float64Array,
  hessianOffset: 0 | 1,
  tFrom: number,
  tTo: number,
): void {
  const span = FEATURE_SPAN;
  if (hessianOffset === 0) {
    // Unit hessians: the hessian sum equals the count, so only Σg and the count are written
    // (the grower reads the count as the hessian).
    for (let k = begin; k < end; k++) {
      const i = order[k]!;
      const g = gh[2 * i]!;
      let p = i * F + tFrom;
      const pEnd = i * F + tTo;
      let offset = tFrom * span;
      for (; p + 1 < pEnd; p += 2, offset += 2 * span) {
        const o = offset + rowBins[p]! * STRIDE;
        const q = offset + span + rowBins[p + 1]! * STRIDE;
        hist[o]! += g;
        hist[o + 2]! += 1;
        hist[q]! += g;
        hist[q + 2]! += 1;
      }
      if (p < pEnd) {
        const o = offset + rowBins[p]! * STRIDE;
        hist[o]! += g;
        hist[o + 2]! += 1;
      }
    }
    return;
  }
  for (let k = begin; k < end; k++) {
    const i = order[k]!;
    const g = gh[2 * i]!;
    const h = gh[2 * i + 1]!;
    let p = i * F + tFrom;
    const pEnd = i * F + tTo;
    let offset = tFrom * span;
    for (; p + 2 < pEnd; p += 3, offset += 3 * span) {
      const o = offset + rowBins[p]! * STRIDE;
      const q = offset + span + rowBins[p + 1]! * STRIDE;
      const r = offset + 2 * span + rowBins[p + 2]! * STRIDE;
      hist[o]! += g;
      hist[o + 1]! += h;
      hist[o + 2]! += 1;
      hist[q]! += g;
      hist[q + 1]! += h;
      hist[q + 2]! += 1;
      hist[r]! += g;
      hist[r + 1]! += h;
      hist[r + 2]! += 1;
    }
    for (; p < pEnd; p++, offset += span) {
      const o = offset + rowBins[p]! * STRIDE;
      hist[o]! += g;
      hist[o + 1]! += h;
      hist[o + 2]! += 1;
    }
  }
}

/**
 * Packed histograms: fixed-point sums, exact in any order. A bin holds, in its first double, the
 * row count and the gradient sum at once: each row contributes v = q + 2^C, where q is its
 * gradient in fixed point (an integer, see `packGradients`), so the bin sums to Σq + count·2^C.
 * With hessians other than 1 a second double sums them, in fixed point too (`packHessians`).
 * Every sum is an integer below 2^53, so the histogram does not depend on the order of the rows
 * or on how they are split between threads, and parent − child is exact. Per row and feature
 * this is one read-modify-write (two with hessians) instead of two (three), in a histogram a
 * third (two thirds) the size.
 */
export const PACKED_SPAN = BIN_SLOTS + 8;
// (Eight doubles of padding a feature: with 256 a feature's histogram took 2 KiB, so features
// two apart sat a multiple of 4 KiB apart, and on x86 a load whose address matches an earlier
// store's in its low 12 bits waits for that store ("4K aliasing"). With few bins per feature
// (digits: 17) nearly every update did: 3.3 ns an update instead of 0.4 in WebAssembly.)

/** 1.5·2^52: x + ROUND − ROUND is x rounded to the nearest integer (ties to even) for |x| < 2^51. */
export const ROUND = 6755399441055744;

/** Fixed-point encoding of one tree's gradients (and hessians): see `packGradients`. */
export interface GradientPacking {
  /** 2^C: the weight of one row in a packed sum. */
  readonly unit: number;
  /** 2^−C. */
  readonly invUnit: number;
  /** The gradient of a fixed-point step: q · step is the gradient used. */
  readonly step: number;
  /** Doubles per bin: 1 (unit hessians: the count is the hessian sum) or 2 (a hessian sum too). */
  readonly slots: 1 | 2;
  /** The hessian of a fixed-point step (slots = 2). */
  readonly hessianStep: number;
}

/** Rows above which packing is not used: the fixed point would keep fewer than ~10 bits per gradient. */
export const PACK_MAX_ROWS = 1 << 20;

/**
 * Encodes the gradients of n rows for packed histograms: packed[2i] = round(g_i / step) + 2^C
 * and exact[i] = round(g_i / step) · step, the gradient the tree is grown on (every sum of those
 * is exact too, so searches from rows and from histograms agree to the last bit). C leaves room
 * for a count of n rows below 2^52; the step (a power of two) makes Σ|q| < 2^(C−1), so a bin's
 * count and sum never overlap. The step is about 2^−(50 − 2·log2 n) of the mean |g| (2^−15 at
 * 160,000 rows, 2^−10 at a million), far below what splits and leaf values can tell apart (LightGBM's
 * quantized training keeps 4 to 8 bits). Returns null when the gradients cannot be packed (too
 * many rows, or not finite).
 */
export function packGradients(
  grad: Float64Array,
  n: number,
  packed: Float64Array,
  exact: Float64Array,
): GradientPacking | null {
  if (n > PACK_MAX_ROWS) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(grad[i]!);
  if (!Number.isFinite(sum)) return null;
  const countBits = Math.ceil(Math.log2(n + 1));
  const C = 52 - countBits;
  // step = 2^e with sum / step ≤ 2^(C−2): then Σ|q| ≤ 2^(C−2) + n/2 < 2^(C−1).
  const e = sum > 0 ? Math.ceil(Math.log2(sum)) - (C - 2) : 0;
  if (e < -1000 || e > 1000) return null;
  const step = 2 ** e;
  const inv = 2 ** -e;
  const unit = 2 ** C;
  // Round to the nearest integer by adding and removing 1.5·2^52 (exact, as |g / step| < 2^50):
  // four times faster than Math.round here.
  for (let i = 0; i < n; i++) {
    const q = grad[i]! * inv + ROUND - ROUND;
    packed[2 * i] = q + unit;
    exact[i] = q * step;
  }
  return { unit, invUnit: 2 ** -C, step, slots: 1, hessianStep: 1 };
}

/**
 * Adds non-negative hessians to a packing: packed[2i + 1] = round(h_i / hessianStep) and
 * exact[i] = that · hessianStep, with Σ round(h_i / hessianStep) ≤ 2^51 (about 2^−51 of the sum
 * per step). Returns null when a hessian is negative or not finite.
 */
export function packHessians(
  packing: GradientPacking,
  hess: Float64Array,
  n: number,
  packed: Float64Array,
  exact: Float64Array,
): GradientPacking | null {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const h = hess[i]!;
    if (!(h >= 0)) return null;
    sum += h;
  }
  if (!Number.isFinite(sum)) return null;
  const e = sum > 0 ? Math.ceil(Math.log2(sum)) - 50 : 0;
  if (e < -1000 || e > 1000) return null;
  const step = 2 ** e;
  const inv = 2 ** -e;
  for (let i = 0; i < n; i++) {
    const q = hess[i]! * inv + ROUND - ROUND;
    packed[2 * i + 1] = q;
    exact[i] = q * step;
  }
  return { ...packing, slots: 2, hessianStep: step };
}

/**
 * Packed histograms of features features[tFrom..tTo) from rows order[begin..end) of the
 * row-major bins, each row's packed values at v[2i] (and v[2i + 1] with two slots: the layout of
 * `gh`, so `gatherRows` moves them).
 */
export function buildPacked(
  hist: Float64Array,
  rowBins: Uint8Array,
  F: number,
  order: Uint32Array,
  begin: number,
  end: number,
  v: Float64Array,
  slots: 1 | 2,
  nBins: Int32Array,
  features: Int32Array,
  identity: boolean,
  tFrom: number,
  tTo: number,
  /** False to add to the histogram as it is (a build in chunks). */
  clear = true,
): void {
  if (clear) clearPacked(hist, slots, nBins, features, tFrom, tTo);
  const span = PACKED_SPAN * slots;
  if (!identity) {
    for (let k = begin; k < end; k++) {
      const i = order[k]!;
      const x = v[2 * i]!;
      const y = v[2 * i + 1]!;
      const base = i * F;
      for (let t = tFrom; t < tTo; t++) {
        const f = features[t]!;
        const o = f * span + rowBins[base + f]! * slots;
        hist[o]! += x;
        if (slots === 2) hist[o + 1]! += y;
      }
    }
    return;
  }
  if (slots === 2) {
    for (let k = begin; k < end; k++) {
      const i = order[k]!;
      const x = v[2 * i]!;
      const y = v[2 * i + 1]!;
      let p = i * F + tFrom;
      const pEnd = i * F + tTo;
      let offset = tFrom * span;
      for (; p + 1 < pEnd; p += 2, offset += 2 * span) {
        const o = offset + rowBins[p]! * 2;
        const q = offset + span + rowBins[p + 1]! * 2;
        hist[o]! += x;
        hist[o + 1]! += y;
        hist[q]! += x;
        hist[q + 1]! += y;
      }
      if (p < pEnd) {
        const o = offset + rowBins[p]! * 2;
        hist[o]! += x;
        hist[o + 1]! += y;
      }
    }
    return;
  }
  // Three features per step, so that their independent updates overlap.
  for (let k = begin; k < end; k++) {
    const i = order[k]!;
    const x = v[2 * i]!;
    let p = i * F + tFrom;
    const pEnd = i * F + tTo;
    let offset = tFrom * span;
    for (; p + 2 < pEnd; p += 3, offset += 3 * span) {
      hist[offset + rowBins[p]!]! += x;
      hist[offset + span + rowBins[p + 1]!]! += x;
      hist[offset + 2 * span + rowBins[p + 2]!]! += x;
    }
    for (; p < pEnd; p++, offset += span) hist[offset + rowBins[p]!]! += x;
  }
}

/** Zeroes the packed histograms of features features[tFrom..tTo). */
export function clearPacked(
  hist: Float64Array,
  slots: 1 | 2,
  nBins: Int32Array,
  features: Int32Array,
  tFrom: number,
  tTo: number,
): void {
  const span = PACKED_SPAN * slots;
  for (let t = tFrom; t < tTo; t++) {
    const f = features[t]!;
    const o = f * span;
    // The slots feature f can use: its value bins and the missing bin.
    hist.fill(0, o, o + nBins[f]! * slots);
    hist.fill(0, o + MISSING_BIN * slots, o + span);
  }
}

/** parent −= child (sign −1) or parent += child (sign 1) over packed features features[tFrom..tTo). */
export function combinePacked(
  parent: Float64Array,
  child: Float64Array,
  sign: 1 | -1,
  slots: 1 | 2,
  nBins: Int32Array,
  features: Int32Array,
  tFrom: number,
  tTo: number,
): void {
  const span = PACKED_SPAN * slots;
  for (let t = tFrom; t < tTo; t++) {
    const f = features[t]!;
    const from = f * span;
    const to = from + nBins[f]! * slots;
    const missing = from + MISSING_BIN * slots;
    if (sign < 0) {
      for (let o = from; o < to; o++) parent[o]! -= child[o]!;
      for (let o = missing; o < from + span; o++) parent[o]! -= child[o]!;
    } else {
      for (let o = from; o < to; o++) parent[o]! += child[o]!;
      for (let o = missing; o < from + span; o++) parent[o]! += child[o]!;
    }
  }
}

/**
 * Packed histograms of features claimed one at a time, from column-major bins: for each feature,
 * its bins of rows order[begin..end) (a column of N bytes, which a core's cache holds, read at
 * those rows) added into its histogram with the rows' packed values gathered at v[2k] (and
 * v[2k + 1] with two slots). For nodes much smaller than the data, whose rows are scattered:
 * reading a whole row of bins each (as the row-major kernels do) would miss the cache per row.
 * `claim` returns the next feature position t to build, or −1; both threads call it, so neither
 * waits for the other, and each feature's sums stay in row order.
 */
export function buildPackedColumns(
  hist: Float64Array,
  bins: Uint8Array,
  N: number,
  order: Uint32Array,
  begin: number,
  end: number,
  v: Float64Array,
  slots: 1 | 2,
  nBins: Int32Array,
  features: Int32Array,
  claim: () => number,
): void {
  const span = PACKED_SPAN * slots;
  for (let t = claim(); t >= 0; t = claim()) {
    const f = features[t]!;
    const offset = f * span;
    hist.fill(0, offset, offset + nBins[f]! * slots);
    hist.fill(0, offset + MISSING_BIN * slots, offset + span);
    const base = f * N;
    if (slots === 2) {
      let k = begin;
      for (; k + 1 < end; k += 2) {
        const a = offset + bins[base + order[k]!]! * 2;
        const b = offset + bins[base + order[k + 1]!]! * 2;
        hist[a]! += v[2 * k]!;
        hist[a + 1]! += v[2 * k + 1]!;
        hist[b]! += v[2 * k + 2]!;
        hist[b + 1]! += v[2 * k + 3]!;
      }
      if (k < end) {
        const o = offset + bins[base + order[k]!]! * 2;
        hist[o]! += v[2 * k]!;
        hist[o + 1]! += v[2 * k + 1]!;
      }
      continue;
    }
    // Four rows per step: their loads are independent.
    let k = begin;
    for (; k + 3 < end; k += 4) {
      const a = offset + bins[base + order[k]!]!;
      const b = offset + bins[base + order[k + 1]!]!;
      const c = offset + bins[base + order[k + 2]!]!;
      const d = offset + bins[base + order[k + 3]!]!;
      hist[a]! += v[2 * k]!;
      hist[b]! += v[2 * k + 2]!;
      hist[c]! += v[2 * k + 4]!;
      hist[d]! += v[2 * k + 6]!;
    }
    for (; k < end; k++) hist[offset + bins[base + order[k]!]!]! += v[2 * k]!;
  }
}

/** Copies the packed values of rows order[begin..end) from ghRow (by row) to gh (by position). */
export function gatherPacked(
  order: Uint32Array,
  ghRow: Float64Array,
  gh: Float64Array,
  slots: 1 | 2,
  begin: number,
  end: number,
): void {
  if (slots === 2)
    for (let k = begin; k < end; k++) {
      const i = order[k]!;
      gh[2 * k] = ghRow[2 * i]!;
      gh[2 * k + 1] = ghRow[2 * i + 1]!;
    }
  else for (let k = begin; k < end; k++) gh[2 * k] = ghRow[2 * order[k]!]!;
}

/**
 * Stable partition of rows order[begin..end) by goLeft[bin of the row] (bins of one feature at
 * bins[base + row]): the left rows are compacted in place from `begin`, the right ones written to
 * right[0..). Returns the number of left rows. Branch-free: the side is data, so a mispredicted
 * branch per row would cost more than two stores.
 */
export function partitionRows(
  order: Uint32Array,
  bins: Uint8Array,
  base: number,
  goLeft: Uint8Array,
  begin: number,
  end: number,
  right: Uint32Array,
): number {
  let wl = begin;
  let wr = 0;
  for (let k = begin; k < end; k++) {
    const i = order[k]!;
    const left = goLeft[bins[base + i]!]!;
    order[wl] = i;
    right[wr] = i;
    wl += left;
    wr += 1 - left;
  }
  return wl - begin;
}
