// Mass's classic models (k-means, naive Bayes, linear SVM, coordinate descent) against their
// scikit-learn counterparts, side by side in one run, on the datasets of ../shared/data with their
// fixed splits. Writes a table into bench/RESULTS.md.
//
//   npx tsc -p tsconfig.json && node dist/bench/classic.js [--reps 3] [--only kmeans,linear_svm]
//
// Each (model, dataset) pair runs in a fresh process on each side (this script with `--child`,
// and bench/peers_classic.py), reading the features from a binary file written here, so that
// "peak" is the growth of the process's peak resident set during the first fit and nothing
// else. Fit time: median of the fits, preprocessing included (as a scikit-learn Pipeline's .fit).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classificationReport, regressionReport } from '../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../src/ml/preprocess.js';
import type { Column } from '../src/ml/types.js';
import type { Params, Trainer } from '../src/training/trainer.js';
import { kmeans } from '../src/training/trainers/kmeans.js';
import { gaussianNB, multinomialNB } from '../src/training/trainers/naive-bayes.js';
import { elasticNet, sparseLogistic } from '../src/training/trainers/sparse-linear.js';
import { linearSVM } from '../src/training/trainers/svm.js';
import { replaceSection } from './results.js';

const DATA = resolve('../shared/data');
const BINS = join(tmpdir(), 'mass-bench-classic');
const SELF = fileURLToPath(import.meta.url);
const PEERS = resolve('bench/peers_classic.py');
const CLASSIFICATION = ['iris', 'wine', 'breast_cancer', 'digits', 'synth_clf_200k'];
const REGRESSION = ['diabetes', 'synth_reg_200k'];

interface ModelSpec {
  readonly trainer: Trainer;
  readonly label: string;
  readonly params?: Params;
  readonly datasets: readonly string[];
}

const MODELS: Record<string, ModelSpec> = {
  gaussian_nb: { trainer: gaussianNB, label: 'GaussianNB', datasets: CLASSIFICATION },
  multinomial_nb: { trainer: multinomialNB, label: 'MultinomialNB (raw counts)', datasets: CLASSIFICATION },
  linear_svm: { trainer: linearSVM, label: 'LinearSVC (squared hinge, C=1)', datasets: CLASSIFICATION },
  sparse_logistic: {
    trainer: sparseLogistic,
    label: 'L1 logistic (C=1) vs saga',
    datasets: CLASSIFICATION,
  },
  elastic_net: { trainer: elasticNet, label: 'ElasticNet (α=1, ρ=0.5)', datasets: REGRESSION },
  lasso: { trainer: elasticNet, label: 'Lasso (α=1)', params: { l1Ratio: 1 }, datasets: REGRESSION },
  kmeans: {
    trainer: kmeans,
    label: 'KMeans (n_init=1), Lloyd',
    params: { algorithm: 'lloyd' },
    datasets: ['iris', 'synth_clf_200k'],
  },
  kmeans_minibatch: {
    trainer: kmeans,
    label: 'MiniBatchKMeans (n_init=1)',
    params: { algorithm: 'minibatch' },
    datasets: ['synth_clf_200k'],
  },
};

interface Meta {
  readonly rows: number;
  readonly cols: number;
  readonly task: string;
  readonly names: string[];
}

/** Parses a numeric CSV (header, target last) into column-major features and the target. */
function readNumericCsv(name: string): { meta: Meta; X: Float64Array; y: Float64Array } {
  const lines = readFileSync(join(DATA, `${name}.csv`), 'utf8')
    .trimEnd()
    .split(/\r?\n/);
  const header = lines[0]!.split(',');
  const n = lines.length - 1;
  const F = header.length - 1;
  const X = new Float64Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1]!.split(',');
    for (let j = 0; j < F; j++) X[j * n + i] = cells[j] === '' ? NaN : Number(cells[j]);
    y[i] = Number(cells[F]);
  }
  const manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Record<
    string,
    { task: string }
  >;
  return { meta: { rows: n, cols: F, task: manifest[name]!.task, names: header.slice(0, F) }, X, y };
}

function writeBins(name: string): void {
  if (existsSync(join(BINS, `${name}.json`))) return;
  const { meta, X, y } = readNumericCsv(name);
  writeFileSync(join(BINS, `${name}.f64`), new Uint8Array(X.buffer));
  writeFileSync(join(BINS, `${name}.y.f64`), new Uint8Array(y.buffer));
  writeFileSync(join(BINS, `${name}.json`), JSON.stringify(meta));
}

function readBin(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Figures {
  fit_s?: number;
  peak_mb?: number;
  accuracy?: number;
  roc_auc?: number;
  rmse?: number;
  inertia?: number;
  iterations?: number;
  error?: string;
}

/** `--child MODEL DATASET REPS`: one pair, in this process; prints its figures as JSON. */
function child(modelName: string, name: string, reps: number): Figures {
  const spec = MODELS[modelName]!;
  const meta = JSON.parse(readFileSync(join(BINS, `${name}.json`), 'utf8')) as Meta;
  const Xall = readBin(join(BINS, `${name}.f64`));
  const target = readBin(join(BINS, `${name}.y.f64`));
  const n = meta.rows;
  const columns: Column[] = meta.names.map((c, j) => ({
    name: c,
    kind: 'numeric',
    values: Xall.subarray(j * n, (j + 1) * n),
  }));
  const split = JSON.parse(readFileSync(join(DATA, 'splits', `${name}.split.json`), 'utf8')) as {
    train: number[];
    test: number[];
  };
  const clustering = spec.trainer.tasks.includes('clustering');
  const train = clustering ? Uint32Array.from({ length: n }, (_, i) => i) : Uint32Array.from(split.train);
  const test = Uint32Array.from(split.test);
  const classes = meta.task === 'regression' || clustering ? 0 : new Set(target).size;
  const yOf = (rows: Uint32Array) =>
    meta.task === 'regression'
      ? Float64Array.from(rows, (i) => target[i]!)
      : Int32Array.from(rows, (i) => target[i]!);
  const params: Record<string, Params[string]> = {};
  for (const [key, p] of Object.entries(spec.trainer.params)) params[key] = p.default;
  Object.assign(params, spec.params ?? {});
  if (clustering && name === 'iris') params.k = 3;

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().rss;
  const times: number[] = [];
  let peak = 0;
  let out: Figures = {};
  // At least `reps` fits, more (up to 50) while they add up to under a second: a fast fit is then
  // timed warm, as in a running worker (peers_classic.py does the same).
  for (let rep = 0; rep < reps || (times.reduce((s, t) => s + t, 0) < 1 && rep < 50); rep++) {
    const t0 = performance.now();
    // k-means on the raw features, as scikit-learn's KMeans in the reference figures (the trainer
    // standardizes, which changes the inertia's units); everything else as the trainer asks.
    const pre = fitPreprocessor(columns, train, { mode: clustering ? 'raw' : spec.trainer.preprocessing });
    const Xtr = transform(pre, columns, train);
    let fitted;
    try {
      fitted = spec.trainer.fit(Xtr, clustering ? undefined : yOf(train), params, {
        task: clustering ? 'clustering' : meta.task === 'regression' ? 'regression' : 'classification',
        classes,
        seed: 0,
        onProgress: () => {},
      });
    } catch (e) {
      return { error: (e as Error).message };
    }
    times.push((performance.now() - t0) / 1000);
    if (rep === 0) peak = process.resourceUsage().maxRSS * 1024 - base;
    const slow = times[0]! > 10; // as peers_classic.py: a fit over 10 s is timed once
    if (clustering) {
      out = {
        inertia: fitted.info.inertia as number,
        iterations: fitted.info.iterations as number,
      };
    } else {
      const Xte = transform(pre, columns, test);
      const predicted = fitted.predict(Xte);
      if (meta.task === 'regression') {
        out = { rmse: regressionReport(yOf(test), predicted).metrics.rmse! };
      } else {
        const m = classificationReport(yOf(test) as Int32Array, predicted, classes).metrics;
        out = { accuracy: m.accuracy!, roc_auc: m.roc_auc! };
      }
    }
    gc?.();
    if (slow) break;
  }
  return { ...out, fit_s: median(times), peak_mb: Math.max(0, peak) / 2 ** 20 };
}

function peer(model: string, name: string, reps: number): Figures {
  const r = spawnSync('/usr/bin/python3', [PEERS, DATA, BINS, model, name, String(reps)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').pop()! };
  return JSON.parse(r.stdout) as Figures;
}

function mass(model: string, name: string, reps: number): Figures {
  const r = spawnSync(process.execPath, ['--expose-gc', SELF, '--child', model, name, String(reps)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').pop()! };
  return JSON.parse(r.stdout) as Figures;
}

function sklearnAvailable(): string | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import sklearn; print(sklearn.__version__)'], {
    encoding: 'utf8',
  });
  if (r.status === 0) return r.stdout.trim();
  if (process.getuid?.() === 0) {
    console.error('installing python3-sklearn with apt-get ...');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-sklearn'], {
      stdio: 'inherit',
    });
    return sklearnAvailable();
  }
  return undefined;
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  console.log(JSON.stringify(child(args[1]!, args[2]!, Number(args[3] ?? 3))));
} else {
  const opt = (flag: string): string | undefined => {
    const k = args.indexOf(flag);
    return k >= 0 ? args[k + 1] : undefined;
  };
  const reps = Number(opt('--reps') ?? 3);
  const only = opt('--only')?.split(',');
  mkdirSync(BINS, { recursive: true });
  const version = sklearnAvailable();
  if (!version) console.error('!!! scikit-learn is not available: only Mass figures are written');

  const f4 = (x?: number) => (x === undefined ? '–' : x.toFixed(4));
  const time = (s?: number) =>
    s === undefined ? '–' : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
  const mb = (x?: number) => (x === undefined ? '–' : `${x.toFixed(0)} MB`);
  const rows: string[] = [];
  const kmRows: string[] = [];
  const loadStart = loadavg()[0]!;
  let kmeansSynth: Figures | undefined;
  let kmeansSynthPeer: Figures | undefined;
  for (const [model, spec] of Object.entries(MODELS)) {
    if (only && !only.includes(model)) continue;
    for (const name of spec.datasets) {
      writeBins(name);
      const m = mass(model, name, reps);
      const p = version ? peer(model, name, reps) : {};
      console.error(`${model} ${name}: mass ${JSON.stringify(m)} sklearn ${JSON.stringify(p)}`);
      const ratio = m.fit_s !== undefined && p.fit_s ? `${(m.fit_s / p.fit_s).toFixed(2)}×` : '–';
      if (model === 'kmeans' && name === 'synth_clf_200k') {
        kmeansSynth = m;
        kmeansSynthPeer = p;
      }
      if (model.startsWith('kmeans')) {
        const d =
          m.inertia !== undefined && p.inertia
            ? `${(((m.inertia - p.inertia) / p.inertia) * 100).toFixed(2)}%`
            : '–';
        kmRows.push(
          `| ${name} | ${spec.label} | ${time(m.fit_s)} | ${time(p.fit_s)} | ${ratio} | ${m.inertia?.toExponential(5) ?? m.error ?? '–'} | ${p.inertia?.toExponential(5) ?? '–'} | ${d} | ${m.iterations ?? '–'} / ${p.iterations ?? '–'} | ${mb(m.peak_mb)} | ${mb(p.peak_mb)} |`,
        );
        continue;
      }
      const regression = m.rmse !== undefined || p.rmse !== undefined;
      const metric = (f: Figures) =>
        f.error ? `refused: ${f.error.slice(0, 44)}…` : regression ? f4(f.rmse) : f4(f.accuracy);
      const diff =
        m.error || p.error
          ? '–'
          : regression
            ? `${(((m.rmse! - p.rmse!) / p.rmse!) * 100).toFixed(2)}%`
            : `${((m.accuracy! - p.accuracy!) * 100).toFixed(2)} pp`;
      const auc = regression ? '–' : `${f4(m.roc_auc)} / ${f4(p.roc_auc)}`;
      rows.push(
        `| ${name} | ${spec.label} | ${regression ? 'RMSE' : 'accuracy'} | ${metric(m)} | ${metric(p)} | ${diff} | ${auc} | ${time(m.fit_s)} | ${time(p.fit_s)} | ${ratio} | ${mb(m.peak_mb)} | ${mb(p.peak_mb)} |`,
      );
    }
  }
  const body = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; scikit-learn ${version ?? 'not available'} (Debian, /usr/bin/python3).`,
    `Command: \`npx tsc -p tsconfig.json && node dist/bench/classic.js\`. Fit time: median of at least ${reps} fits (up to 50 while they add up to under 1 s: warm; one when it takes over 10 s), preprocessing included; metrics on the fixed test split; peak: growth of the peak RSS during the first fit, each pair in a fresh process on each side. Targets: within 1 pp accuracy, 0.01 ROC AUC, 3% RMSE; k-means no slower than 2×.`,
    '',
    '| dataset | model | metric | Mass | scikit-learn | difference | ROC AUC Mass / sklearn | Mass fit | sklearn fit | time ratio | Mass peak | sklearn peak |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'k-means on every row (features only; k = 8, iris k = 3), seed 0 / random_state=0:',
    '',
    '| dataset | model | Mass fit | sklearn fit | time ratio | Mass inertia | sklearn inertia | difference | iterations Mass / sklearn | Mass peak | sklearn peak |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...kmRows,
    '',
    'Notes:',
    `- Load average (1 min) ${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end on ${cpus().length} cores: other work shared the machine, so compare the two sides of one row, not rows across runs.`,
    `- k-means target (issue 4: no slower than 2× scikit-learn KMeans(n_init=1) on synth_clf_200k), judged in the same run: ${kmeansVerdict(kmeansSynth, kmeansSynthPeer)}. For reference only, against the figure of ../shared/data/README.md (1.07 s, inertia 5.22428e6, measured on a quiet 2-core machine with 2 OpenMP threads, not in this run): Mass ${kmeansSynth?.fit_s !== undefined ? `${kmeansSynth.fit_s.toFixed(2)} s = ${(kmeansSynth.fit_s / 1.07).toFixed(2)}×, inertia ${kmeansSynth.inertia?.toExponential(5)}` : '–'}, on one thread.`,
    '- linear_svm ROC AUC: Mass from its Platt-scaled probabilities, scikit-learn from `decision_function` (LinearSVC has no probabilities; multiclass: mean one-vs-rest AUC of the decision columns). Mass solves the primal by L-BFGS from 10,000 rows; LinearSVC (dual, max_iter=1000) does not converge on synth_clf_200k, hence its time.',
    "- sparse_logistic: the same objective as LogisticRegression(penalty='l1', C=1); Mass converges (glmnet-style coordinate descent, Gram updates), saga stops unconverged at max_iter=1000 on breast_cancer, digits and synth_clf_200k; on breast_cancer that is the 0.88 pp difference (Mass reaches the lower objective, 0.0841787 against saga's 0.0845707 in mean log-loss + penalty/(C·n)).",
    "- multinomial_nb on synth_clf_200k: both refuse negative features. Mass fits it on unscaled ('raw') features.",
  ];
  if (!only) replaceSection('bench/RESULTS.md', 'Classic models against scikit-learn', body.join('\n'));
  else if (kmeansSynth) console.log(`k-means: ${kmeansVerdict(kmeansSynth, kmeansSynthPeer)}`);
  console.log(body.join('\n'));
}

/** The k-means speed target, from the two sides of one run. */
function kmeansVerdict(m?: Figures, p?: Figures): string {
  if (m?.fit_s === undefined || !p?.fit_s) return 'not measured';
  const ratio = m.fit_s / p.fit_s;
  return `Mass ${m.fit_s.toFixed(2)} s, scikit-learn ${p.fit_s.toFixed(2)} s, **${ratio.toFixed(2)}×** (${ratio <= 2 ? 'met' : 'not met'})`;
}
