import type { Matrix } from '../ml/types.js';
import type { ModelHead } from '../onnx/export.js';

/** What a model learns to do. */
export const TASK_KINDS = ['classification', 'regression', 'clustering'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** One hyperparameter a trainer takes, validated at the API edge before a job is queued. */
export type ParamSpec =
  | {
      readonly type: 'number';
      readonly default: number;
      readonly min?: number;
      readonly max?: number;
      readonly description: string;
    }
  | {
      readonly type: 'integer';
      readonly default: number;
      readonly min?: number;
      readonly max?: number;
      readonly description: string;
    }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description: string }
  | {
      readonly type: 'enum';
      readonly default: string;
      readonly values: readonly string[];
      readonly description: string;
    }
  | {
      readonly type: 'integers';
      readonly default: readonly number[];
      readonly min?: number;
      readonly max?: number;
      readonly description: string;
    };

export type ParamValue = number | boolean | string | readonly number[];
export type Params = Readonly<Record<string, ParamValue>>;

export interface FitContext {
  readonly task: TaskKind;
  /** Number of classes (classification), clusters are a parameter. */
  readonly classes: number;
  readonly seed: number;
  /** A held-out part of the training rows, for early stopping; absent when the trainer does not ask for one. */
  readonly validation?: { readonly X: Matrix; readonly y: Int32Array | Float64Array };
  /** Per column of X: true where it holds ordinal category codes ('raw' preprocessing), for native categorical splits. */
  readonly categorical?: readonly boolean[];
  /**
   * Reports an iteration: `fraction` of the planned work done (0..1) and figures such as
   * loss and the validation metric. Cheap to call; throttled by the caller.
   */
  readonly onProgress: (fraction: number, iteration: number, metrics: Record<string, number>) => void;
}

export interface Fitted {
  /**
   * classification: N × C class probabilities, row-major; regression: N values;
   * clustering: N cluster indices. Must equal what `head` computes in ONNX (to float rounding).
   */
  predict(X: Matrix): Float64Array;
  /** The ONNX head that computes the same thing from the preprocessed features. */
  readonly head: ModelHead;
  /** Per feature, in X's column order, when the model has a native notion (gain for trees, |w| for linear). */
  readonly importance?: Float64Array;
  /** Figures worth keeping with the version: iterations, converged, trees, best iteration, ... */
  readonly info: Readonly<Record<string, number | boolean | string>>;
}

/**
 * A training algorithm, registered by name. `fit` is pure (no I/O) and runs in a worker thread.
 * - `preprocessing: 'scaled'`: features are imputed (mean), standardized and one-hot encoded;
 * - `preprocessing: 'raw'`: numbers keep NaN for missing, categories become ordinal codes
 *   (NaN for missing or unseen): for models that handle both natively (trees).
 * - `preprocessing: 'counts'`: numbers as they are (missing → 0), categories one-hot, text columns
 *   as raw term counts: for models of non-negative counts (multinomial naive Bayes).
 * Text columns become TF-IDF blocks (L2-normalised rows) in 'scaled' and 'raw', term counts in 'counts'.
 */
export interface Trainer {
  readonly name: string;
  readonly summary: string;
  readonly tasks: readonly TaskKind[];
  readonly preprocessing: 'scaled' | 'raw' | 'counts';
  /** Set when the trainer wants a validation split of the training rows (early stopping). */
  readonly wantsValidation?: (params: Params) => boolean;
  readonly params: Readonly<Record<string, ParamSpec>>;
  fit(X: Matrix, y: Int32Array | Float64Array | undefined, params: Params, ctx: FitContext): Fitted;
}
