// The shared datasets of ../shared/data (header row, numbers only, `target` last) with their
// fixed splits, for the parity tests. A missing file makes the caller skip loudly.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import type { Matrix, NumericColumn } from '../../src/ml/types.js';

export const DATA = resolve('../shared/data');

export interface SharedDataset {
  readonly columns: NumericColumn[];
  readonly target: Float64Array;
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/** `<name>.csv` as numeric columns (empty cells are NaN) with its split; null when absent. */
export function loadShared(name: string): SharedDataset | null {
  const csv = join(DATA, `${name}.csv`);
  const splitFile = join(DATA, 'splits', `${name}.split.json`);
  if (!existsSync(csv) || !existsSync(splitFile)) return null;
  const lines = readFileSync(csv, 'utf8').trimEnd().split(/\r?\n/);
  const header = lines[0]!.split(',');
  assert.equal(header.at(-1), 'target');
  const n = lines.length - 1;
  const values = header.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1]!.split(',');
    assert.equal(cells.length, header.length, `row ${i} of ${name}.csv`);
    cells.forEach((cell, j) => (values[j]![i] = cell === '' ? NaN : Number(cell)));
  }
  const split = JSON.parse(readFileSync(splitFile, 'utf8')) as { train: number[]; test: number[] };
  return {
    columns: header.slice(0, -1).map((h, j) => ({ name: h, kind: 'numeric', values: values[j]! })),
    target: values.at(-1)!,
    train: Uint32Array.from(split.train),
    test: Uint32Array.from(split.test),
  };
}

/** Like `loadShared`, but skips the test loudly when the data is absent. */
export function loadSharedOrSkip(t: TestContext, name: string, what = 'test'): SharedDataset | null {
  const d = loadShared(name);
  if (!d) {
    console.warn(`!!! ${name}.csv or its split is missing under ${DATA}: this ${what} is SKIPPED`);
    t.skip(`SKIPPED: ${name} missing under ${DATA}`);
  }
  return d;
}

export interface RawSplit {
  readonly Xtrain: Matrix;
  readonly ytrain: Float64Array;
  readonly Xtest: Matrix;
  readonly ytest: Float64Array;
}

/** The raw (unscaled) feature matrices and targets of the two sides of the split. */
export function rawSplit(d: SharedDataset): RawSplit {
  const take = (rows: Uint32Array): Matrix => {
    const data = new Float64Array(rows.length * d.columns.length);
    d.columns.forEach((c, j) => rows.forEach((r, k) => (data[j * rows.length + k] = c.values[r]!)));
    return { data, rows: rows.length, cols: d.columns.length };
  };
  const y = (rows: Uint32Array) => Float64Array.from(rows, (r) => d.target[r]!);
  return { Xtrain: take(d.train), ytrain: y(d.train), Xtest: take(d.test), ytest: y(d.test) };
}
