// Linear and logistic regression of Mass against scikit-learn, side by side in one run, on every
// dataset of ../shared/data with its fixed split. Writes the table into bench/RESULTS.md.
//
//   npm run bench:linear            (installs python3-sklearn with apt-get when missing and root)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { CsvSchemaSniffer } from '../src/data/csv.js';
import { readCsvColumns } from '../src/data/read.js';
import { fitLogisticDetailed, fitRidge, predictLinear, predictProba } from '../src/ml/linear.js';
import { classificationReport, regressionReport } from '../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../src/ml/preprocess.js';
import type { Column } from '../src/ml/types.js';
import { replaceSection } from './results.js';
import { ensurePython } from './peers.js';

const DATA = resolve('../shared/data');
const NAMES = ['iris', 'wine', 'breast_cancer', 'digits', 'synth_clf_200k', 'diabetes', 'synth_reg_200k'];
const REPS = 3;

interface Row {
  name: string;
  task: string;
  massFit: number;
  massMetric: number;
  massAuc?: number;
  peerFit?: number;
  peerMetric?: number;
  peerAuc?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function load(name: string) {
  const path = join(DATA, `${name}.csv`);
  const sniffer = new CsvSchemaSniffer();
  sniffer.write(readFileSync(path));
  const schema = await sniffer.end();
  const columns = await readCsvColumns(path, schema.columns, schema.rowCount);
  const split = JSON.parse(readFileSync(join(DATA, 'splits', `${name}.split.json`), 'utf8')) as {
    train: number[];
    test: number[];
  };
  const target = columns.find((c) => c.name === 'target')!.values as Float64Array;
  const features = columns.filter((c) => c.name !== 'target') as Column[];
  return { features, target, train: Uint32Array.from(split.train), test: Uint32Array.from(split.test) };
}

async function runMass(name: string, task: string): Promise<Row> {
  const { features, target, train, test } = await load(name);
  const times: number[] = [];
  let metric = 0;
  let auc: number | undefined;
  for (let rep = 0; rep < REPS; rep++) {
    // Timed like scikit-learn's pipeline .fit: preprocessing included.
    const t0 = performance.now();
    const pre = fitPreprocessor(features, train);
    const Xtr = transform(pre, features, train);
    if (task === 'regression') {
      const model = fitRidge(
        Xtr,
        Float64Array.from(train, (i) => target[i]!),
        { l2: 1 },
      );
      times.push(performance.now() - t0);
      const report = regressionReport(
        Float64Array.from(test, (i) => target[i]!),
        predictLinear(model, transform(pre, features, test)),
      );
      metric = report.metrics.r2!;
    } else {
      const classes = [...new Set(target)].sort((a, b) => a - b);
      const index = new Map(classes.map((c, k) => [c, k]));
      const y = (rows: Uint32Array) => Int32Array.from(rows, (i) => index.get(target[i]!)!);
      const fit = fitLogisticDetailed(Xtr, y(train), classes.length, { l2: 1, maxIter: 1000 });
      times.push(performance.now() - t0);
      const report = classificationReport(
        y(test),
        predictProba(fit.model, transform(pre, features, test)),
        classes.length,
      );
      metric = report.metrics.accuracy!;
      auc = report.metrics.roc_auc;
    }
  }
  return {
    name,
    task,
    massFit: median(times) / 1000,
    massMetric: metric,
    ...(auc !== undefined ? { massAuc: auc } : {}),
  };
}

const manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Record<
  string,
  { task: string }
>;
const rows: Row[] = [];
for (const name of NAMES) {
  const row = await runMass(name, manifest[name]!.task);
  rows.push(row);
  console.error(
    `mass ${name}: fit ${(row.massFit * 1000).toFixed(1)} ms, metric ${row.massMetric.toFixed(4)}`,
  );
}
let sklearnVersion = 'not available';
if (ensurePython(['sklearn', 'pandas'])) {
  const peer = JSON.parse(
    execFileSync('/usr/bin/python3', ['bench/peers_linear.py', DATA, ...NAMES], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    }),
  ) as Record<string, { fit_s: number; accuracy?: number; r2?: number; roc_auc?: number }> & {
    _env: { sklearn: string };
  };
  sklearnVersion = peer._env.sklearn;
  for (const row of rows) {
    const p = peer[row.name]!;
    row.peerFit = p.fit_s;
    row.peerMetric = row.task === 'regression' ? p.r2 : p.accuracy;
    if (p.roc_auc !== undefined) row.peerAuc = p.roc_auc;
  }
} else {
  console.error('!!! scikit-learn is not available: only Mass figures are written');
}

const f4 = (x?: number) => (x === undefined ? '–' : x.toFixed(4));
const ms = (s?: number) =>
  s === undefined ? '–' : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; scikit-learn ${sklearnVersion} (Debian).`,
  `Command: \`npm run bench:linear\`. Fit time: median of ${REPS} fits, preprocessing included; metric on the fixed test split.`,
  '',
  '| dataset | model | Mass fit | scikit-learn fit | time ratio | Mass metric | scikit-learn metric | difference |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const model = r.task === 'regression' ? 'ridge (l2=1), R²' : 'logistic (l2=1), accuracy';
    const ratio = r.peerFit ? `${(r.massFit / r.peerFit).toFixed(2)}×` : '–';
    const diff =
      r.peerMetric === undefined
        ? '–'
        : (Math.abs(r.massMetric - r.peerMetric) < 5e-5 ? 0 : r.massMetric - r.peerMetric).toFixed(4);
    return `| ${r.name} | ${model} | ${ms(r.massFit)} | ${ms(r.peerFit)} | ${ratio} | ${f4(r.massMetric)} | ${f4(r.peerMetric)} | ${diff} |`;
  }),
];
replaceSection('bench/RESULTS.md', 'Linear models against scikit-learn', lines.join('\n'));
console.log(lines.join('\n'));
