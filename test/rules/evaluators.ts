import type { Evaluator } from '../../src/rules/index.js';

/** Every test of evaluation runs through both evaluators, which must agree. */
export const EVALUATORS: readonly Evaluator[] = ['compiled', 'json-rules-engine'];
