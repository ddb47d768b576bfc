// Rule sets: facts, rules and decision tables as data; validation at save; evaluation with a trace of
// the rules that fired. Depends on nothing of Mass but src/expr (derived facts).

export {
  FACT_SOURCES,
  FACT_TYPES,
  HIT_POLICIES,
  LIST_TEXT_FEATURES,
  NO_RULE_FIRED,
  RulesError,
  TEXT_FEATURES,
  type AllCondition,
  type AnyCondition,
  type Cell,
  type Condition,
  type DecisionTable,
  type Evaluation,
  type FactCondition,
  type FactDecl,
  type FactSource,
  type FactType,
  type FiredRule,
  type HitPolicy,
  type NotCondition,
  type RuleDef,
  type RuleIssue,
  type RuleSetDef,
  type TableRow,
  type TextFeature,
} from './types.js';
export { CUSTOM_OPERATORS, ENGINE_OPERATORS, OPERATORS, type OperatorName } from './operators.js';
export { validateRuleSet } from './validate.js';
export {
  compileRuleSet,
  evaluateRuleSet,
  factsNeeded,
  type CompileOptions,
  type CompiledRuleSet,
  type Evaluator,
} from './compile.js';
