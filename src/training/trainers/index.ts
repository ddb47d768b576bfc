import type { Trainer } from '../trainer.js';
import { linearRegression, logisticRegression } from './linear.js';

/**
 * Every training algorithm, by name. A new algorithm is one file in this folder and one line
 * here; the API, the CLI and the job runner find it through this table.
 */
export const TRAINERS: Readonly<Record<string, Trainer>> = Object.fromEntries(
  [linearRegression, logisticRegression].map((t) => [t.name, t]),
);
