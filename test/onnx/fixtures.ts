/**
 * Random pipelines and data for the ONNX tests, and the reference answers from ml/.
 * Pipelines are built by hand (no training) from a seeded generator, so a failure is reproducible
 * from the seed printed in the test name.
 */
import ort from 'onnxruntime-node';
import { argmaxRows, predictLinear, predictProba } from '../../src/ml/linear.js';
import { transform } from '../../src/ml/preprocess.js';
import type { CategoricalStep, Column, LinearModel, NumericStep, Preprocessor } from '../../src/ml/types.js';

/** mulberry32 (Tommy Ettinger): a tiny seeded generator, good enough for test data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

/** Standard normal by Box–Muller. */
export function normal(rand: Random): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface PipelineShape {
  /** Number of numeric columns. */
  readonly numeric: number;
  /** Number of categories of each categorical column (0 allowed). */
  readonly categorical: readonly number[];
}

export function randomPreprocessor(rand: Random, shape: PipelineShape, prefix = ''): Preprocessor {
  const numeric: NumericStep[] = [];
  for (let i = 0; i < shape.numeric; i++) {
    numeric.push({
      name: `${prefix}num${i}`,
      fill: normal(rand),
      center: normal(rand),
      scale: 0.5 + 2 * rand(),
    });
  }
  const categorical: CategoricalStep[] = shape.categorical.map((k, i) => ({
    name: `${prefix}cat${i}`,
    categories: Array.from({ length: k }, (_, c) => `v${c}`),
  }));
  return { numeric, categorical };
}

export function featureCountOf(pre: Preprocessor): number {
  return pre.numeric.length + pre.categorical.reduce((s, c) => s + c.categories.length, 0);
}

export function randomWeights(rand: Random, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * normal(rand));
}

export function randomRegression(rand: Random, f: number): LinearModel {
  return { kind: 'linear_regression', weights: randomWeights(rand, f), bias: normal(rand) };
}

export function randomClassifier(rand: Random, f: number, classes: number, scale = 1): LinearModel {
  const rows = classes === 2 ? 1 : classes;
  return {
    kind: 'logistic_regression',
    classes,
    weights: randomWeights(rand, rows * f, scale),
    bias: randomWeights(rand, rows, scale),
  };
}

/**
 * Raw columns for `n` rows: numeric values are float32 numbers (what the graph receives) with
 * about 10% NaN; categorical values are mostly known categories, some unseen, some missing (null).
 */
export function randomColumns(rand: Random, pre: Preprocessor, n: number): Column[] {
  const columns: Column[] = [];
  for (const step of pre.numeric) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = rand() < 0.1 ? NaN : Math.fround(3 * normal(rand) + step.center);
    columns.push({ name: step.name, kind: 'numeric', values });
  }
  for (const step of pre.categorical) {
    const values: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      const r = rand();
      const k = step.categories.length;
      if (r < 0.1) values.push(null);
      else if (r < 0.2 || k === 0) values.push(`unseen${Math.floor(rand() * 3)}`);
      else values.push(step.categories[Math.floor(rand() * k)]!);
    }
    columns.push({ name: step.name, kind: 'categorical', values });
  }
  return columns;
}

/** The graph's feeds for the columns: float32 [N,1] and string [N,1] with '' for missing. */
export function feedsOf(columns: readonly Column[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const c of columns) {
    const n = c.values.length;
    feeds[c.name] =
      c.kind === 'numeric'
        ? new ort.Tensor('float32', Float32Array.from(c.values), [n, 1])
        : new ort.Tensor(
            'string',
            c.values.map((v) => v ?? ''),
            [n, 1],
          );
  }
  return feeds;
}

export type Reference =
  | { readonly kind: 'regression'; readonly value: Float64Array }
  | {
      readonly kind: 'classification';
      readonly probabilities: Float64Array;
      readonly label: readonly (number | string)[];
    };

/** What ml/ predicts for the same rows: transform, then predictLinear or predictProba + argmax. */
export function reference(
  pre: Preprocessor,
  model: LinearModel,
  columns: readonly Column[],
  labels?: readonly (number | string)[],
): Reference {
  const X = transform(pre, columns);
  if (model.kind === 'linear_regression') return { kind: 'regression', value: predictLinear(model, X) };
  const P = predictProba(model, X);
  const best = argmaxRows(P, X.rows, model.classes);
  return { kind: 'classification', probabilities: P, label: Array.from(best, (c) => labels?.[c] ?? c) };
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes);
}
