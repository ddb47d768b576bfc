// The rule-set format, stored as data (JSON) and validated by validate.ts before anything runs it.

export const FACT_TYPES = ['number', 'string', 'boolean'] as const;
export type FactType = (typeof FACT_TYPES)[number];

export const FACT_SOURCES = ['input', 'model', 'derived', 'text'] as const;
export type FactSource = (typeof FACT_SOURCES)[number];

export const TEXT_FEATURES = [
  'language',
  'keywords',
  'entities',
  'sentiment',
  'tokens',
  'has_entity',
] as const;
export type TextFeature = (typeof TEXT_FEATURES)[number];

/** Text features whose value is a list of strings (declared type `string`, the element type). */
export const LIST_TEXT_FEATURES: readonly TextFeature[] = ['keywords', 'entities', 'tokens'];

export interface FactDecl {
  /** e.g. "income", "fraud.score", "debt_ratio", "complaint.language" */
  name: string;
  type: FactType;
  source: FactSource;
  /** source 'model': the caller fills the value from that deployment's output */
  model?: { deployment: string; output: string };
  /** source 'derived': an expression (src/expr) over other facts; no cycles */
  expression?: string;
  /** source 'text': the caller computes the value from a text field */
  text?: { field: string; feature: TextFeature; entity?: string };
  /** default true for every fact a caller supplies; a missing optional fact is null */
  required?: boolean;
}

export interface FactCondition {
  fact: string;
  operator: string;
  /** a literal; ignored by isNull / isNotNull */
  value?: unknown;
}
export interface AllCondition {
  all: Condition[];
}
export interface AnyCondition {
  any: Condition[];
}
export interface NotCondition {
  not: Condition;
}
export type Condition = AllCondition | AnyCondition | NotCondition | FactCondition;

export interface RuleDef {
  name: string;
  /** a positive integer; higher fires first (default 1) */
  priority?: number;
  conditions: Condition;
  /** e.g. "decline" */
  outcome: string;
  /** human text returned when the rule fires: "Debt-to-income above 43%" */
  reason: string;
}

/** One cell of a decision table: the column's fact compared with `value` by `operator`. */
export interface Cell {
  operator: string;
  value?: unknown;
}

export interface TableRow {
  /** one entry per input column; null = "-" (any value) */
  when: (Cell | null)[];
  outcome: string;
  reason: string;
  priority?: number;
}

export const HIT_POLICIES = ['first', 'unique', 'collect'] as const;
export type HitPolicy = (typeof HIT_POLICIES)[number];

export interface DecisionTable {
  name: string;
  hitPolicy: HitPolicy;
  /** fact names: the columns of the table */
  inputs: string[];
  rows: TableRow[];
}

export interface RuleSetDef {
  facts: FactDecl[];
  rules?: RuleDef[];
  tables?: DecisionTable[];
  /** the outcome when nothing fires (reason "No rule fired") */
  defaultOutcome: string;
  /** precedence among fired outcomes, most severe first, e.g. ["decline", "refer", "approve"] */
  outcomeOrder?: string[];
}

/** One validation problem: a JSON pointer into the rule set, the rule it concerns, and what is wrong. */
export interface RuleIssue {
  path: string;
  rule?: string;
  message: string;
}

export interface FiredRule {
  /** the rule's name; a table row is named "<table>#<row number, from 1>" */
  rule: string;
  outcome: string;
  reason: string;
  priority: number;
  table?: string;
}

export interface Evaluation {
  outcome: string;
  /** the reason of the first fired rule with that outcome, or "No rule fired" */
  reason: string;
  /** in firing order: priority (highest first), then the order of definition */
  fired: FiredRule[];
  /** every declared fact's value (input, model, text, derived), null when an optional fact was absent */
  facts: Record<string, unknown>;
}

/** A rule set that is invalid, or facts it cannot be evaluated on. `path` is the first issue's path. */
export class RulesError extends Error {
  readonly path: string;
  readonly issues: RuleIssue[];
  constructor(message: string, path: string, issues?: RuleIssue[]) {
    super(message);
    this.name = 'RulesError';
    this.path = path;
    this.issues = issues ?? [{ path, message }];
  }
}

/** The reason given when nothing fired. */
export const NO_RULE_FIRED = 'No rule fired';
