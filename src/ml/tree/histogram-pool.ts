/**
 * Histogram buffers of a tree grower and the threads that fill them. With `threads` = 2, one
 * helper worker (histogram-worker.ts) sums the second half of the rows of every large histogram
 * build (and takes half the features of a subtraction); the bins, gradients, feature list and
 * histograms live in SharedArrayBuffers. Small builds stay on the calling thread, where waking
 * the helper would cost more than it saves.
 *
 * A build first gathers its node's rows — their bins (padded to a multiple of 16 bytes, copied as
 * 32-bit words) and gradients — into node order (LightGBM's "ordered" gradients, for the bins
 * too), then sums them in one sequential pass. Summing straight from the scattered rows of a
 * deep node stalls on a cache miss per row, since each row's 30 updates keep the next row's load
 * from starting; the gather has nothing else to do and keeps many loads in flight. The rows are
 * summed in the same order as before, so the sums are unchanged.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { BIN_SLOTS, MISSING_BIN } from './binning.js';
import {
  buildRowMajor,
  clearPacked,
  combinePacked,
  FEATURE_SPAN,
  gatherPacked,
  packGradients,
  packHessians,
  STRIDE,
  subtractHistograms,
} from './histogram.js';
import type { GradientPacking } from './histogram.js';
import { Arena, jsKernels, wasmKernels } from './kernels.js';
import type { PackedKernels } from './kernels.js';

/** Indices into the shared Int32 control block. */
export const CTRL = {
  seq: 0,
  op: 1,
  slot: 2,
  other: 3,
  begin: 4,
  end: 5,
  tFrom: 6,
  tTo: 7,
  unitHessian: 8,
  identity: 9,
  done: 10,
  /** 1 while the helper sleeps in Atomics.wait (so that a command must wake it). */
  helperAsleep: 11,
  /** 1 while the owner sleeps waiting for the helper. */
  ownerAsleep: 12,
  /** buildRows: 1 to gather the rows into node order first (else read them in place). */
  gathered: 13,
  /** Doubles per bin of packed histograms (1 or 2, see `packGradients`); 0 when not packed. */
  packed: 14,
  /** buildChunks: the first row position not yet claimed (Atomics.add by both threads). */
  next: 15,
  /** buildColumns: threads done gathering their half of the rows (the build starts at 2). */
  gathered2: 16,
  /** partition: the helper's count of left rows. */
  result: 17,
} as const;
const CTRL_WORDS = 32;

export const OP = {
  exit: 0,
  subtract: 2,
  buildRows: 3,
  buildChunks: 4,
  buildColumns: 5,
  partition: 6,
} as const;

/**
 * Rows from which a split's partition is shared by the two threads. The WebAssembly partition
 * takes about 1.5 ns a row on one thread; shared, the helper's wake-up (20–30 µs when it sleeps)
 * and moving its half into place cost more than they save below the root's size (measured on
 * synth_reg_200k: 2.1 ns a row shared from 16,384 rows, 1.5 on one thread). Tests lower it to
 * exercise the shared partition on small data.
 */
export const POOL_TUNING = { parallelPartition: 1 << 17 };
/** Histogram doubles from which a subtraction is shared by the two threads. */
const PARALLEL_SUBTRACT = 1 << 17;

/**
 * Packed builds of nodes with less than a quarter but at least 1/COLUMN_DENSITY of the rows read
 * the column-major bins (two or more of the node's rows per 64-byte line of a column, so that
 * the lines are reused); sparser nodes gather whole rows (one line each).
 */
const COLUMN_DENSITY = 32;

/**
 * Spins until ctrl[at] reaches `count` (the other thread's part of a two-step build); a helper that
 * stops answering for a minute is an error.
 */
export function awaitCount(ctrl: Int32Array, at: number, count: number): void {
  let started = 0;
  for (let spin = 0; Atomics.load(ctrl, at) < count; spin++) {
    if ((spin & 0xfffff) !== 0xfffff) continue;
    started ||= Date.now();
    if (Date.now() - started > 60_000) throw new Error('the histogram helper thread stopped answering');
  }
}

/** Rows per claim of a chunked build. */
export const CHUNK_ROWS = 1024;

/** Spins (Atomics.load) before sleeping: a futex wake-up costs tens of microseconds, more under load. */
export const SPINS = 20_000;

/** Row × feature updates below which a build stays on one thread (about 50 µs of work). */
const PARALLEL_WORK = 1 << 16;

/**
 * What the helper thread shares: views of the same memory (SharedArrayBuffers, or the arena's
 * WebAssembly memory, which the helper then instantiates the kernels over).
 */
export interface HistogramWorkerData {
  readonly control: SharedArrayBuffer;
  /** The arena's memory when the WebAssembly kernels run; null for the JavaScript ones. */
  readonly memory: WebAssembly.Memory | null;
  readonly rowBins: Uint8Array;
  readonly nBins: Int32Array;
  readonly order: Uint32Array;
  readonly gh: Float64Array;
  /** The original bins (stride F), the node-ordered row indices and the gradients by row, gathered from. */
  readonly source: Uint8Array;
  readonly rowOrder: Uint32Array;
  readonly ghRow: Float64Array;
  readonly features: Int32Array;
  /** The helper's own histogram, for the second half of the rows of a build. */
  readonly partial: Float64Array;
  /** Column-major bins (N bytes per feature), for the packed builds of small nodes. */
  readonly columns: Uint8Array;
  /** partition: the side of each bin (256 bytes), and the helper's right rows. */
  readonly goLeft: Uint8Array;
  readonly right: Uint32Array;
  readonly N: number;
  readonly F: number;
  readonly port: MessagePort;
}

export interface SlotMessage {
  readonly index: number;
  readonly view: Float64Array;
}

/** Where a pool's buffers come from: its arena, shared memory (two threads) or the heap. */
interface Allocator {
  uint8(n: number): Uint8Array;
  uint32(n: number): Uint32Array;
  int32(n: number): Int32Array;
  float64(n: number): Float64Array;
}

const sharedAllocator: Allocator = {
  uint8: (n) => new Uint8Array(new SharedArrayBuffer(n)),
  uint32: (n) => new Uint32Array(new SharedArrayBuffer(4 * n)),
  int32: (n) => new Int32Array(new SharedArrayBuffer(4 * n)),
  float64: (n) => new Float64Array(new SharedArrayBuffer(8 * n)),
};

const heapAllocator: Allocator = {
  uint8: (n) => new Uint8Array(n),
  uint32: (n) => new Uint32Array(n),
  int32: (n) => new Int32Array(n),
  float64: (n) => new Float64Array(n),
};

export class HistogramPool {
  /** Row indices of the tree being grown, partitioned by node. */
  readonly order: Uint32Array;
  /** Gradient and hessian of each row of the current tree, interleaved: ghRow[2i], ghRow[2i + 1]. */
  private readonly ghRow: Float64Array;
  /** Bytes per row in `work` (F rounded up to a multiple of 16). */
  private readonly stride: number;
  /** The original bins, `stride` bytes per row, and as words. */
  private readonly source: Uint8Array;
  private readonly source32: Uint32Array;
  /** Bins of row order[k] at work[k·stride ..] for the positions k of the node being built. */
  private readonly work: Uint8Array;
  private readonly work32: Uint32Array;
  /** Gradient and hessian of row order[k] at gh[2k], gh[2k + 1], for the node being built. */
  private readonly gh: Float64Array;
  /** 0, 1, 2, …: the row order the kernels see, the rows being gathered into node order. */
  private readonly positions: Uint32Array;
  /** Features searched by the current tree (the first `featureCount` entries). */
  readonly features: Int32Array;
  private featureCount = 0;
  private unitHessian = false;
  /** The current tree's fixed-point gradients, when its histograms are packed; else null. */
  packing: GradientPacking | null = null;
  /** The gradients (and hessians) the current tree is grown on when packed: the fixed-point values, by row. */
  readonly exact: Float64Array;
  readonly exactHess: Float64Array;
  private identity = false;
  private readonly slots: Float64Array[] = [];
  private readonly free: number[] = [];
  private readonly alloc: Allocator;
  private readonly nBins: Int32Array;
  private worker: Worker | null = null;
  private partial: Float64Array | null = null;
  private port: MessagePort | null = null;
  private control: Int32Array | null = null;
  private seq = 0;

  /** Column-major bins (rows bytes per feature), and the rows. */
  private readonly columns: Uint8Array;
  private readonly N: number;
  /** Partitions: the side of each bin, and the right rows of this thread and of the helper. */
  private readonly goLeft: Uint8Array;
  private readonly rightMain: Uint32Array;
  private readonly rightHelper: Uint32Array;

  constructor(
    rowBins: Uint8Array,
    private readonly F: number,
    nBins: Int32Array,
    rows: number,
    threads: number,
    columnBins: Uint8Array,
  ) {
    const threaded = threads > 1 && rowBins.buffer instanceof SharedArrayBuffer;
    const stride = (F + 15) & ~15;
    this.stride = stride;
    // Every buffer a kernel reads goes in one WebAssembly memory when there is one to be had
    // (kernels.ts); else in SharedArrayBuffers for two threads, or on the heap for one.
    const arena = Arena.create(rows * (2 * stride + F + 56) + 8 * F * FEATURE_SPAN * 9 + 8 * F + 256);
    this.kernels = (arena && wasmKernels(arena.memory)) ?? jsKernels;
    const alloc: Allocator = arena ?? (threaded ? sharedAllocator : heapAllocator);
    this.alloc = alloc;
    const shared = threaded;
    if (arena || (shared && !(columnBins.buffer instanceof SharedArrayBuffer))) {
      const copy = alloc.uint8(columnBins.length);
      copy.set(columnBins);
      this.columns = copy;
    } else this.columns = columnBins;
    this.N = rows;
    this.goLeft = alloc.uint8(256);
    this.rightMain = alloc.uint32(rows);
    this.rightHelper = shared ? alloc.uint32(rows) : new Uint32Array(0);
    const source = alloc.uint8(stride * rows);
    for (let i = 0; i < rows; i++) source.set(rowBins.subarray(i * F, i * F + F), i * stride);
    this.source = source;
    this.source32 = new Uint32Array(source.buffer, source.byteOffset, source.length >> 2);
    this.work = alloc.uint8(stride * rows);
    this.work32 = new Uint32Array(this.work.buffer, this.work.byteOffset, this.work.length >> 2);
    this.positions = alloc.uint32(rows);
    for (let k = 0; k < rows; k++) this.positions[k] = k;
    this.order = alloc.uint32(rows);
    this.ghRow = alloc.float64(2 * rows);
    this.exact = new Float64Array(rows);
    this.exactHess = new Float64Array(rows);
    this.gh = alloc.float64(2 * rows);
    this.features = alloc.int32(F);
    this.nBins = alloc.int32(F);
    this.nBins.set(nBins);
    this.partial = alloc.float64(F * FEATURE_SPAN);
    if (!shared) return;
    const control = new SharedArrayBuffer(4 * CTRL_WORDS);
    this.control = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: HistogramWorkerData = {
      control,
      memory: arena?.memory ?? null,
      rowBins: this.work,
      nBins: this.nBins,
      order: this.positions,
      gh: this.gh,
      source: this.source,
      rowOrder: this.order,
      ghRow: this.ghRow,
      features: this.features,
      partial: this.partial,
      columns: this.columns,
      goLeft: this.goLeft,
      right: this.rightHelper,
      N: rows,
      F: stride,
      port: port2,
    };
    this.worker = new Worker(new URL('./histogram-worker.js', import.meta.url), {
      workerData: data,
      transferList: [port2],
    });
    // The helper must never keep the process alive, even if close() is forgotten.
    this.worker.unref();
    port1.unref();
  }

  /** The kernels of the packed builds: WebAssembly over the arena, or the JavaScript ones. */
  readonly kernels: PackedKernels;

  get threaded(): boolean {
    return this.worker !== null;
  }

  /**
   * Sets the features, gradients and hessians (null: all 1) of the next tree. With unit hessians
   * Sets the features, gradients and hessians (null: all 1) of the next tree. The histograms are
   * packed when they can be (`packing` is then set, and the tree must be grown on the gradients
   * in `exact` and the hessians in `exactHess`).
   */
  setTree(features: Int32Array, grad: Float64Array, hess: Float64Array | null): void {
    this.features.set(features);
    this.featureCount = features.length;
    this.identity = features.length === this.F && features.every((f, t) => f === t);
    this.unitHessian = hess === null;
    const gh = this.ghRow;
    const n = gh.length >> 1;
    const packing = packGradients(grad, n, gh, this.exact);
    this.packing = packing && hess ? packHessians(packing, hess, n, gh, this.exactHess) : packing;
    if (this.packing) return;
    for (let i = 0; i < n; i++) gh[2 * i] = grad[i]!;
    if (hess) for (let i = 0; i < n; i++) gh[2 * i + 1] = hess[i]!;
  }

  /** Marks every histogram free (between trees). */
  reset(): void {
    this.free.length = 0;
    for (let k = this.slots.length - 1; k >= 0; k--) this.free.push(k);
  }

  acquire(): number {
    const k = this.free.pop();
    if (k !== undefined) return k;
    const slot = this.alloc.float64(this.F * FEATURE_SPAN);
    this.slots.push(slot);
    const index = this.slots.length - 1;
    if (this.port) {
      const message: SlotMessage = { index, view: slot };
      this.port.postMessage(message);
    }
    return index;
  }

  release(k: number): void {
    this.free.push(k);
  }

  histogram(k: number): Float64Array {
    return this.slots[k]!;
  }

  /**
   * Histograms of rows order[begin..end) for the tree's features, into slot k. A large build is
   * cut in two halves of the rows, the second summed into a separate histogram and then added:
   * with a helper the halves run at once (each thread reads only its rows, and the loop is bound
   * by memory); without one, the same sums in the same order keep the trees identical.
   */
  build(k: number, begin: number, end: number): void {
    const nf = this.featureCount;
    const halves = (end - begin) * nf >= PARALLEL_WORK;
    const mid = halves ? (begin + end) >> 1 : end;
    // Nodes of a quarter of the rows or more are dense enough to be summed in place.
    const gathered = (end - begin) * 4 < this.order.length;
    const packed = this.packing !== null;
    const threaded = halves && this.control !== null;
    // Column by column when the node still has a few rows per cache line of a column (its bins
    // are then read mostly from cache); a sparser node reads each row's line once instead.
    if (packed && gathered && (end - begin) * COLUMN_DENSITY >= this.N) {
      this.buildColumns(k, begin, end, threaded);
      return;
    }
    if (threaded && packed) {
      this.buildChunks(k, begin, end, gathered);
      return;
    }
    if (threaded) {
      this.control![CTRL.gathered] = gathered ? 1 : 0;
      this.start(OP.buildRows, k, -1, mid, end, 0, nf);
    }
    const hist = this.slots[k]!;
    this.sumRows(hist, begin, mid, gathered);
    if (!halves) return;
    const partial = this.partial!;
    if (threaded) this.finish();
    else this.sumRows(partial, mid, end, gathered);
    if (packed) {
      combinePacked(hist, partial, 1, this.packing!.slots, this.nBins, this.features, 0, nf);
      return;
    }
    for (let t = 0; t < nf; t++) {
      const from = this.features[t]! * FEATURE_SPAN;
      const to = from + this.nBins[this.features[t]!]! * STRIDE;
      for (let o = from; o < to; o++) hist[o]! += partial[o]!;
      for (let o = from + MISSING_BIN * STRIDE; o < from + FEATURE_SPAN; o++) hist[o]! += partial[o]!;
    }
  }

  /**
   * Sums rows order[from..to) into `hist` on this thread: gathered into node order first (bins
   * and values) when `gathered`, else read in place; packed or not as the tree is. `clear` false
   * adds to a packed histogram as it is (a build in chunks).
   */
  private sumRows(hist: Float64Array, from: number, to: number, gathered: boolean, clear = true): void {
    if (gathered)
      this.kernels.gatherRows(
        this.order,
        this.source32,
        this.ghRow,
        this.work32,
        this.gh,
        this.stride >> 2,
        this.unitHessian,
        from,
        to,
      );
    const bins = gathered ? this.work : this.source;
    const order = gathered ? this.positions : this.order;
    const v = gathered ? this.gh : this.ghRow;
    const nf = this.featureCount;
    if (this.packing) {
      this.kernels.buildPacked(
        hist,
        bins,
        this.stride,
        order,
        from,
        to,
        v,
        this.packing.slots,
        this.nBins,
        this.features,
        this.identity,
        0,
        nf,
        clear,
      );
      return;
    }
    buildRowMajor(
      hist,
      bins,
      this.stride,
      this.nBins,
      order,
      from,
      to,
      v,
      this.unitHessian,
      this.features,
      this.identity,
      0,
      nf,
    );
  }

  /**
   * A packed build shared by both threads in chunks of rows, each thread claiming the next chunk
   * when done with its last: neither waits for the other, whatever its speed or how late it
   * starts. Packed sums are exact, so the histogram does not depend on who summed which chunk.
   */
  private buildChunks(k: number, begin: number, end: number, gathered: boolean): void {
    const c = this.control!;
    const nf = this.featureCount;
    const hist = this.slots[k]!;
    Atomics.store(c, CTRL.next, begin);
    c[CTRL.gathered] = gathered ? 1 : 0;
    this.start(OP.buildChunks, k, -1, begin, end, 0, nf);
    const slots = this.packing!.slots;
    clearPacked(hist, slots, this.nBins, this.features, 0, nf);
    for (;;) {
      const from = Atomics.add(c, CTRL.next, CHUNK_ROWS);
      if (from >= end) break;
      this.sumRows(hist, from, Math.min(end, from + CHUNK_ROWS), gathered, false);
    }
    this.finish();
    combinePacked(hist, this.partial!, 1, slots, this.nBins, this.features, 0, nf);
  }

  /**
   * A packed build of a small node from the column-major bins, feature by feature: its rows'
   * packed values are gathered into node order first, then each thread claims the next feature
   * until none is left (see `buildPackedColumns`).
   */
  private buildColumns(k: number, begin: number, end: number, threaded: boolean): void {
    const nf = this.featureCount;
    const hist = this.slots[k]!;
    const slots = this.packing!.slots;
    let claim: () => number;
    if (threaded) {
      // Each thread gathers half of the rows' values; both wait for the other before summing.
      const c = this.control!;
      const mid = (begin + end) >>> 1;
      Atomics.store(c, CTRL.next, 0);
      Atomics.store(c, CTRL.gathered2, 0);
      this.start(OP.buildColumns, k, mid, begin, end, 0, nf);
      gatherPacked(this.order, this.ghRow, this.gh, slots, begin, mid);
      Atomics.add(c, CTRL.gathered2, 1);
      awaitCount(c, CTRL.gathered2, 2);
      claim = () => {
        const t = Atomics.add(c, CTRL.next, 1);
        return t < nf ? t : -1;
      };
    } else {
      gatherPacked(this.order, this.ghRow, this.gh, slots, begin, end);
      let next = 0;
      claim = () => (next < nf ? next++ : -1);
    }
    this.kernels.buildPackedColumns(
      hist,
      this.columns,
      this.N,
      this.order,
      begin,
      end,
      this.gh,
      slots,
      this.nBins,
      this.features,
      claim,
    );
    if (threaded) this.finish();
  }

  /**
   * Partitions rows order[begin..end) stably by goLeft[bin of feature f] (left rows first) and
   * returns the number of left rows. A large range is cut in two halves partitioned at once, the
   * helper's moved into place after: [left of 1 | left of 2 | right of 1 | right of 2].
   */
  partition(f: number, goLeft: Uint8Array, begin: number, end: number): number {
    const order = this.order;
    const base = f * this.N;
    // The kernels read the sides from the pool's own copy (the arena's memory, when WebAssembly).
    this.goLeft.set(goLeft);
    if (!this.control || end - begin < POOL_TUNING.parallelPartition) {
      const left = this.kernels.partitionRows(
        order,
        this.columns,
        base,
        this.goLeft,
        begin,
        end,
        this.rightMain,
      );
      const right = end - begin - left;
      if (right < 64) for (let r = 0; r < right; r++) order[begin + left + r] = this.rightMain[r]!;
      else order.set(this.rightMain.subarray(0, right), begin + left);
      return left;
    }
    const mid = (begin + end) >>> 1;
    this.start(OP.partition, f, -1, mid, end, 0, 0);
    const l1 = this.kernels.partitionRows(order, this.columns, base, this.goLeft, begin, mid, this.rightMain);
    this.finish();
    const l2 = this.control[CTRL.result]!;
    const r1 = mid - begin - l1;
    const r2 = end - mid - l2;
    order.copyWithin(begin + l1, mid, mid + l2);
    order.set(this.rightMain.subarray(0, r1), begin + l1 + l2);
    order.set(this.rightHelper.subarray(0, r2), begin + l1 + l2 + r1);
    return l1 + l2;
  }

  /** slot parent −= slot child. */
  subtract(parent: number, child: number): void {
    const nf = this.featureCount;
    const P = this.slots[parent]!;
    const C = this.slots[child]!;
    const packed = this.packing !== null;
    const slots = this.packing?.slots ?? 1;
    // Waking the helper costs about as much as subtracting 50,000 doubles: share only more.
    if (!this.control || nf * BIN_SLOTS * (packed ? slots : STRIDE) < PARALLEL_SUBTRACT) {
      if (packed) combinePacked(P, C, -1, slots, this.nBins, this.features, 0, nf);
      else subtractHistograms(P, C, this.nBins, this.features, 0, nf);
      return;
    }
    const mid = nf >> 1;
    this.start(OP.subtract, parent, child, 0, 0, mid, nf);
    if (packed) combinePacked(P, C, -1, slots, this.nBins, this.features, 0, mid);
    else subtractHistograms(P, C, this.nBins, this.features, 0, mid);
    this.finish();
  }

  private start(
    op: number,
    slot: number,
    other: number,
    begin: number,
    end: number,
    tFrom: number,
    tTo: number,
  ): void {
    const c = this.control!;
    c[CTRL.op] = op;
    c[CTRL.slot] = slot;
    c[CTRL.other] = other;
    c[CTRL.begin] = begin;
    c[CTRL.end] = end;
    c[CTRL.tFrom] = tFrom;
    c[CTRL.tTo] = tTo;
    c[CTRL.unitHessian] = this.unitHessian ? 1 : 0;
    c[CTRL.identity] = this.identity ? 1 : 0;
    c[CTRL.packed] = this.packing ? this.packing.slots : 0;
    this.seq = this.seq === 0x7fffffff ? 1 : this.seq + 1;
    Atomics.store(c, CTRL.seq, this.seq);
    // The helper spins a while after each command; wake it only if it went to sleep. (Both sides
    // store, then load the other's word: sequentially consistent atomics rule out a lost wake-up.)
    if (Atomics.load(c, CTRL.helperAsleep) === 1) Atomics.notify(c, CTRL.seq);
  }

  private finish(): void {
    const c = this.control!;
    const started = Date.now();
    // The helper usually finishes within microseconds of this thread: spin before sleeping.
    for (let spin = 0; spin < SPINS; spin++) if (Atomics.load(c, CTRL.done) === this.seq) return;
    for (;;) {
      Atomics.store(c, CTRL.ownerAsleep, 1);
      const done = Atomics.load(c, CTRL.done);
      if (done !== this.seq) Atomics.wait(c, CTRL.done, done, 1000);
      Atomics.store(c, CTRL.ownerAsleep, 0);
      if (Atomics.load(c, CTRL.done) === this.seq) return;
      // One build takes milliseconds; a minute means the helper died.
      if (Date.now() - started > 60_000) throw new Error('the histogram helper thread stopped answering');
    }
  }

  /** Stops the helper thread. */
  close(): void {
    if (!this.control || !this.worker) return;
    const c = this.control;
    c[CTRL.op] = OP.exit;
    this.seq++;
    Atomics.store(c, CTRL.seq, this.seq);
    Atomics.notify(c, CTRL.seq);
    void this.worker.terminate();
    this.worker = null;
    this.port?.close();
    this.port = null;
    this.control = null;
  }
}
