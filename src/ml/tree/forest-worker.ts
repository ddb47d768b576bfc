/**
 * A helper thread of `fitForest`: takes chunk numbers from a shared counter until none is left,
 * builds each chunk's trees (forest-build.ts) and posts them back through its port. The binned
 * matrix and the targets are SharedArrayBuffers: every thread reads the same single copy.
 */
import { workerData } from 'node:worker_threads';
import { ForestBuilder } from './forest-build.js';
import type { ForestChunk } from './forest-build.js';
import type { ForestWorkerData } from '../forest.js';
import { FOREST_CTRL } from '../forest.js';

const data = workerData as ForestWorkerData;
const ctrl = new Int32Array(data.control);
const builder = new ForestBuilder(
  {
    binned: { bins: new Uint8Array(data.bins), rows: data.rows, cols: data.cols },
    rowBins: data.rowBins ? new Uint8Array(data.rowBins) : null,
    mapper: data.mapper,
    y: new Float64Array(data.y),
  },
  data.spec,
);
const chunks = Math.ceil(data.spec.trees / data.spec.treesPerChunk);
try {
  for (;;) {
    const chunk = Atomics.add(ctrl, FOREST_CTRL.next, 1);
    if (chunk >= chunks || Atomics.load(ctrl, FOREST_CTRL.cancel) === 1) break;
    const result: ForestChunk = builder.buildChunk(chunk);
    const transfer = [
      result.importance.buffer,
      result.oobSum.buffer,
      result.oobCount.buffer,
      ...result.trees.flatMap((t) => [
        t.feature.buffer,
        t.threshold.buffer,
        t.binThreshold.buffer,
        t.set.buffer,
        t.sets.buffer,
        t.missingLeft.buffer,
        t.left.buffer,
        t.right.buffer,
        t.value.buffer,
        t.gain.buffer,
        t.count.buffer,
      ]),
    ] as ArrayBuffer[];
    data.port.postMessage(result, transfer);
    Atomics.add(ctrl, FOREST_CTRL.done, 1);
    Atomics.notify(ctrl, FOREST_CTRL.done);
  }
} catch (error) {
  data.port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  Atomics.store(ctrl, FOREST_CTRL.failed, 1);
  Atomics.notify(ctrl, FOREST_CTRL.done);
} finally {
  builder.close();
}
