// A worker of the fold pool (parallel.ts): holds the search's rows (shared memory), rebuilds the
// Evaluator's seeded folds, and scores the folds it is sent, one at a time.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Evaluator, TrialStopped, type FoldResult, type FoldTask } from './search.js';
import type { TaskKind } from './trainer.js';
import { TRAINERS } from './trainers/index.js';

const init = workerData as {
  X: Float64Array;
  rows: number;
  cols: number;
  y: Int32Array | Float64Array;
  task: TaskKind;
  classes: number;
  k: number;
  seed: number;
  signal: Int32Array;
  ready: Int32Array;
  index: number;
  port: MessagePort;
};

const evaluator = new Evaluator(
  {
    X: { data: init.X, rows: init.rows, cols: init.cols },
    y: init.y,
    task: init.task,
    classes: init.classes,
  },
  init.k,
  init.seed,
);

function score(task: FoldTask): FoldResult {
  const trainer = TRAINERS[task.trainer];
  if (!trainer) return { status: 'failed', value: NaN, fitSeconds: 0, error: `no trainer ${task.trainer}` };
  const deadline = task.left === null || task.left === Infinity ? Infinity : performance.now() + task.left;
  try {
    const r = evaluator.evaluateFold(trainer, task.params, task.metric, task.fold, task.resource, deadline);
    return { status: 'ok', value: r.value, fitSeconds: r.fitSeconds };
  } catch (error) {
    return {
      status: error instanceof TrialStopped ? 'stopped' : 'failed',
      value: NaN,
      fitSeconds: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

Atomics.store(init.ready, init.index, 1);
parentPort!.on('message', (task: FoldTask & { id: number }) => {
  const result = score(task);
  init.port.postMessage({ id: task.id, ...result });
  Atomics.add(init.signal, 0, 1);
  Atomics.notify(init.signal, 0);
});
