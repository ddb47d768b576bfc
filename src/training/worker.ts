import { parentPort, workerData } from 'node:worker_threads';
import { readColumns } from '../data/read.js';
import { trainPipeline, TrainingDataError } from './pipeline.js';
import type { TrainOutput, TrainSpec } from './spec.js';

/** Messages from the training thread to the job that started it. */
export type WorkerMessage =
  | { type: 'progress'; fraction: number; message: string; metrics?: Record<string, number> }
  | { type: 'done'; output: TrainOutput }
  | { type: 'error'; message: string; permanent: boolean };

interface WorkerInput {
  readonly path: string;
  readonly spec: TrainSpec;
}

const port = parentPort!;
const { path, spec } = workerData as WorkerInput;
const post = (m: WorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

try {
  post({ type: 'progress', fraction: 0.01, message: 'reading the dataset' });
  const columns = await readColumns(
    path,
    spec.target ? [...spec.features, spec.target] : spec.features,
    spec.rowCount,
  );
  post({ type: 'progress', fraction: 0.05, message: `read ${spec.rowCount} rows` });
  const output = trainPipeline(columns, spec, (fraction, message, metrics) =>
    post({ type: 'progress', fraction, message, ...(metrics ? { metrics } : {}) }),
  );
  post({ type: 'done', output }, [output.onnx.buffer as ArrayBuffer]);
} catch (error) {
  post({
    type: 'error',
    message: error instanceof Error ? error.message : String(error),
    permanent: error instanceof TrainingDataError,
  });
}
