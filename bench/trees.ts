// Gradient-boosted trees and random forests of Mass against scikit-learn 1.2 (HistGradientBoosting,
// RandomForest) and XGBoost 1.7, side by side in one run, on every dataset of ../shared/data with
// its fixed split. Each fit runs in its own process (Node or Python), one after the other, so that
// the peak memory is the model's own and the two never share the cores. Writes a table into
// bench/RESULTS.md.
//
//   npx tsc -p tsconfig.json && node dist/bench/trees.js        (about 25 minutes: scikit-learn's
//                                                               random forests take most of it)
//   node dist/bench/trees.js --only iris,diabetes               (a subset)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvSchemaSniffer } from '../src/data/csv.js';
import { readCsvColumns } from '../src/data/read.js';
import { fitForest, predictForest } from '../src/ml/forest.js';
import { fitGbdt, predictGbdt } from '../src/ml/gbdt.js';
import { classificationReport, regressionReport } from '../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../src/ml/preprocess.js';
import type { Column } from '../src/ml/types.js';
import { replaceSection } from './results.js';
import { ensurePython, PYTHON } from './peers.js';

const DATA = resolve('../shared/data');
const NAMES = ['iris', 'wine', 'breast_cancer', 'digits', 'synth_clf_200k', 'diabetes', 'synth_reg_200k'];
const LARGE = new Set(['synth_clf_200k', 'synth_reg_200k']);

/** What one fit reports, from either side. */
interface Result {
  fit_s: number;
  fit_s_all: number[];
  rss_before_kb: number;
  peak_kb: number;
  iterations?: number;
  accuracy?: number;
  roc_auc?: number;
  rmse?: number;
  r2?: number;
  oob?: number;
  sklearn?: string;
  xgboost?: string;
}

function statusKb(field: string): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) : 0;
}

/**
 * Collects garbage and resets the peak-RSS counter (Linux: "5" into /proc/self/clear_refs), so
 * that VmHWM afterwards measures the fit, not the CSV parsing before it.
 */
function resetPeak(): void {
  (globalThis as { gc?: () => void }).gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak then includes loading.
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One Mass model on one dataset, in this process; prints a Result as JSON. */
async function runOne(model: string, name: string, reps: number): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Record<
    string,
    { task: string }
  >;
  const regression = manifest[name]!.task === 'regression';
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
  const train = Uint32Array.from(split.train);
  const test = Uint32Array.from(split.test);
  const yValues = Float64Array.from(train, (i) => target[i]!);
  const y = regression ? yValues : Int32Array.from(yValues);
  resetPeak();
  const rssBefore = statusKb('VmRSS');
  const times: number[] = [];
  let predict: ((X: ReturnType<typeof transform>) => Float64Array) | undefined;
  let iterations: number | undefined;
  let oob: number | undefined;
  let classes = 1;
  let pre = fitPreprocessor(features, train, { mode: 'raw' });
  for (let rep = 0; rep < reps; rep++) {
    // Timed like scikit-learn's .fit on the numbers: the 'raw' preprocessing is included.
    const t0 = performance.now();
    pre = fitPreprocessor(features, train, { mode: 'raw' });
    const X = transform(pre, features, train);
    if (model === 'rf') {
      const m = fitForest(X, y, { task: regression ? 'regression' : 'classification', seed: 0 });
      predict = (Z) => predictForest(m, Z);
      oob = m.oobScore;
      classes = m.classes;
    } else {
      const m = fitGbdt(X, y, {
        loss: regression ? 'squared_error' : 'log_loss',
        seed: 0,
        ...(model === 'gbdt100' ? { earlyStopping: false } : {}),
      });
      predict = (Z) => predictGbdt(m, Z);
      iterations = m.iterations;
      classes = m.classes;
    }
    times.push((performance.now() - t0) / 1000);
  }
  const peak = statusKb('VmHWM');
  const predicted = predict!(transform(pre, features, test));
  const yTest = Float64Array.from(test, (i) => target[i]!);
  const result: Result = { fit_s: median(times), fit_s_all: times, rss_before_kb: rssBefore, peak_kb: peak };
  if (iterations !== undefined) result.iterations = iterations;
  if (oob !== undefined) result.oob = oob;
  if (regression) {
    const r = regressionReport(yTest, predicted).metrics;
    result.rmse = r.rmse!;
    result.r2 = r.r2!;
  } else {
    const r = classificationReport(Int32Array.from(yTest), predicted, classes).metrics;
    result.accuracy = r.accuracy!;
    result.roc_auc = r.roc_auc!;
  }
  console.log(JSON.stringify(result));
}

function mass(model: string, name: string, reps: number): Result {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--expose-gc', script, '--one', model, name, String(reps)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

/**
 * OpenMP's default wait policy spins at every barrier; on a machine shared with other work its
 * threads then spin against descheduled peers and HistGradientBoosting runs 10–100× slower (0.1 s
 * becomes 17–50 s on breast_cancer at a load of 13 on 2 cores). PASSIVE (threads sleep at
 * barriers) keeps the peer's figures meaningful under load, but on a quiet machine it makes
 * HistGradientBoosting about twice as slow (2.2 s → 4.2 s on synth_reg_200k): there the peer runs
 * with OpenMP's defaults, as its users run it. Set OMP_WAIT_POLICY in the environment to override.
 */
const LOADED = loadavg()[0]! > cpus().length / 2;
const PEER_POLICY = process.env.OMP_WAIT_POLICY ?? (LOADED ? 'PASSIVE' : undefined);
const PEER_ENV = { ...process.env, ...(PEER_POLICY ? { OMP_WAIT_POLICY: PEER_POLICY } : {}) };

function peer(model: string, name: string, reps: number): Result {
  const out = execFileSync(PYTHON, ['bench/peers_trees.py', DATA, name, model, String(reps)], {
    env: PEER_ENV,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

interface Row {
  name: string;
  regression: boolean;
  mass: string;
  peer: string;
  m: Result;
  p?: Result;
}

async function main(): Promise<void> {
  const only = process.argv.indexOf('--only');
  const names = only > 0 ? process.argv[only + 1]!.split(',') : NAMES;
  const manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Record<
    string,
    { task: string }
  >;
  const peers = ensurePython(['sklearn', 'xgboost', 'pandas']);
  if (!peers) console.error('!!! scikit-learn / XGBoost are not available: only Mass figures are written');
  const rows: Row[] = [];
  const loadStart = loadavg()[0]!;
  let sklearnVersion = 'not available';
  let xgboostVersion = 'not available';
  for (const name of names) {
    const regression = manifest[name]!.task === 'regression';
    const large = LARGE.has(name);
    const pairs: [string, string, string, number][] = [
      ['gbdt', 'hgb', 'HistGradientBoosting', 3],
      ['gbdt', 'xgb', 'XGBoost (100, hist)', 3],
      ...(large
        ? ([['gbdt100', 'hgb100', 'HistGradientBoosting, no early stopping', 3]] as [
            string,
            string,
            string,
            number,
          ][])
        : []),
      // scikit-learn's forests take minutes on the 200k sets: one fit there, as bench_train.py.
      ['rf', 'rf', 'RandomForest (100)', large ? 1 : 3],
    ];
    const massCache = new Map<string, Result>();
    for (const [massModel, peerModel, peerName, reps] of pairs) {
      let m = massCache.get(massModel);
      if (!m) {
        m = mass(massModel, name, reps);
        massCache.set(massModel, m);
        console.error(
          `mass ${massModel} ${name}: ${m.fit_s.toFixed(3)} s ${JSON.stringify({ ...m, fit_s_all: undefined })}`,
        );
      }
      const p = peers ? peer(peerModel, name, reps) : undefined;
      if (p) {
        console.error(
          `peer ${peerModel} ${name}: ${p.fit_s.toFixed(3)} s ${JSON.stringify({ ...p, fit_s_all: undefined })}`,
        );
        if (p.sklearn) sklearnVersion = p.sklearn;
        if (p.xgboost) xgboostVersion = p.xgboost;
      }
      const massName =
        massModel === 'rf'
          ? 'random forest (100)'
          : massModel === 'gbdt100'
            ? 'boosting, 100 rounds'
            : 'boosting';
      rows.push({ name, regression, mass: massName, peer: peerName, m, ...(p ? { p } : {}) });
    }
  }

  const f4 = (x?: number) => (x === undefined ? '–' : x.toFixed(4));
  const time = (s?: number) =>
    s === undefined ? '–' : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
  const mb = (kb?: number) => (kb === undefined ? '–' : `${Math.round(kb / 1024)}`);
  const quality = (r: Row) => {
    if (r.regression) {
      const ratio = r.p?.rmse ? `${(((r.m.rmse! - r.p.rmse) / r.p.rmse) * 100).toFixed(1)}%` : '–';
      return `RMSE ${r.m.rmse!.toFixed(2)} | ${r.p?.rmse?.toFixed(2) ?? '–'} | ${ratio}`;
    }
    const pp = r.p?.accuracy !== undefined ? `${((r.m.accuracy! - r.p.accuracy) * 100).toFixed(2)} pp` : '–';
    const auc = r.p?.roc_auc !== undefined ? (r.m.roc_auc! - r.p.roc_auc).toFixed(4) : '–';
    return `acc ${f4(r.m.accuracy)}, AUC ${f4(r.m.roc_auc)} | acc ${f4(r.p?.accuracy)}, AUC ${f4(r.p?.roc_auc)} | ${pp}, AUC ${auc}`;
  };
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; scikit-learn ${sklearnVersion}, XGBoost ${xgboostVersion} (Debian).`,
    'Command: `npx tsc -p tsconfig.json && node dist/bench/trees.js`. Each fit in its own process, one at a time.',
    `Load average (1 min) ${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end on ${cpus().length} cores${LOADED ? ': other work shared the machine, so compare the two sides of one row, not rows across runs' : ''}. ${PEER_POLICY ? `The peers run with OMP_WAIT_POLICY=${PEER_POLICY} (the machine was loaded: with OpenMP's default spinning they slow down 10–100× then).` : "The peers run with OpenMP's default wait policy (the machine was quiet)."}`,
    'Fit time: median of 3 fits (1 for the random forests on the 200k sets), preprocessing included; metrics on the fixed test split.',
    "Mass defaults are scikit-learn's: boosting stops early on 10% of the rows above 10,000 rows (as HistGradientBoosting); XGBoost runs 100 rounds.",
    'Peak: VmHWM of the fitting process in MB, counted from after the data was loaded and garbage collected (the counter is reset through /proc/self/clear_refs), and in brackets its growth over the loaded data (VmRSS before the first fit).',
    '',
    '| dataset | Mass model | peer | Mass fit | peer fit | time ratio | Mass quality | peer quality | difference | Mass peak (fit) | peer peak (fit) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const ratio = r.p ? `${(r.m.fit_s / r.p.fit_s).toFixed(2)}×` : '–';
      const iters = (x?: Result) => (x?.iterations !== undefined ? ` (${x.iterations} it.)` : '');
      return `| ${r.name} | ${r.mass}${iters(r.m)} | ${r.peer}${iters(r.p)} | ${time(r.m.fit_s)} | ${time(r.p?.fit_s)} | ${ratio} | ${quality(r)} | ${mb(r.m.peak_kb)} (${mb(r.m.peak_kb - r.m.rss_before_kb)}) | ${mb(r.p?.peak_kb)} (${r.p ? mb(r.p.peak_kb - r.p.rss_before_kb) : '–'}) |`;
    }),
  ];
  const oob = rows.filter((r) => r.m.oob !== undefined && r.mass.startsWith('random'));
  if (oob.length > 0) {
    lines.push(
      '',
      `Out-of-bag score of the Mass forests (accuracy or R²): ${oob.map((r) => `${r.name} ${r.m.oob!.toFixed(4)}`).join(', ')}.`,
    );
  }
  replaceSection('bench/RESULTS.md', 'Tree models against scikit-learn and XGBoost', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--one') {
  await runOne(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}
