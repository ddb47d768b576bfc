// For every registered algorithm and every small dataset of ../shared/data: train, export the
// whole pipeline to ONNX, run it in ONNX Runtime on the test rows, and report the worst difference
// from the TypeScript model, label agreement, and the reference onnx.checker's verdict.
//
//   npm run build && node dist/bench/onnx-parity.js
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { CsvSchemaSniffer } from '../src/data/csv.js';
import { readCsvColumns } from '../src/data/read.js';
import { argmaxRows } from '../src/ml/linear.js';
import { fitPreprocessor, transform, type PreprocessOptions } from '../src/ml/preprocess.js';
import type { Column } from '../src/ml/types.js';
import { exportPipeline } from '../src/onnx/export.js';
import { TRAINERS } from '../src/training/trainers/index.js';
import { replaceSection } from './results.js';

const DATA = resolve('../shared/data');
const SETS: Record<string, 'classification' | 'regression'> = {
  iris: 'classification',
  wine: 'classification',
  breast_cancer: 'classification',
  digits: 'classification',
  diabetes: 'regression',
};
const out = mkdtempSync(join(tmpdir(), 'mass-parity-'));
const rows: string[] = [];
const worst = new Map<string, { diff: number; mismatches: number; checked: number; failed: number }>();

for (const [name, task] of Object.entries(SETS)) {
  const path = join(DATA, `${name}.csv`);
  const sniffer = new CsvSchemaSniffer();
  sniffer.write(readFileSync(path));
  const schema = await sniffer.end();
  const columns = await readCsvColumns(path, schema.columns, schema.rowCount);
  const split = JSON.parse(readFileSync(join(DATA, 'splits', `${name}.split.json`), 'utf8')) as {
    train: number[];
    test: number[];
  };
  const train = Uint32Array.from(split.train);
  const test = Uint32Array.from(split.test);
  const target = columns.find((c) => c.name === 'target')!.values as Float64Array;
  const features = columns.filter((c) => c.name !== 'target') as Column[];
  const classes = [...new Set(target)].sort((a, b) => a - b);
  const index = new Map(classes.map((c, k) => [c, k]));
  for (const trainer of Object.values(TRAINERS)) {
    if (!trainer.tasks.includes(task)) continue;
    const pre = fitPreprocessor(features, train, { mode: trainer.preprocessing } as PreprocessOptions);
    const X = transform(pre, features, train);
    const y =
      task === 'classification'
        ? Int32Array.from(train, (i) => index.get(target[i]!)!)
        : Float64Array.from(train, (i) => target[i]!);
    let fitted;
    try {
      const params = Object.fromEntries(Object.entries(trainer.params).map(([k, s]) => [k, s.default]));
      fitted = trainer.fit(X, y, params, {
        task,
        classes: classes.length,
        seed: 0,
        onProgress: () => undefined,
      });
    } catch (error) {
      rows.push(`| ${trainer.name} | ${name} | refused: ${(error as Error).message.slice(0, 60)} | | |`);
      continue;
    }
    const onnx = exportPipeline({
      preprocessor: pre,
      head: fitted.head,
      ...(task === 'classification' ? { labels: classes } : {}),
      graphName: trainer.name,
      metadata: {},
    });
    const file = join(out, `${trainer.name}-${name}.onnx`);
    writeFileSync(file, onnx);
    const session = await ort.InferenceSession.create(onnx);
    const feeds: Record<string, ort.Tensor> = {};
    for (const c of features) {
      const v = c.values as Float64Array;
      feeds[c.name] = new ort.Tensor(
        'float32',
        Float32Array.from(test, (i) => v[i]!),
        [test.length, 1],
      );
    }
    const result = await session.run(feeds);
    const ts = fitted.predict(transform(pre, features, test));
    let diff = 0;
    let mismatches = 0;
    if (task === 'classification') {
      const P = result.probabilities!.data as Float32Array;
      for (let k = 0; k < ts.length; k++) diff = Math.max(diff, Math.abs(P[k]! - ts[k]!));
      const labels = result.label!.data as BigInt64Array;
      const expected = argmaxRows(ts, test.length, classes.length);
      for (let i = 0; i < test.length; i++) if (Number(labels[i]) !== classes[expected[i]!]) mismatches++;
    } else {
      const v = result.value!.data as Float32Array;
      for (let i = 0; i < ts.length; i++)
        diff = Math.max(diff, Math.abs(v[i]! - ts[i]!) / Math.max(1, Math.abs(ts[i]!)));
    }
    const w = worst.get(trainer.name) ?? { diff: 0, mismatches: 0, checked: 0, failed: 0 };
    w.diff = Math.max(w.diff, diff);
    w.mismatches += mismatches;
    const checker = spawnSync('/usr/bin/python3', ['scripts/check-onnx.py', file], { encoding: 'utf8' });
    w.checked++;
    if (checker.status !== 0) w.failed++;
    worst.set(trainer.name, w);
    rows.push(
      `| ${trainer.name} | ${name} | ${diff.toExponential(1)} | ${mismatches} | ${checker.status === 0 ? 'ok' : 'FAIL'} |`,
    );
    console.error(
      `${trainer.name} ${name}: ${diff.toExponential(2)} ${mismatches} ${checker.status === 0 ? 'ok' : checker.stdout + checker.stderr}`,
    );
  }
}
const summary = [...worst.entries()].map(
  ([n, w]) =>
    `| ${n} | ${w.diff.toExponential(1)} | ${w.mismatches} | ${w.checked - w.failed}/${w.checked} |`,
);
const text = [
  'Command: `npm run build && node dist/bench/onnx-parity.js`. Default parameters, seed 0, the fixed test split. Worst difference:',
  'absolute on probabilities (classification), relative on values (regression), ONNX Runtime vs the TypeScript model.',
  '',
  '| algorithm | worst difference | label mismatches | onnx.checker |',
  '|---|---|---|---|',
  ...summary,
  '',
  '<details><summary>per dataset</summary>',
  '',
  '| algorithm | dataset | worst difference | label mismatches | onnx.checker |',
  '|---|---|---|---|---|',
  ...rows,
  '',
  '</details>',
].join('\n');
replaceSection('bench/RESULTS.md', 'ONNX parity of every algorithm', text);
console.log(text);
