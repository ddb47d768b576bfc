import type { ColumnSchema } from '../data/schema.js';
import type { Signature } from '../registry/service.js';
import type { Params, TaskKind } from './trainer.js';

/** Everything a training run needs, resolved and validated before the job is queued. */
export interface TrainSpec {
  /** A name in TRAINERS. */
  readonly algorithm: string;
  readonly task: TaskKind;
  /** Absent for clustering. */
  readonly target?: ColumnSchema;
  readonly features: readonly ColumnSchema[];
  /** Every parameter of the trainer, defaults filled in. */
  readonly params: Params;
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
