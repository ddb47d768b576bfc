// Static analysis of conditions: can a condition tree ever hold, and can two table rows hold together?
//
// A condition tree is expanded into disjunctive normal form (a list of conjunctions of literals, `not`
// pushed down to the leaves); the tree can hold iff one conjunction can. A conjunction is checked fact
// by fact: numbers as an interval plus finite sets of allowed and excluded points (the reals are dense,
// so excluding finitely many points never empties an interval of positive length), booleans and strings
// as finite sets where equal / in give one, string prefixes, suffixes and substrings pairwise.
//
// The answer is sound in one direction only: "cannot hold" is always true; "can hold" may miss a
// contradiction the checks do not model (a negated between, a prefix and a suffix that overlap). That is
// the right side to err on: a valid rule set is never refused.

import { OPERATOR_SPECS, type FactKind, type OperatorName } from './operators.js';
import type { Condition } from './types.js';

export interface Literal {
  fact: string;
  operator: OperatorName;
  value: unknown;
  negated: boolean;
}

/** Beyond this many conjunctions the expansion stops and the tree is assumed satisfiable. */
const MAX_TERMS = 256;

/** `cond` is a validated condition tree: every leaf's operator is known. */
export function toDnf(cond: Condition, negated = false): Literal[][] | null {
  if ('all' in cond || 'any' in cond) {
    const children = 'all' in cond ? cond.all : cond.any;
    // De Morgan: not(all) = any(not), not(any) = all(not).
    const conjunctive = 'all' in cond !== negated;
    const parts: Literal[][][] = [];
    for (const child of children) {
      const d = toDnf(child, negated);
      if (d === null) return null;
      parts.push(d);
    }
    if (!conjunctive) {
      const out = parts.flat();
      return out.length > MAX_TERMS ? null : out;
    }
    let out: Literal[][] = [[]];
    for (const d of parts) {
      const next: Literal[][] = [];
      for (const a of out) for (const b of d) next.push([...a, ...b]);
      if (next.length > MAX_TERMS) return null;
      out = next;
    }
    return out;
  }
  if ('not' in cond) return toDnf(cond.not, !negated);
  return [[{ fact: cond.fact, operator: cond.operator as OperatorName, value: cond.value, negated }]];
}

/** The facts whose literals contradict each other in this conjunction (empty = it can hold). */
export function contradictions(conj: readonly Literal[], kinds: ReadonlyMap<string, FactKind>): string[] {
  const byFact = new Map<string, Literal[]>();
  for (const l of conj) {
    const list = byFact.get(l.fact);
    if (list) list.push(l);
    else byFact.set(l.fact, [l]);
  }
  const bad: string[] = [];
  for (const [fact, lits] of byFact) {
    const kind = kinds.get(fact);
    if (kind !== undefined && !factSatisfiable(lits, kind)) bad.push(fact);
  }
  return bad;
}

/** Whether a condition tree can ever hold; `culprits` lists, when it cannot, the facts of the first conjunction. */
export function satisfiable(
  cond: Condition,
  kinds: ReadonlyMap<string, FactKind>,
): { ok: true } | { ok: false; culprits: string[] } {
  const dnf = toDnf(cond);
  if (dnf === null) return { ok: true };
  let first: string[] | undefined;
  for (const conj of dnf) {
    const bad = contradictions(conj, kinds);
    if (bad.length === 0) return { ok: true };
    first ??= bad;
  }
  // An empty DNF (no conjunction at all) only arises from an empty `any`, which validation refuses.
  return { ok: false, culprits: first ?? [] };
}

const COMPLEMENT: Partial<Record<OperatorName, OperatorName>> = {
  equal: 'notEqual',
  notEqual: 'equal',
  in: 'notIn',
  notIn: 'in',
  lessThan: 'greaterThanInclusive',
  lessThanInclusive: 'greaterThan',
  greaterThan: 'lessThanInclusive',
  greaterThanInclusive: 'lessThan',
  contains: 'doesNotContain',
  doesNotContain: 'contains',
  isNull: 'isNotNull',
  isNotNull: 'isNull',
};

/** Literals all on one fact of the given kind. */
export function factSatisfiable(lits: readonly Literal[], kind: FactKind): boolean {
  // not(isNull) is isNotNull and the reverse, with no null case to add.
  const norm = lits.map((l) =>
    l.negated && (l.operator === 'isNull' || l.operator === 'isNotNull')
      ? { ...l, operator: COMPLEMENT[l.operator] as OperatorName, negated: false }
      : l,
  );
  const positives = norm.filter((l) => !l.negated);
  if (positives.some((l) => l.operator === 'isNull')) {
    // Every operator but isNull is false on null, and every negated one true.
    return positives.every((l) => l.operator === 'isNull');
  }
  // Without a positive literal the fact can be null, which makes every negated literal true.
  if (positives.length === 0) return true;
  // The fact is not null here, so not(op) is the complementary operator; negations with no single
  // complement (between, startsWith, endsWith) are dropped, which can only make the check more lenient.
  const effective: { operator: OperatorName; value: unknown }[] = positives.map((l) => l);
  for (const l of norm) {
    if (!l.negated) continue;
    const c = COMPLEMENT[l.operator];
    if (c) effective.push({ operator: c, value: l.value });
  }
  for (const l of effective) {
    if (!OPERATOR_SPECS[l.operator].facts.includes(kind)) return true; // not type-checked: do not judge
  }
  switch (kind) {
    case 'number':
      return numberSatisfiable(effective);
    case 'boolean':
      return finiteSatisfiable(effective, [true, false]);
    case 'string':
      return stringSatisfiable(effective);
    case 'list':
      return listSatisfiable(effective);
  }
}

type Effective = readonly { operator: OperatorName; value: unknown }[];

function intersect(points: Set<unknown> | null, values: readonly unknown[]): Set<unknown> {
  const next = new Set(values);
  if (points === null) return next;
  return new Set([...points].filter((p) => next.has(p)));
}

function numberSatisfiable(lits: Effective): boolean {
  let lo = -Infinity;
  let loIn = false;
  let hi = Infinity;
  let hiIn = false;
  let points: Set<unknown> | null = null;
  const excluded = new Set<unknown>();
  const lower = (v: number, inclusive: boolean) => {
    if (v > lo || (v === lo && !inclusive)) [lo, loIn] = [v, inclusive];
  };
  const upper = (v: number, inclusive: boolean) => {
    if (v < hi || (v === hi && !inclusive)) [hi, hiIn] = [v, inclusive];
  };
  for (const { operator, value } of lits) {
    switch (operator) {
      case 'equal':
        points = intersect(points, [value]);
        break;
      case 'in':
        points = intersect(points, value as unknown[]);
        break;
      case 'notEqual':
        excluded.add(value);
        break;
      case 'notIn':
        for (const v of value as unknown[]) excluded.add(v);
        break;
      case 'lessThan':
        upper(value as number, false);
        break;
      case 'lessThanInclusive':
        upper(value as number, true);
        break;
      case 'greaterThan':
        lower(value as number, false);
        break;
      case 'greaterThanInclusive':
        lower(value as number, true);
        break;
      case 'between': {
        const [a, b] = value as [number, number];
        lower(a, true);
        upper(b, true);
        break;
      }
      default:
        break;
    }
  }
  const inRange = (p: number) => (p > lo || (p === lo && loIn)) && (p < hi || (p === hi && hiIn));
  if (points !== null)
    return [...points].some((p) => typeof p === 'number' && inRange(p) && !excluded.has(p));
  if (lo < hi) return true;
  return lo === hi && loIn && hiIn && !excluded.has(lo);
}

function finiteSatisfiable(lits: Effective, domain: readonly unknown[]): boolean {
  let points = new Set(domain);
  for (const { operator, value } of lits) {
    if (operator === 'equal') points = intersect(points, [value]);
    else if (operator === 'in') points = intersect(points, value as unknown[]);
    else if (operator === 'notEqual') points.delete(value);
    else if (operator === 'notIn') for (const v of value as unknown[]) points.delete(v);
  }
  return points.size > 0;
}

function stringSatisfiable(lits: Effective): boolean {
  let points: Set<unknown> | null = null;
  const excluded = new Set<unknown>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const contains: string[] = [];
  const absent: string[] = [];
  for (const { operator, value } of lits) {
    if (operator === 'equal') points = intersect(points, [value]);
    else if (operator === 'in') points = intersect(points, value as unknown[]);
    else if (operator === 'notEqual') excluded.add(value);
    else if (operator === 'notIn') for (const v of value as unknown[]) excluded.add(v);
    else if (operator === 'startsWith') prefixes.push(value as string);
    else if (operator === 'endsWith') suffixes.push(value as string);
    else if (operator === 'contains') contains.push(value as string);
    else if (operator === 'doesNotContain') absent.push(value as string);
  }
  if (points !== null) {
    return [...points].some(
      (p) =>
        typeof p === 'string' &&
        !excluded.has(p) &&
        prefixes.every((x) => p.startsWith(x)) &&
        suffixes.every((x) => p.endsWith(x)) &&
        contains.every((x) => p.includes(x)) &&
        absent.every((x) => !p.includes(x)),
    );
  }
  const longest = (xs: string[]) => xs.reduce((a, b) => (b.length > a.length ? b : a), '');
  const prefix = longest(prefixes);
  const suffix = longest(suffixes);
  if (!prefixes.every((x) => prefix.startsWith(x))) return false;
  if (!suffixes.every((x) => suffix.endsWith(x))) return false;
  const present = [...contains, prefix, suffix];
  return !absent.some((y) => present.some((x) => x.includes(y)));
}

function listSatisfiable(lits: Effective): boolean {
  const present = new Set<unknown>();
  const absent = new Set<unknown>();
  for (const { operator, value } of lits) {
    if (operator === 'contains') present.add(value);
    else if (operator === 'doesNotContain') absent.add(value);
  }
  return ![...present].some((v) => absent.has(v));
}
