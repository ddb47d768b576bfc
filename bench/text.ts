// Text classification of Mass against scikit-learn, side by side in one run, on generated short
// reviews (seeded, class-dependent words; test/training/text-data.ts): multinomial naive Bayes on
// term counts and logistic regression on TF-IDF, both with Mass's text defaults (lower-case, word
// unigrams, min_df 2, at most 5,000 terms). Writes its section of bench/RESULTS.md.
//
//   npm run bench:text            (needs Debian's python3-sklearn for the scikit-learn column)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxRows } from '../src/ml/linear.js';
import { fitPreprocessor, fitTextSteps, transformFeatures, type Featurizer } from '../src/ml/preprocess.js';
import type { CategoricalColumn } from '../src/ml/types.js';
import { TRAINERS } from '../src/training/trainers/index.js';
import { syntheticReviews } from '../test/training/text-data.js';
import { replaceSection } from './results.js';
import { ensurePython } from './peers.js';

const REPS = 3;
const DATASETS = [
  { name: 'reviews-5k (signal 0.15)', n: 5000, seed: 1, signal: 0.15 },
  { name: 'reviews-20k (signal 0.08)', n: 20000, seed: 2, signal: 0.08 },
];
const ALGORITHMS = ['multinomial_nb', 'logistic_regression'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Result {
  fit: number;
  accuracy: number;
  vocabulary: number;
}

function runMass(
  text: string[],
  label: string[],
  train: Uint32Array,
  test: Uint32Array,
  algorithm: string,
): Result {
  const trainer = TRAINERS[algorithm]!;
  const classes = [...new Set(label)].sort();
  const y = Int32Array.from(label, (l) => classes.indexOf(l));
  const column: CategoricalColumn = { name: 'review', kind: 'categorical', values: text };
  const params = Object.fromEntries(Object.entries(trainer.params).map(([k, p]) => [k, p.default]));
  const times: number[] = [];
  let accuracy = 0;
  let vocabulary = 0;
  for (let rep = 0; rep < REPS; rep++) {
    // Timed like scikit-learn's pipeline .fit: the vectorizer included.
    const t0 = performance.now();
    const fz: Featurizer = {
      pre: fitPreprocessor([], train),
      text: fitTextSteps([column], train, {
        minDf: 2,
        maxFeatures: 5000,
        output: trainer.preprocessing === 'counts' ? 'counts' : 'tfidf',
      }),
    };
    const X = transformFeatures(fz, [column], train);
    const fitted = trainer.fit(
      X,
      Int32Array.from(train, (i) => y[i]!),
      params,
      {
        task: 'classification',
        classes: classes.length,
        seed: 42,
        onProgress: () => {},
      },
    );
    times.push((performance.now() - t0) / 1000);
    const P = fitted.predict(transformFeatures(fz, [column], test));
    const predicted = argmaxRows(P, test.length, classes.length);
    accuracy = predicted.filter((c, k) => c === y[test[k]!]).length / test.length;
    vocabulary = fz.text[0]!.model.vocabulary.length;
  }
  return { fit: median(times), accuracy, vocabulary };
}

const data: Record<string, { text: string[]; label: string[]; train: number[]; test: number[] }> = {};
const mass: Record<string, Record<string, Result>> = {};
for (const d of DATASETS) {
  const r = syntheticReviews(d.n, d.seed, d.signal);
  const cut = Math.floor(d.n * 0.8);
  const train = Uint32Array.from({ length: cut }, (_, i) => i);
  const test = Uint32Array.from({ length: d.n - cut }, (_, i) => cut + i);
  data[d.name] = { text: r.review, label: r.label, train: [...train], test: [...test] };
  mass[d.name] = {};
  for (const a of ALGORITHMS) {
    mass[d.name]![a] = runMass(r.review, r.label, train, test, a);
    console.error(`${d.name} ${a}: ${JSON.stringify(mass[d.name]![a])}`);
  }
}

let peers: Record<string, Record<string, { fit_s: number; accuracy: number; vocabulary: number }>> & {
  _env?: { sklearn: string };
} = {};
if (ensurePython(['sklearn'])) {
  const dir = mkdtempSync(join(tmpdir(), 'mass-bench-text-'));
  try {
    const path = join(dir, 'data.json');
    writeFileSync(path, JSON.stringify(data));
    peers = JSON.parse(
      execFileSync('/usr/bin/python3', ['bench/peers_text.py', path], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.error(
    '!!! python3-sklearn is missing: the scikit-learn column is empty (apt-get install python3-sklearn)',
  );
}

const lines = [
  `Generated reviews (3 classes, 80/20 split, seeded); Mass's text defaults on both sides ` +
    `(CountVectorizer / TfidfVectorizer with min_df=2, max_features=5000). Fit time includes the ` +
    `vectorizer; median of ${REPS}; ${cpus().length} cores; scikit-learn ${peers._env?.sklearn ?? 'not installed'}.`,
  '',
  '| dataset | model | Mass accuracy | scikit-learn accuracy | Δ (pp) | Mass fit s | scikit-learn fit s | terms (Mass / sk) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const d of DATASETS) {
  for (const a of ALGORITHMS) {
    const m = mass[d.name]![a]!;
    const p = peers[d.name]?.[a];
    const label = a === 'multinomial_nb' ? 'multinomial NB on counts' : 'logistic regression on TF-IDF';
    lines.push(
      `| ${d.name} | ${label} | ${m.accuracy.toFixed(4)} | ${p ? p.accuracy.toFixed(4) : '-'} | ${p ? ((m.accuracy - p.accuracy) * 100).toFixed(2) : '-'} | ${m.fit.toFixed(3)} | ${p ? p.fit_s.toFixed(3) : '-'} | ${m.vocabulary} / ${p ? p.vocabulary : '-'} |`,
    );
  }
}
const table = lines.join('\n');
console.log(table);
replaceSection('bench/RESULTS.md', 'Text: naive Bayes and logistic regression on generated reviews', table);
