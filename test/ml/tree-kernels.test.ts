/**
 * The WebAssembly histogram kernels (src/ml/tree/kernels.wat) against the JavaScript ones they
 * replace, on the same buffers: every layout (identity and listed features, one and two slots,
 * by rows and by column, partial feature ranges, adding to a histogram), the arena's growth, and
 * the gathers and partitions, and the generated module being the one the .wat source compiles to.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createRng } from '../../src/ml/rng.js';
import { MISSING_BIN } from '../../src/ml/tree/binning.js';
import { FEATURE_SPAN, PACKED_SPAN } from '../../src/ml/tree/histogram.js';
import { Arena, jsKernels, wasmKernels } from '../../src/ml/tree/kernels.js';

describe('WebAssembly histogram kernels', () => {
  const N = 3000;
  const F = 19; // not a multiple of 2 or 3: the unrolled loops' remainders run
  const stride = 32;
  const rng = createRng(11);
  const arena = Arena.create(N * (stride + F + 64) + 4 * 8 * F * FEATURE_SPAN)!;
  assert.ok(arena, 'an arena (WebAssembly is available in Node)');
  const wasm = wasmKernels(arena.memory)!;
  const nBins = arena.int32(F);
  for (let f = 0; f < F; f++) nBins[f] = 2 + rng.int(254);
  const bin = (f: number) => (rng.next() < 0.05 ? MISSING_BIN : rng.int(nBins[f]!));
  const rowBins = arena.uint8(N * stride);
  const columns = arena.uint8(N * F);
  for (let i = 0; i < N; i++)
    for (let f = 0; f < F; f++) {
      const b = bin(f);
      rowBins[i * stride + f] = b;
      columns[f * N + i] = b;
    }
  // Packed values are integers (count·2^C + Σq), so that any order sums them exactly.
  const v = arena.float64(2 * N);
  for (let i = 0; i < 2 * N; i++) v[i] = (1 << 20) + rng.int(1 << 19);
  // A node: every third row or so, in order.
  const picked: number[] = [];
  for (let i = 0; i < N; i++) if (rng.next() < 0.35) picked.push(i);
  const order = arena.uint32(picked.length);
  order.set(picked);
  const identity = arena.int32(F);
  identity.forEach((_, t) => (identity[t] = t));
  const listed = arena.int32(7);
  listed.set([18, 0, 5, 6, 11, 2, 17]);
  const a = arena.float64(F * FEATURE_SPAN);
  const b = arena.float64(F * FEATURE_SPAN);

  for (const slots of [1, 2] as const) {
    it(`rows, every feature, ${slots} slot(s): the same sums, also in parts and added to`, () => {
      for (const [tFrom, tTo, begin, end] of [
        [4, 4, 0, 10],
        [0, 1, 0, 1],
        [3, 16, 7, order.length - 5],
        [0, F, 0, order.length],
      ] as const) {
        a.fill(-1);
        b.fill(-1);
        jsKernels.buildPacked(
          a,
          rowBins,
          stride,
          order,
          begin,
          end,
          v,
          slots,
          nBins,
          identity,
          true,
          tFrom,
          tTo,
        );
        wasm.buildPacked(b, rowBins, stride, order, begin, end, v, slots, nBins, identity, true, tFrom, tTo);
        assert.deepEqual(b, a, `features ${tFrom}..${tTo}, rows ${begin}..${end}`);
        // A second pass adding to the first (a build in chunks).
        jsKernels.buildPacked(
          a,
          rowBins,
          stride,
          order,
          0,
          40,
          v,
          slots,
          nBins,
          identity,
          true,
          tFrom,
          tTo,
          false,
        );
        wasm.buildPacked(
          b,
          rowBins,
          stride,
          order,
          0,
          40,
          v,
          slots,
          nBins,
          identity,
          true,
          tFrom,
          tTo,
          false,
        );
        assert.deepEqual(b, a);
      }
      assert.ok(
        a.some((x) => x > 1),
        'something was summed',
      );
    });

    it(`rows, listed features, ${slots} slot(s)`, () => {
      a.fill(0);
      b.fill(0);
      jsKernels.buildPacked(a, rowBins, stride, order, 0, order.length, v, slots, nBins, listed, false, 1, 6);
      wasm.buildPacked(b, rowBins, stride, order, 0, order.length, v, slots, nBins, listed, false, 1, 6);
      assert.deepEqual(b, a);
      // Features outside the list stay untouched.
      assert.equal(a[18 * PACKED_SPAN * slots + rowBins[order[0]! * stride + 18]! * slots], 0);
    });

    it(`by column, ${slots} slot(s), features claimed one at a time`, () => {
      // The column kernels read the values by position in the node (gathered).
      const gathered = arena.float64(2 * order.length);
      for (let k = 0; k < order.length; k++) {
        gathered[2 * k] = v[2 * order[k]!]!;
        gathered[2 * k + 1] = v[2 * order[k]! + 1]!;
      }
      const claims = () => {
        let next = 0;
        return () => (next < F ? next++ : -1);
      };
      a.fill(-1);
      b.fill(-1);
      jsKernels.buildPackedColumns(
        a,
        columns,
        N,
        order,
        5,
        order.length,
        gathered,
        slots,
        nBins,
        identity,
        claims(),
      );
      wasm.buildPackedColumns(
        b,
        columns,
        N,
        order,
        5,
        order.length,
        gathered,
        slots,
        nBins,
        identity,
        claims(),
      );
      assert.deepEqual(b, a);
    });
  }

  for (const unitHessian of [true, false])
    it(`gathers rows into node order (${unitHessian ? 'gradients' : 'gradients and hessians'})`, () => {
      const source32 = new Uint32Array(rowBins.buffer, rowBins.byteOffset, rowBins.length >> 2);
      const works = [arena.uint32(N * (stride >> 2)), arena.uint32(N * (stride >> 2))];
      const ghs = [arena.float64(2 * N), arena.float64(2 * N)];
      jsKernels.gatherRows(
        order,
        source32,
        v,
        works[0]!,
        ghs[0]!,
        stride >> 2,
        unitHessian,
        3,
        order.length - 2,
      );
      wasm.gatherRows(order, source32, v, works[1]!, ghs[1]!, stride >> 2, unitHessian, 3, order.length - 2);
      assert.deepEqual(works[1], works[0]);
      assert.deepEqual(ghs[1], ghs[0]);
      assert.equal(works[0]![3 * (stride >> 2)], source32[order[3]! * (stride >> 2)]);
    });

  it('partitions rows stably by the side of their bin', () => {
    const goLeft = arena.uint8(256);
    for (let bin = 0; bin < 256; bin++) goLeft[bin] = rng.next() < 0.4 ? 1 : 0;
    const orders = [arena.uint32(order.length), arena.uint32(order.length)];
    const rights = [arena.uint32(order.length), arena.uint32(order.length)];
    orders.forEach((o) => o.set(order));
    const f = 7;
    const lefts = [
      jsKernels.partitionRows(orders[0]!, columns, f * N, goLeft, 10, order.length - 10, rights[0]!),
      wasm.partitionRows(orders[1]!, columns, f * N, goLeft, 10, order.length - 10, rights[1]!),
    ];
    assert.equal(lefts[1], lefts[0]);
    assert.ok(lefts[0]! > 0 && lefts[0]! < order.length - 20);
    assert.deepEqual(orders[1], orders[0]);
    assert.deepEqual(
      rights[1]!.subarray(0, order.length - 20 - lefts[0]!),
      rights[0]!.subarray(0, order.length - 20 - lefts[0]!),
    );
    for (let k = 10; k < 10 + lefts[0]!; k++) assert.equal(goLeft[columns[f * N + orders[1]![k]!]!], 1);
  });

  it('an arena grows when a piece does not fit, and earlier views keep their values', () => {
    const small = Arena.create(1000)!;
    const first = small.float64(100);
    first.fill(7);
    const big = small.uint8(5 << 20);
    big.fill(1);
    assert.equal(big.length, 5 << 20);
    assert.ok(small.memory.buffer.byteLength >= 5 << 20);
    assert.ok(first.every((x) => x === 7));
    assert.equal(first.byteOffset % 64, 0);
    assert.equal(big.byteOffset % 64, 0);
  });

  it('the generated module is the one kernels.wat compiles to', () => {
    // Exits 1 when src/ml/tree/kernels-wasm.ts is stale.
    execFileSync(process.execPath, ['scripts/wasm.mjs', '--check'], { stdio: 'pipe' });
  });
});
