import type { Trainer } from '../trainer.js';
import { kmeans } from './kmeans.js';
import { linearRegression, logisticRegression } from './linear.js';
import { mlp } from './mlp.js';
import { gaussianNB, multinomialNB } from './naive-bayes.js';
import { elasticNet, sparseLogistic } from './sparse-linear.js';
import { linearSVM } from './svm.js';
import { gradientBoosting, randomForest } from './trees.js';

/**
 * Every training algorithm, by name. A new algorithm is one file in this folder and one line
 * here; the API, the CLI and the job runner find it through this table.
 */
export const TRAINERS: Readonly<Record<string, Trainer>> = Object.fromEntries(
  [
    linearRegression,
    logisticRegression,
    elasticNet,
    sparseLogistic,
    linearSVM,
    gaussianNB,
    multinomialNB,
    gradientBoosting,
    randomForest,
    mlp,
    kmeans,
  ].map((t) => [t.name, t]),
);
