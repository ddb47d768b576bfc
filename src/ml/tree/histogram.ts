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
