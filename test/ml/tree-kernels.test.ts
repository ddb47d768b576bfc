/**
 * The WebAssembly histogram kernels (src/ml/tree/kernels.wat) against the JavaScript ones they
 * replace, on the same buffers: every layout (identity and listed features, one and two slots,
 * by rows and by column, partial feature ranges, adding to a histogram), the arena's growth, and
 * the generated module being the one the .wat source compiles to.
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
