/**
 * A small pool of worker threads that scores the folds of a search trial concurrently.
 *
 * Memory is bounded: the training rows go to the workers once, as SharedArrayBuffer-backed typed
 * arrays (one shared copy of X and y for the whole search, not one per worker or per trial); a
 * trial is a small message (algorithm, parameters, metric, fold, resource) and a metric comes back.
 * Each worker rebuilds the same seeded folds, and fold f always goes to worker f mod W, so the fold
 * matrices a worker caches are the ones the sequential Evaluator would cache, split between them.
 *
 * The calls are synchronous, as the search loop is: the caller posts the folds and sleeps on an
 * `Atomics.wait` until a worker signals, then reads the replies with `receiveMessageOnPort`. Every
 * fit is the same seeded fit as in-process, so the scores, the trials and the pick are identical to
 * the sequential path's.
 *
 * Trainers that start their own worker threads (random forest; gradient boosting on enough rows
 * for its histogram pool) are not run in the pool, so that the threads never exceed the cores.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { FoldResult, FoldRunner, FoldTask, SearchData } from './search.js';
import type { Trainer } from './trainer.js';
import { TRAINERS } from './trainers/index.js';

/** Workers at most, whatever the machine: the fits are memory-bound past two. */
const MAX_WORKERS = 2;
/** Below this many numbers in a fold's training matrix, a worker's start-up costs more than it saves. */
const MIN_NUMBERS = 10_000;
/** A worker that has not started after this long is taken as failed (the caller goes in-process). */
const START_TIMEOUT_MS = 60_000;

/**
 * Worker threads for the folds of a search: `MASS_SEARCH_WORKERS` if set (1: in-process), else the
 * available parallelism capped at 2.
 */
export function searchWorkers(): number {
  const env = Number(process.env.MASS_SEARCH_WORKERS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
}

/**
 * Whether a trainer starts worker threads of its own on a fit of rows × cols numbers; the
 * thresholds are those of src/ml/forest.ts and src/ml/gbdt.ts.
 */
export function usesOwnThreads(trainer: Trainer, rows: number, cols: number): boolean {
  if (trainer.name === 'random_forest') return rows * cols >= 20_000;
  if (trainer.name === 'gradient_boosting') return rows * cols >= 1 << 18;
  return false;
}

/** Whether a search over `data` with this trainer and k folds should use a pool of `workers`. */
export function poolPays(
  trainer: Trainer,
  data: SearchData,
  folds: number,
  workers: number,
  fitRows: number,
  force = false,
): boolean {
  if (workers < 2 || folds < 2) return false;
  if (TRAINERS[trainer.name] !== trainer) return false;
  if (usesOwnThreads(trainer, fitRows, data.X.cols)) return false;
  return force || fitRows * data.X.cols >= MIN_NUMBERS;
}

/** A SharedArrayBuffer-backed copy of a typed array, or the array itself if it already is one. */
function shared<T extends Float64Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

export interface FoldPool extends FoldRunner {
  readonly workers: number;
  /** Terminates the workers; the pool cannot be used after. */
  close(): void;
}

interface Reply extends FoldResult {
  readonly id: number;
}

/** Starts `workers` threads holding the search's rows; k and seed give the Evaluator's folds. */
export function createFoldPool(data: SearchData, k: number, seed: number, workers: number): FoldPool {
  const X = shared(data.X.data);
  const y = shared(data.y);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  /** Set to 1 by each worker once it has loaded. */
  const ready = new Int32Array(new SharedArrayBuffer(4 * workers));
  const threads: { worker: Worker; port: MessagePort }[] = [];
  for (let w = 0; w < workers; w++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), {
      workerData: {
        X,
        rows: data.X.rows,
        cols: data.X.cols,
        y,
        task: data.task,
        classes: data.classes,
        k,
        seed,
        signal,
        ready,
        index: w,
        port: port2,
      },
      transferList: [port2],
    });
    worker.unref();
    threads.push({ worker, port: port1 });
  }
  let closed = false;
  let nextId = 0;
  const pool: FoldPool = {
    workers,
    accepts: (trainer, fitRows) => !closed && poolPays(trainer, data, k, workers, fitRows, true),
    runFolds(tasks: readonly FoldTask[]): FoldResult[] {
      if (closed) throw new Error('the fold pool is closed');
      const results: (FoldResult | undefined)[] = new Array(tasks.length);
      const queues = threads.map(() => [] as number[]);
      tasks.forEach((t, i) => queues[t.fold % threads.length]!.push(i));
      const ids = new Map<number, number>();
      const send = (w: number) => {
        const i = queues[w]!.shift();
        if (i === undefined) return;
        const id = nextId++;
        ids.set(id, i);
        threads[w]!.worker.postMessage({ id, ...tasks[i]! });
      };
      threads.forEach((_, w) => send(w));
      let pending = tasks.length;
      const started = performance.now();
      while (pending > 0) {
        if (performance.now() - started > START_TIMEOUT_MS && ready.some((r) => r === 0)) {
          pool.close();
          throw new Error('a search worker thread did not start');
        }
        const seen = Atomics.load(signal, 0);
        let received = false;
        threads.forEach(({ port }, w) => {
          for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
            const reply = m.message as Reply;
            const i = ids.get(reply.id);
            if (i === undefined) continue;
            ids.delete(reply.id);
            results[i] = reply;
            pending--;
            received = true;
            send(w);
          }
        });
        if (!received && pending > 0) Atomics.wait(signal, 0, seen, 1000);
      }
      return results as FoldResult[];
    },
    close() {
      if (closed) return;
      closed = true;
      for (const { worker, port } of threads) {
        port.close();
        void worker.terminate();
      }
    },
  };
  return pool;
}
