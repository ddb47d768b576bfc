// The operators a condition or a table cell may use: their names, which facts and values they accept
// (checked at save by validate.ts), and how they evaluate (registered on every json-rules-engine Engine).
//
// The first ten names are json-rules-engine's built-ins; the engine's own implementations are replaced
// so that every operator follows one null rule: a null fact value (an optional fact that was not given,
// or a derived fact whose expression gave null) makes every operator false except isNull / isNotNull,
// the way SQL comparisons with NULL are never true. The built-in `contains` only looks into arrays; ours
// also finds a substring in a string fact.

/** What kind of value a fact holds at runtime: text list features (keywords, ...) hold string arrays. */
export type FactKind = 'number' | 'string' | 'boolean' | 'list';

export const ENGINE_OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
export const CUSTOM_OPERATORS = ['between', 'startsWith', 'endsWith', 'isNull', 'isNotNull'] as const;
export const OPERATORS = [...ENGINE_OPERATORS, ...CUSTOM_OPERATORS] as const;
export type OperatorName = (typeof OPERATORS)[number];

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
export const isOperator = (name: unknown): name is OperatorName =>
  typeof name === 'string' && OPERATOR_SET.has(name);

/** The shape of `value` an operator expects, relative to the fact's type. */
export type ValueShape = 'scalar' | 'list' | 'text' | 'range' | 'none';

interface OperatorSpec {
  /** the fact kinds it applies to */
  facts: readonly FactKind[];
  value: ValueShape;
  test: (fact: unknown, value: unknown) => boolean;
}

const SCALARS: readonly FactKind[] = ['number', 'string', 'boolean'];
const num = (x: unknown): x is number => typeof x === 'number';
const str = (x: unknown): x is string => typeof x === 'string';

export const OPERATOR_SPECS: Readonly<Record<OperatorName, OperatorSpec>> = {
  equal: { facts: SCALARS, value: 'scalar', test: (a, b) => a === b },
  notEqual: { facts: SCALARS, value: 'scalar', test: (a, b) => a !== b },
  lessThan: { facts: ['number'], value: 'scalar', test: (a, b) => num(a) && num(b) && a < b },
  lessThanInclusive: { facts: ['number'], value: 'scalar', test: (a, b) => num(a) && num(b) && a <= b },
  greaterThan: { facts: ['number'], value: 'scalar', test: (a, b) => num(a) && num(b) && a > b },
  greaterThanInclusive: { facts: ['number'], value: 'scalar', test: (a, b) => num(a) && num(b) && a >= b },
  in: { facts: SCALARS, value: 'list', test: (a, b) => Array.isArray(b) && b.includes(a) },
  notIn: { facts: SCALARS, value: 'list', test: (a, b) => Array.isArray(b) && !b.includes(a) },
  contains: {
    facts: ['string', 'list'],
    value: 'text',
    test: (a, b) => str(b) && (str(a) || Array.isArray(a)) && a.includes(b),
  },
  doesNotContain: {
    facts: ['string', 'list'],
    value: 'text',
    test: (a, b) => str(b) && (str(a) || Array.isArray(a)) && !a.includes(b),
  },
  between: {
    facts: ['number'],
    value: 'range',
    test: (a, b) => num(a) && Array.isArray(b) && a >= (b[0] as number) && a <= (b[1] as number),
  },
  startsWith: { facts: ['string'], value: 'text', test: (a, b) => str(a) && str(b) && a.startsWith(b) },
  endsWith: { facts: ['string'], value: 'text', test: (a, b) => str(a) && str(b) && a.endsWith(b) },
  isNull: { facts: [...SCALARS, 'list'], value: 'none', test: (a) => a === null || a === undefined },
  isNotNull: { facts: [...SCALARS, 'list'], value: 'none', test: (a) => a !== null && a !== undefined },
};

/** The function registered on the engine under `name`: applies the null rule, then the test. */
export function operatorFunction(name: OperatorName): (fact: unknown, value: unknown) => boolean {
  const { test } = OPERATOR_SPECS[name];
  if (name === 'isNull' || name === 'isNotNull') return test;
  return (fact, value) => fact !== null && fact !== undefined && test(fact, value);
}
