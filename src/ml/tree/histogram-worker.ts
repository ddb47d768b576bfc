/**
 * A helper thread of `HistogramPool`: builds or subtracts histograms for its share of the features
 * when the owning thread asks, through a shared control block (Atomics.wait / notify), so that a
 * node's histograms are built by two cores at once without copying any data.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { buildRowMajor, clearPacked, combinePacked, gatherPacked, subtractHistograms } from './histogram.js';
import { awaitCount, CHUNK_ROWS, CTRL, OP, SPINS } from './histogram-pool.js';
import type { HistogramWorkerData, SlotMessage } from './histogram-pool.js';
import { jsKernels, wasmKernels } from './kernels.js';

const data = workerData as HistogramWorkerData;
const ctrl = new Int32Array(data.control);
// The buffers arrive as views of the owner's memory (shared, not copied).
const {
  rowBins,
  nBins,
  order,
  gh,
  features,
  partial,
  rowOrder,
  ghRow,
  columns,
  goLeft,
  right,
  source: sourceBytes,
} = data;
const source = new Uint32Array(sourceBytes.buffer, sourceBytes.byteOffset, sourceBytes.length >> 2);
const work32 = new Uint32Array(rowBins.buffer, rowBins.byteOffset, rowBins.length >> 2);
const { buildPacked, buildPackedColumns, gatherRows, partitionRows } =
  (data.memory && wasmKernels(data.memory)) ?? jsKernels;
const port: MessagePort = data.port;
const slots: Float64Array[] = [];

function slot(k: number): Float64Array {
  while (slots.length <= k) {
    const message = receiveMessageOnPort(port);
    if (!message) throw new Error(`histogram slot ${k} was never sent`);
    const m = message.message as SlotMessage;
    slots[m.index] = m.view;
  }
  return slots[k]!;
}

/**
 * The helper's share of a build into its own histogram: rows order[from..to) gathered into node
 * order first (as the command says) or read in place, packed or not as the tree is; `clear`
 * false adds to a packed histogram (a build in chunks). The owner's side is HistogramPool.sumRows.
 */
function sumRows(from: number, to: number, tFrom: number, tTo: number, clear: boolean): void {
  const gathered = ctrl[CTRL.gathered] === 1;
  const unitHessian = ctrl[CTRL.unitHessian] === 1;
  if (gathered) gatherRows(rowOrder, source, ghRow, work32, gh, data.F >> 2, unitHessian, from, to);
  const bins = gathered ? rowBins : sourceBytes;
  const rows = gathered ? order : rowOrder;
  const v = gathered ? gh : ghRow;
  const identity = ctrl[CTRL.identity] === 1;
  const slots = ctrl[CTRL.packed] as 0 | 1 | 2;
  if (slots !== 0)
    buildPacked(
      partial,
      bins,
      data.F,
      rows,
      from,
      to,
      v,
      slots,
      nBins,
      features,
      identity,
      tFrom,
      tTo,
      clear,
    );
  else
    buildRowMajor(
      partial,
      bins,
      data.F,
      nBins,
      rows,
      from,
      to,
      v,
      unitHessian,
      features,
      identity,
      tFrom,
      tTo,
    );
}

let seen = 0;
for (;;) {
  // Spin for the next command, then sleep until woken (see HistogramPool.start).
  let seq = Atomics.load(ctrl, CTRL.seq);
  for (let spin = 0; seq === seen && spin < SPINS; spin++) seq = Atomics.load(ctrl, CTRL.seq);
  if (seq === seen) {
    Atomics.store(ctrl, CTRL.helperAsleep, 1);
    if (Atomics.load(ctrl, CTRL.seq) === seen) Atomics.wait(ctrl, CTRL.seq, seen);
    Atomics.store(ctrl, CTRL.helperAsleep, 0);
    continue;
  }
  seen = seq;
  const op = ctrl[CTRL.op]!;
  if (op === OP.exit) break;
  const tFrom = ctrl[CTRL.tFrom]!;
  const tTo = ctrl[CTRL.tTo]!;
  if (op === OP.buildRows) {
    // Rows gathered into node order first, or read in place (see HistogramPool.build).
    sumRows(ctrl[CTRL.begin]!, ctrl[CTRL.end]!, tFrom, tTo, true);
  } else if (op === OP.buildChunks) {
    // A packed build in chunks claimed from the shared counter (see HistogramPool.buildChunks).
    const end = ctrl[CTRL.end]!;
    clearPacked(partial, ctrl[CTRL.packed] as 1 | 2, nBins, features, tFrom, tTo);
    for (;;) {
      const from = Atomics.add(ctrl, CTRL.next, CHUNK_ROWS);
      if (from >= end) break;
      sumRows(from, Math.min(end, from + CHUNK_ROWS), tFrom, tTo, false);
    }
  } else if (op === OP.buildColumns) {
    // The second half of the rows gathered here, then features claimed from the shared counter
    // once both halves are in (see HistogramPool.buildColumns).
    gatherPacked(rowOrder, ghRow, gh, ctrl[CTRL.packed] as 1 | 2, ctrl[CTRL.other]!, ctrl[CTRL.end]!);
    Atomics.add(ctrl, CTRL.gathered2, 1);
    awaitCount(ctrl, CTRL.gathered2, 2);
    buildPackedColumns(
      slot(ctrl[CTRL.slot]!),
      columns,
      data.N,
      rowOrder,
      ctrl[CTRL.begin]!,
      ctrl[CTRL.end]!,
      gh,
      ctrl[CTRL.packed] as 1 | 2,
      nBins,
      features,
      () => {
        const t = Atomics.add(ctrl, CTRL.next, 1);
        return t < tTo ? t : -1;
      },
    );
  } else if (op === OP.partition) {
    // The second half of a split's rows (see HistogramPool.partition); lefts in place, rights aside.
    ctrl[CTRL.result] = partitionRows(
      rowOrder,
      columns,
      ctrl[CTRL.slot]! * data.N,
      goLeft,
      ctrl[CTRL.begin]!,
      ctrl[CTRL.end]!,
      right,
    );
  } else if (op === OP.subtract) {
    const slots = ctrl[CTRL.packed] as 0 | 1 | 2;
    if (slots !== 0)
      combinePacked(slot(ctrl[CTRL.slot]!), slot(ctrl[CTRL.other]!), -1, slots, nBins, features, tFrom, tTo);
    else subtractHistograms(slot(ctrl[CTRL.slot]!), slot(ctrl[CTRL.other]!), nBins, features, tFrom, tTo);
  }
  Atomics.store(ctrl, CTRL.done, seq);
  if (Atomics.load(ctrl, CTRL.ownerAsleep) === 1) Atomics.notify(ctrl, CTRL.done);
}
