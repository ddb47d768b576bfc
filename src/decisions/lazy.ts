import type * as RulesModule from '../rules/index.js';

type Rules = typeof RulesModule;
let rules: Promise<Rules> | undefined;

/**
 * The rules module, loaded on first use: the platform starts (and serves predictions) even before
 * a rule set is touched, and json-rules-engine is not loaded by processes that never decide.
 */
export function rulesModule(): Promise<Rules> {
  rules ??= import('../rules/index.js');
  return rules;
}
