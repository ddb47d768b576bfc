// Validation of a rule set at save: shape, fact names, operators, types, derived expressions and their
// cycles, conditions that can never hold, overlapping rows of unique tables, duplicate names, outcomes.
// Every issue carries a JSON pointer into the rule set and, where there is one, the rule it concerns;
// its message starts with that rule's name so that it reads alone in a list of errors.

import {
  checkExpression,
  parseExpression,
  referencedNames,
  type Expr,
  type ExprType,
} from '../expr/index.js';
import { factSatisfiable, satisfiable, type Literal } from './analysis.js';
import { OPERATORS, OPERATOR_SPECS, isOperator, type FactKind } from './operators.js';
import {
  FACT_SOURCES,
  FACT_TYPES,
  HIT_POLICIES,
  LIST_TEXT_FEATURES,
  TEXT_FEATURES,
  type Cell,
  type Condition,
  type FactDecl,
  type RuleIssue,
  type RuleSetDef,
  type TextFeature,
} from './types.js';

/** A fact name: identifiers joined by dots ("income", "fraud.score", "complaint.language"). */
const FACT_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const MAX_DEPTH = 32;
/** Save-time limits: the overlap check of a unique table is quadratic in its rows. */
const MAX_RULES = 5000;
const MAX_ROWS = 2000;
/** Overlapping pairs reported one by one per table; the rest are counted. */
const MAX_OVERLAPS_REPORTED = 20;

/** The declared type each text feature must have (list features: the element type). */
const TEXT_FEATURE_TYPE: Readonly<Record<TextFeature, string>> = {
  language: 'string',
  keywords: 'string',
  entities: 'string',
  tokens: 'string',
  sentiment: 'number',
  has_entity: 'boolean',
};

/** What validation learns beyond the issues; compile.ts builds on it. */
export interface Inspection {
  def: RuleSetDef;
  issues: RuleIssue[];
  /** runtime kind of every well-declared fact */
  kinds: Map<string, FactKind>;
  /** derived facts, each after the derived facts it reads */
  derivedOrder: string[];
  /** parsed expression of every derived fact */
  exprs: Map<string, Expr>;
}

const escape = (seg: string | number) => String(seg).replace(/~/g, '~0').replace(/\//g, '~1');

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);
const nonEmptyString = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';
function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `the string ${JSON.stringify(x)}`;
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${JSON.stringify(x)}`;
}
const factName = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x) : describe(x));

export function validateRuleSet(def: unknown): { def: RuleSetDef; issues: RuleIssue[] } {
  const { issues } = inspectRuleSet(def);
  return { def: def as RuleSetDef, issues };
}

export function inspectRuleSet(input: unknown): Inspection {
  const v = new Validator();
  v.run(input);
  return {
    def: input as RuleSetDef,
    issues: v.issues,
    kinds: v.kinds,
    derivedOrder: v.derivedOrder,
    exprs: v.exprs,
  };
}

class Validator {
  readonly issues: RuleIssue[] = [];
  readonly kinds = new Map<string, FactKind>();
  readonly derivedOrder: string[] = [];
  readonly exprs = new Map<string, Expr>();
  private readonly decls = new Map<string, { decl: FactDecl; index: number }>();
  private outcomes: Set<string> | null = null;
  private readonly ruleNames = new Map<string, string>();

  private issue(path: string, message: string, rule?: string) {
    this.issues.push(
      rule === undefined ? { path, message } : { path, rule, message: `rule '${rule}': ${message}` },
    );
  }

  private unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, rule?: string) {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        this.issue(`${path}/${escape(k)}`, `unknown field '${k}' (expected ${allowed.join(', ')})`, rule);
      }
    }
  }

  run(input: unknown) {
    if (!isObject(input)) {
      this.issue('', `a rule set must be a JSON object, not ${describe(input)}`);
      return;
    }
    this.unknownKeys(input, ['facts', 'rules', 'tables', 'defaultOutcome', 'outcomeOrder'], '');
    this.outcomeOrder(input.outcomeOrder);
    if (!nonEmptyString(input.defaultOutcome)) {
      this.issue(
        '/defaultOutcome',
        'defaultOutcome must be a non-empty string (the outcome when no rule fires)',
      );
    } else this.knownOutcome(input.defaultOutcome, '/defaultOutcome');
    if (!Array.isArray(input.facts)) this.issue('/facts', 'facts must be an array of fact declarations');
    else this.facts(input.facts);
    if (input.rules !== undefined) {
      if (!Array.isArray(input.rules)) this.issue('/rules', 'rules must be an array');
      else if (input.rules.length > MAX_RULES) {
        this.issue('/rules', `at most ${MAX_RULES} rules in a rule set (got ${input.rules.length})`);
      } else input.rules.forEach((r, i) => this.rule(r, i));
    }
    if (input.tables !== undefined) {
      if (!Array.isArray(input.tables)) this.issue('/tables', 'tables must be an array');
      else {
        const names = new Set<string>();
        input.tables.forEach((t, i) => this.table(t, i, names));
      }
    }
  }

  private outcomeOrder(order: unknown) {
    if (order === undefined) return;
    if (!Array.isArray(order)) {
      this.issue('/outcomeOrder', 'outcomeOrder must be an array of outcomes, most severe first');
      return;
    }
    const seen = new Set<string>();
    order.forEach((o, i) => {
      if (!nonEmptyString(o)) this.issue(`/outcomeOrder/${i}`, 'an outcome must be a non-empty string');
      else if (seen.has(o)) this.issue(`/outcomeOrder/${i}`, `outcome '${o}' appears twice in outcomeOrder`);
      else seen.add(o);
    });
    this.outcomes = seen;
  }

  private knownOutcome(outcome: string, path: string, rule?: string) {
    if (this.outcomes && !this.outcomes.has(outcome)) {
      this.issue(
        path,
        `outcome '${outcome}' is not in outcomeOrder (${[...this.outcomes].join(', ')})`,
        rule,
      );
    }
  }

  // ---- facts -------------------------------------------------------------------------------------

  private facts(facts: unknown[]) {
    facts.forEach((f, i) => this.fact(f, i));
    this.derived();
  }

  private fact(f: unknown, i: number) {
    const at = `/facts/${i}`;
    if (!isObject(f)) {
      this.issue(at, `a fact declaration must be an object, not ${describe(f)}`);
      return;
    }
    this.unknownKeys(f, ['name', 'type', 'source', 'model', 'expression', 'text', 'required'], at);
    let ok = true;
    const name = f.name;
    const label = typeof name === 'string' ? `fact '${name}'` : `fact ${i}`;
    if (typeof name !== 'string' || !FACT_NAME.test(name)) {
      this.issue(`${at}/name`, `${label}: a fact name is identifiers joined by dots, like "fraud.score"`);
      ok = false;
    } else if (this.decls.has(name)) {
      this.issue(
        `${at}/name`,
        `fact '${name}' is declared twice (also /facts/${this.decls.get(name)?.index})`,
      );
      ok = false;
    }
    if (!FACT_TYPES.includes(f.type as never)) {
      this.issue(
        `${at}/type`,
        `${label}: type must be one of ${FACT_TYPES.join(', ')}, not ${describe(f.type)}`,
      );
      ok = false;
    }
    if (!FACT_SOURCES.includes(f.source as never)) {
      this.issue(
        `${at}/source`,
        `${label}: source must be one of ${FACT_SOURCES.join(', ')}, not ${describe(f.source)}`,
      );
      ok = false;
    }
    if (f.required !== undefined && typeof f.required !== 'boolean') {
      this.issue(`${at}/required`, `${label}: required must be true or false`);
    }
    for (const [key, source] of [
      ['model', 'model'],
      ['expression', 'derived'],
      ['text', 'text'],
    ] as const) {
      if (f[key] !== undefined && f.source !== source) {
        this.issue(`${at}/${key}`, `${label}: '${key}' belongs to facts with source '${source}' only`);
      }
    }
    let kind: FactKind = f.type as FactKind;
    if (f.source === 'model') {
      const m = f.model;
      if (!isObject(m) || !nonEmptyString(m.deployment) || !nonEmptyString(m.output)) {
        this.issue(
          `${at}/model`,
          `${label}: a model fact needs model: { deployment, output } (non-empty strings)`,
        );
        ok = false;
      } else this.unknownKeys(m, ['deployment', 'output'], `${at}/model`);
    } else if (f.source === 'derived') {
      if (f.required !== undefined) {
        this.issue(`${at}/required`, `${label}: a derived fact is computed, 'required' does not apply`);
      }
      if (!nonEmptyString(f.expression)) {
        this.issue(`${at}/expression`, `${label}: a derived fact needs an expression`);
        ok = false;
      } else {
        try {
          this.exprs.set(name as string, parseExpression(f.expression));
        } catch (e) {
          this.issue(`${at}/expression`, `${label}: the expression does not parse: ${exprMessage(e)}`);
          ok = false;
        }
      }
    } else if (f.source === 'text') {
      const t = f.text;
      if (!isObject(t) || !nonEmptyString(t.field)) {
        this.issue(
          `${at}/text`,
          `${label}: a text fact needs text: { field, feature } (field: the text input)`,
        );
        ok = false;
      } else {
        this.unknownKeys(t, ['field', 'feature', 'entity'], `${at}/text`);
        const feature = t.feature as TextFeature;
        if (!TEXT_FEATURES.includes(feature)) {
          this.issue(`${at}/text/feature`, `${label}: feature must be one of ${TEXT_FEATURES.join(', ')}`);
          ok = false;
        } else {
          if (feature === 'has_entity' && !nonEmptyString(t.entity)) {
            this.issue(`${at}/text/entity`, `${label}: feature has_entity needs the entity type to look for`);
          } else if (feature !== 'has_entity' && t.entity !== undefined) {
            this.issue(`${at}/text/entity`, `${label}: 'entity' belongs to feature has_entity only`);
          }
          if (FACT_TYPES.includes(f.type as never) && f.type !== TEXT_FEATURE_TYPE[feature]) {
            this.issue(
              `${at}/type`,
              `${label}: text feature ${feature} is a ${TEXT_FEATURE_TYPE[feature]}${LIST_TEXT_FEATURES.includes(feature) ? ' list (declare type string)' : ''}, not a ${String(f.type)}`,
            );
            ok = false;
          }
          if (LIST_TEXT_FEATURES.includes(feature)) kind = 'list';
        }
      }
    }
    if (typeof name === 'string' && !this.decls.has(name))
      this.decls.set(name, { decl: f as unknown as FactDecl, index: i });
    if (ok) this.kinds.set(name as string, kind);
  }

  /** References, types and cycles of derived facts; sets derivedOrder. */
  private derived() {
    const deps = new Map<string, string[]>();
    const types: Record<string, ExprType> = {};
    for (const [name, kind] of this.kinds) if (kind !== 'list') types[name] = kind;
    for (const [name, expr] of this.exprs) {
      const { index, decl } = this.decls.get(name)!;
      const at = `/facts/${index}/expression`;
      let refsOk = true;
      const mine: string[] = [];
      for (const ref of referencedNames(expr)) {
        const kind = this.kinds.get(ref);
        if (!this.decls.has(ref)) {
          this.issue(at, `fact '${name}': the expression reads unknown fact '${ref}'`);
          refsOk = false;
        } else if (kind === undefined) {
          refsOk = false; // that declaration has its own issue
        } else if (kind === 'list') {
          this.issue(at, `fact '${name}': '${ref}' is a list of strings, which expressions cannot read`);
          refsOk = false;
        } else if (this.decls.get(ref)!.decl.source === 'derived') mine.push(ref);
      }
      deps.set(name, mine);
      if (!refsOk) {
        this.kinds.delete(name);
        continue;
      }
      try {
        const got = checkExpression(expr, types);
        if (got !== decl.type && got !== 'any' && got !== 'null') {
          this.issue(at, `fact '${name}' is declared ${decl.type} but its expression is a ${got}`);
          this.kinds.delete(name);
        }
      } catch (e) {
        this.issue(at, `fact '${name}': ${exprMessage(e)}`);
        this.kinds.delete(name);
      }
    }
    // Depth-first over derived facts in declaration order: the post-order is a topological order,
    // and a grey node met again closes a cycle.
    const state = new Map<string, 'grey' | 'black'>();
    const stack: string[] = [];
    const cycles = new Set<string>();
    const visit = (n: string) => {
      state.set(n, 'grey');
      stack.push(n);
      for (const d of deps.get(n) ?? []) {
        const s = state.get(d);
        if (s === 'grey') {
          const cycle = stack.slice(stack.indexOf(d));
          const key = [...cycle].sort().join('\u0000');
          if (!cycles.has(key)) {
            cycles.add(key);
            const first = cycle.reduce((a, b) =>
              this.decls.get(a)!.index <= this.decls.get(b)!.index ? a : b,
            );
            const from = cycle.indexOf(first);
            const ordered = [...cycle.slice(from), ...cycle.slice(0, from), first];
            this.issue(
              `/facts/${this.decls.get(first)!.index}/expression`,
              `derived facts form a cycle: ${ordered.join(' → ')}`,
            );
          }
          for (const c of cycle) this.kinds.delete(c);
        } else if (s === undefined && deps.has(d)) visit(d);
      }
      stack.pop();
      state.set(n, 'black');
      this.derivedOrder.push(n);
    };
    for (const n of deps.keys()) if (!state.has(n)) visit(n);
    // A derived fact reading an invalid one is itself unusable.
    let changed = true;
    while (changed) {
      changed = false;
      for (const [n, ds] of deps) {
        if (this.kinds.has(n) && ds.some((d) => !this.kinds.has(d))) {
          this.kinds.delete(n);
          changed = true;
        }
      }
    }
  }

  // ---- rules and conditions ----------------------------------------------------------------------

  private claimName(name: string, path: string, rule?: string) {
    const prior = this.ruleNames.get(name);
    if (prior !== undefined) {
      this.issue(path, `the name '${name}' is used twice (also at ${prior})`, rule);
      return false;
    }
    this.ruleNames.set(name, path);
    return true;
  }

  private common(obj: Record<string, unknown>, at: string, rule: string | undefined): void {
    if (obj.priority !== undefined && !(Number.isInteger(obj.priority) && (obj.priority as number) >= 1)) {
      this.issue(
        `${at}/priority`,
        `priority must be a whole number ≥ 1 (higher fires first), not ${describe(obj.priority)}`,
        rule,
      );
    }
    if (!nonEmptyString(obj.outcome)) this.issue(`${at}/outcome`, 'outcome must be a non-empty string', rule);
    else this.knownOutcome(obj.outcome, `${at}/outcome`, rule);
    if (!nonEmptyString(obj.reason)) {
      this.issue(`${at}/reason`, 'reason must be a non-empty text (returned when the rule fires)', rule);
    }
  }

  private rule(r: unknown, i: number) {
    const at = `/rules/${i}`;
    if (!isObject(r)) {
      this.issue(at, `a rule must be an object, not ${describe(r)}`);
      return;
    }
    const rule = nonEmptyString(r.name) ? r.name : `#${i}`;
    if (!nonEmptyString(r.name)) this.issue(`${at}/name`, 'a rule needs a non-empty name', rule);
    else this.claimName(r.name, `${at}/name`, rule);
    this.unknownKeys(r, ['name', 'priority', 'conditions', 'outcome', 'reason'], at, rule);
    this.common(r, at, rule);
    if (r.conditions === undefined) {
      this.issue(`${at}/conditions`, 'a rule needs conditions', rule);
      return;
    }
    const before = this.issues.length;
    this.condition(r.conditions, `${at}/conditions`, rule, 0);
    if (this.issues.length > before) return;
    const sat = satisfiable(r.conditions as Condition, this.kinds);
    if (!sat.ok) {
      this.issue(
        `${at}/conditions`,
        `can never fire: its conditions on ${sat.culprits.map((f) => `'${f}'`).join(', ')} contradict each other`,
        rule,
      );
    }
  }

  private condition(c: unknown, at: string, rule: string, depth: number): void {
    if (!isObject(c)) {
      this.issue(at, `a condition must be an object, not ${describe(c)}`, rule);
      return;
    }
    if (depth > MAX_DEPTH) {
      this.issue(at, `conditions are nested more than ${MAX_DEPTH} deep`, rule);
      return;
    }
    const bool = (['all', 'any', 'not'] as const).filter((k) => k in c);
    if (bool.length > 1) {
      this.issue(at, `a condition has one of all, any, not, not ${bool.join(' and ')}`, rule);
      return;
    }
    const key = bool[0];
    if (key !== undefined) {
      this.unknownKeys(c, [key], at, rule);
      const body = c[key];
      if (key === 'not') {
        this.condition(body, `${at}/not`, rule, depth + 1);
        return;
      }
      if (!Array.isArray(body)) {
        this.issue(`${at}/${key}`, `'${key}' must be an array of conditions`, rule);
        return;
      }
      if (key === 'any' && body.length === 0) {
        this.issue(`${at}/any`, `'any' needs at least one condition`, rule);
      }
      body.forEach((child, j) => this.condition(child, `${at}/${key}/${j}`, rule, depth + 1));
      return;
    }
    if (!('fact' in c) && !('operator' in c)) {
      this.issue(
        at,
        'a condition is { all: [...] }, { any: [...] }, { not: ... } or { fact, operator, value }',
        rule,
      );
      return;
    }
    this.unknownKeys(c, ['fact', 'operator', 'value'], at, rule);
    let kind: FactKind | undefined;
    if (typeof c.fact !== 'string' || !this.decls.has(c.fact)) {
      this.issue(`${at}/fact`, `unknown fact ${factName(c.fact)}${this.suggest(c.fact)}`, rule);
    } else {
      kind = this.kinds.get(c.fact);
    }
    this.comparison(typeof c.fact === 'string' ? c.fact : '?', kind, c.operator, c.value, at, rule);
  }

  private suggest(name: unknown): string {
    if (typeof name !== 'string') return '';
    const lower = name.toLowerCase();
    const near = [...this.decls.keys()].find((n) => n.toLowerCase() === lower || n.endsWith(`.${name}`));
    return near ? ` (did you mean '${near}'?)` : '';
  }

  /** One comparison: `fact operator value`, in a condition or a table cell (`at` holds operator and value). */
  private comparison(
    fact: string,
    kind: FactKind | undefined,
    operator: unknown,
    value: unknown,
    at: string,
    rule: string,
  ) {
    if (!isOperator(operator)) {
      this.issue(
        `${at}/operator`,
        `unknown operator ${describe(operator)} (known: ${OPERATORS.join(', ')})`,
        rule,
      );
      return;
    }
    if (kind === undefined) return; // unknown or invalid fact: reported already
    const spec = OPERATOR_SPECS[operator];
    const what = kind === 'list' ? 'list of strings' : kind;
    if (!spec.facts.includes(kind)) {
      this.issue(`${at}/operator`, `operator '${operator}' does not apply to '${fact}', a ${what}`, rule);
      return;
    }
    const elem = kind === 'list' ? 'string' : kind;
    const typed = (x: unknown) => typeof x === elem && (typeof x !== 'number' || Number.isFinite(x));
    const vat = `${at}/value`;
    switch (spec.value) {
      case 'none':
        return;
      case 'scalar':
        if (!typed(value)) {
          this.issue(vat, `'${fact}' is a ${elem}: compare it with a ${elem}, not ${describe(value)}`, rule);
        }
        return;
      case 'text':
        if (typeof value !== 'string')
          this.issue(vat, `'${operator}' takes a string, not ${describe(value)}`, rule);
        return;
      case 'list':
        if (!Array.isArray(value)) {
          this.issue(vat, `'${operator}' takes an array of ${elem}s, not ${describe(value)}`, rule);
          return;
        }
        value.forEach((x, k) => {
          if (!typed(x))
            this.issue(`${vat}/${k}`, `'${fact}' is a ${elem}: the list holds ${describe(x)}`, rule);
        });
        return;
      case 'range':
        if (
          !Array.isArray(value) ||
          value.length !== 2 ||
          !value.every((x) => typeof x === 'number' && Number.isFinite(x))
        ) {
          this.issue(vat, `'between' takes [low, high], two numbers, not ${describe(value)}`, rule);
        }
        return;
    }
  }

  // ---- decision tables ---------------------------------------------------------------------------

  private table(t: unknown, i: number, tableNames: Set<string>) {
    const at = `/tables/${i}`;
    if (!isObject(t)) {
      this.issue(at, `a decision table must be an object, not ${describe(t)}`);
      return;
    }
    const table = nonEmptyString(t.name) ? t.name : `table ${i}`;
    this.unknownKeys(t, ['name', 'hitPolicy', 'inputs', 'rows'], at, table);
    if (!nonEmptyString(t.name)) this.issue(`${at}/name`, 'a decision table needs a non-empty name', table);
    else if (tableNames.has(t.name))
      this.issue(`${at}/name`, `two decision tables are named '${t.name}'`, table);
    else tableNames.add(t.name);
    if (!HIT_POLICIES.includes(t.hitPolicy as never)) {
      this.issue(
        `${at}/hitPolicy`,
        `hitPolicy must be one of ${HIT_POLICIES.join(', ')}, not ${describe(t.hitPolicy)}`,
        table,
      );
    }
    if (!Array.isArray(t.inputs)) {
      this.issue(`${at}/inputs`, 'inputs must be an array of fact names (the columns)', table);
      return;
    }
    const inputs = t.inputs as unknown[];
    const kinds: (FactKind | undefined)[] = inputs.map((name, j) => {
      if (typeof name !== 'string' || !this.decls.has(name)) {
        this.issue(`${at}/inputs/${j}`, `unknown fact ${factName(name)}${this.suggest(name)}`, table);
        return undefined;
      }
      if (inputs.indexOf(name) !== j)
        this.issue(`${at}/inputs/${j}`, `column '${name}' appears twice`, table);
      return this.kinds.get(name);
    });
    if (!Array.isArray(t.rows) || t.rows.length === 0) {
      this.issue(`${at}/rows`, 'rows must be a non-empty array', table);
      return;
    }
    if (t.rows.length > MAX_ROWS) {
      this.issue(`${at}/rows`, `at most ${MAX_ROWS} rows in a table (got ${t.rows.length})`, table);
      return;
    }
    const valid: { k: number; cells: (Literal | null)[] }[] = [];
    t.rows.forEach((row, k) => {
      const rat = `${at}/rows/${k}`;
      const rule = `${table}#${k + 1}`;
      if (!isObject(row)) {
        this.issue(rat, `a row must be an object, not ${describe(row)}`, rule);
        return;
      }
      this.unknownKeys(row, ['when', 'outcome', 'reason', 'priority'], rat, rule);
      this.claimName(rule, rat, rule);
      this.common(row, rat, rule);
      if (!Array.isArray(row.when) || row.when.length !== inputs.length) {
        this.issue(
          `${rat}/when`,
          `when must be an array of ${inputs.length} cells, one per input (null = any)`,
          rule,
        );
        return;
      }
      const before = this.issues.length;
      const cells = row.when.map((cell: unknown, j: number): Literal | null => {
        if (cell === null) return null;
        const cat = `${rat}/when/${j}`;
        if (!isObject(cell)) {
          this.issue(cat, `a cell is null (any) or { operator, value }, not ${describe(cell)}`, rule);
          return null;
        }
        this.unknownKeys(cell, ['operator', 'value'], cat, rule);
        const fact = String(inputs[j]);
        this.comparison(fact, kinds[j], cell.operator, cell.value, cat, rule);
        const c = cell as unknown as Cell;
        return { fact, operator: c.operator as Literal['operator'], value: c.value, negated: false };
      });
      if (this.issues.length > before || kinds.some((k) => k === undefined)) return;
      const bad = cells.flatMap((c, j) => (c && !factSatisfiable([c], kinds[j]!) ? [c.fact] : []));
      if (bad.length > 0) {
        this.issue(
          `${rat}/when`,
          `can never match: no value of ${bad.map((f) => `'${f}'`).join(', ')} satisfies its cell`,
          rule,
        );
        return;
      }
      valid.push({ k, cells });
    });
    if (t.hitPolicy === 'first') {
      // A row never fires in a first-hit table when one earlier row matches wherever it does: column by
      // column, the later cell implies the earlier one ("-" implies only "-"), i.e. later ∧ ¬earlier is
      // impossible. Coverage by several earlier rows together is not detected.
      for (let b = 1; b < valid.length; b++) {
        const rb = valid[b]!;
        const cover = valid.slice(0, b).find((ra) =>
          ra.cells.every((ca, j) => {
            const cb = rb.cells[j];
            if (!ca) return true;
            return (
              cb !== null && cb !== undefined && !factSatisfiable([cb, { ...ca, negated: true }], kinds[j]!)
            );
          }),
        );
        if (cover) {
          this.issue(
            `${at}/rows/${rb.k}`,
            `can never fire: row ${cover.k + 1} of first-hit table '${table}' matches whenever row ${rb.k + 1} does`,
            `${table}#${rb.k + 1}`,
          );
        }
      }
      return;
    }
    if (t.hitPolicy !== 'unique') return;
    // Two rows overlap when, column by column, both cells can hold for one value.
    let overlaps = 0;
    for (let b = 1; b < valid.length; b++) {
      for (let a = 0; a < b; a++) {
        const ra = valid[a]!;
        const rb = valid[b]!;
        const overlap = ra.cells.every((ca, j) => {
          const cb = rb.cells[j];
          return !ca || !cb || factSatisfiable([ca, cb], kinds[j]!);
        });
        if (overlap && ++overlaps <= MAX_OVERLAPS_REPORTED) {
          this.issue(
            `${at}/rows/${rb.k}`,
            `unique table '${table}': rows ${ra.k + 1} and ${rb.k + 1} overlap (some facts match both)`,
            `${table}#${rb.k + 1}`,
          );
        }
      }
    }
    if (overlaps > MAX_OVERLAPS_REPORTED) {
      this.issue(
        `${at}/rows`,
        `unique table '${table}': ${overlaps - MAX_OVERLAPS_REPORTED} more pairs of rows overlap`,
        table,
      );
    }
  }
}

function exprMessage(e: unknown): string {
  if (e instanceof Error) {
    const pos = (e as { position?: unknown }).position;
    return typeof pos === 'number' ? `${e.message} (at character ${pos})` : e.message;
  }
  return String(e);
}
