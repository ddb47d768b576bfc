import type { ColumnSchema } from '../data/schema.js';
import type { Signature } from '../registry/service.js';
import type { SearchMetric } from './evaluate.js';
import type { SearchSpec } from './search.js';
import type { TextOptionsSpec } from './text.js';
import type { Params, TaskKind } from './trainer.js';

/** The algorithm name that asks for the automatic mode (several algorithms within a time budget). */
export const AUTO_ALGORITHM = 'auto';

/** Everything a training run needs, resolved and validated before the job is queued. */
export interface TrainSpec {
  /** A name in TRAINERS, or AUTO_ALGORITHM. */
  readonly algorithm: string;
  readonly task: TaskKind;
  /** Absent for clustering. */
  readonly target?: ColumnSchema;
  readonly features: readonly ColumnSchema[];
  /** How text features are built (`params.text` of the request, defaults filled in); absent: defaults. */
  readonly text?: TextOptionsSpec;
  /** What the request resolution decided about the data (columns left out, ...), kept in the report. */
  readonly notes?: readonly string[];
  /** Every parameter of the trainer, defaults filled in (empty in the automatic mode). */
  readonly params: Params;
  /** A hyperparameter search on the training rows; its best parameters are then fitted. */
  readonly search?: SearchSpec;
  /** The automatic mode's budget (seconds) and the validation metric it ranks models by. */
  readonly timeBudgetSeconds?: number;
  readonly autoMetric?: SearchMetric;
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
  /** The algorithm fitted: the request's, or the one the automatic mode picked. */
  readonly algorithm: string;
  readonly metrics: Record<string, unknown>;
  readonly params: Record<string, unknown>;
  readonly trainRows: number;
  readonly testRows: number;
  readonly durationMs: number;
}

export type TrainProgress = (fraction: number, message: string, metrics?: Record<string, number>) => void;
