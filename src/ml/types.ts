/**
 * Shared shapes of the numeric core. Everything here is plain data (typed arrays and numbers),
 * so it can be posted to a worker thread or written into an ONNX graph without conversion.
 */

/** A dense matrix stored column-major: element (i, j) is `data[j * rows + i]`. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** A numeric column: missing values are NaN. */
export interface NumericColumn {
  readonly name: string;
  readonly kind: 'numeric';
  readonly values: Float64Array;
}

/** A categorical column: missing values are null. */
export interface CategoricalColumn {
  readonly name: string;
  readonly kind: 'categorical';
  readonly values: readonly (string | null)[];
}

export type Column = NumericColumn | CategoricalColumn;

/**
 * Preprocessing of one numeric feature: impute with `fill`, then (x - center) / scale.
 * In 'raw' mode fill is NaN, center 0 and scale 1: the value passes through and NaN stays missing.
 */
export interface NumericStep {
  readonly name: string;
  readonly fill: number;
  readonly center: number;
  readonly scale: number;
}

/** How a categorical feature becomes numbers. */
export const CATEGORICAL_ENCODINGS = ['onehot', 'ordinal'] as const;
export type CategoricalEncoding = (typeof CATEGORICAL_ENCODINGS)[number];

/**
 * Preprocessing of one categorical feature over `categories`:
 * - 'onehot' (the default when `encoding` is absent): one column per category; unseen or missing → all zeros;
 * - 'ordinal': one column holding the category's index in `categories`; unseen or missing → NaN.
 */
export interface CategoricalStep {
  readonly name: string;
  readonly categories: readonly string[];
  readonly encoding?: CategoricalEncoding;
}

/** Preprocessing modes: 'scaled' imputes, standardizes and one-hot encodes; 'raw' keeps NaN and codes categories. */
export const PREPROCESS_MODES = ['scaled', 'raw'] as const;
export type PreprocessMode = (typeof PREPROCESS_MODES)[number];

/**
 * A fitted preprocessing pipeline. Output columns: numeric steps in order, then each categorical
 * step's block (one-hot: one column per category; ordinal: one column).
 */
export interface Preprocessor {
  readonly numeric: readonly NumericStep[];
  readonly categorical: readonly CategoricalStep[];
  /** The mode it was fitted in; absent means 'scaled'. */
  readonly mode?: PreprocessMode;
}

/** y = X·w + b (ordinary least squares / ridge). */
export interface LinearRegressionModel {
  readonly kind: 'linear_regression';
  readonly weights: Float64Array; // length F
  readonly bias: number;
}

/**
 * Logistic regression over classes 0..C-1.
 * Binary (C = 2): one score z = X·w + b, P(class 1) = sigmoid(z); `weights` has length F, `bias` length 1.
 * Multinomial (C > 2): scores Z = X·W + b with W stored class-major (`weights[c * F + j]`), P = softmax(Z).
 */
export interface LogisticRegressionModel {
  readonly kind: 'logistic_regression';
  readonly classes: number; // C
  readonly weights: Float64Array; // F (binary) or C * F
  readonly bias: Float64Array; // 1 (binary) or C
}

export type LinearModel = LinearRegressionModel | LogisticRegressionModel;

/** Progress of an iterative fit, reported every iteration (or every few). */
export type ProgressFn = (iteration: number, loss: number) => void;
