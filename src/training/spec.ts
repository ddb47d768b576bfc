import type { ColumnSchema } from '../data/schema.js';
import type { Signature, Task } from '../registry/service.js';

export const ALGORITHMS = ['linear_regression', 'logistic_regression'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const ALGORITHM_TASK: Readonly<Record<Algorithm, Task>> = {
  linear_regression: 'regression',
  logistic_regression: 'classification',
};

export interface TrainParams {
  /** L2 penalty: ridge alpha, or 1 / C of a logistic regression (scikit-learn's meaning). */
  readonly l2: number;
  readonly maxIter: number;
}

/** Everything a training run needs, resolved and validated before the job is queued. */
export interface TrainSpec {
  readonly algorithm: Algorithm;
  readonly task: Task;
  readonly target: ColumnSchema;
  readonly features: readonly ColumnSchema[];
  readonly params: TrainParams;
  readonly testFraction: number;
  readonly seed: number;
  readonly rowCount: number;
  readonly model: string;
  readonly datasetVersionId: string;
  readonly datasetLabel: string;
}

/** What a training run hands back to the main thread. */
export interface TrainOutput {
  readonly onnx: Uint8Array;
  readonly signature: Signature;
  readonly metrics: Record<string, unknown>;
  readonly params: Record<string, unknown>;
  readonly trainRows: number;
  readonly testRows: number;
  readonly durationMs: number;
}

export type TrainProgress = (fraction: number, message: string, metrics?: Record<string, number>) => void;
