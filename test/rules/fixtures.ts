// One small rule set per rule operator, with fact sets on which its single rule fires ("hit") and
// does not ("miss"). Used by test/rules/operators.test.ts and by the decisions tests (replay gives the
// same outcome for every operator), so keep it free of test-runner imports.

import type { Condition, FactDecl, OperatorName, RuleDef, RuleSetDef } from '../../src/rules/index.js';

export interface OperatorCase {
  /** e.g. "contains (list)": the operator, and the kind of fact when there are several */
  name: string;
  operator: OperatorName;
  ruleSet: RuleSetDef;
  /** input, model and text facts, and the outcome: "hit" when the rule fires, "miss" otherwise */
  cases: { facts: Record<string, unknown>; outcome: 'hit' | 'miss' }[];
}

function single(
  name: string,
  operator: OperatorName,
  fact: FactDecl,
  value: unknown,
  hits: Record<string, unknown>[],
  misses: Record<string, unknown>[],
  extraFacts: FactDecl[] = [],
): OperatorCase {
  return {
    name,
    operator,
    ruleSet: {
      facts: [fact, ...extraFacts],
      rules: [
        {
          name: `${name} rule`,
          conditions: { all: [{ fact: fact.name, operator, value }] },
          outcome: 'hit',
          reason: `${fact.name} ${operator} ${JSON.stringify(value)}`,
        },
      ],
      defaultOutcome: 'miss',
      outcomeOrder: ['hit', 'miss'],
    },
    cases: [
      ...hits.map((facts) => ({ facts, outcome: 'hit' as const })),
      ...misses.map((facts) => ({ facts, outcome: 'miss' as const })),
    ],
  };
}

const optional = (name: string, type: FactDecl['type']): FactDecl => ({
  name,
  type,
  source: 'input',
  required: false,
});

export const OPERATOR_CASES: readonly OperatorCase[] = [
  single(
    'equal',
    'equal',
    optional('country', 'string'),
    'FR',
    [{ country: 'FR' }],
    [{ country: 'fr' }, { country: 'DE' }, { country: null }],
  ),
  single(
    'equal (boolean)',
    'equal',
    optional('employed', 'boolean'),
    true,
    [{ employed: true }],
    [{ employed: false }, {}],
  ),
  single(
    'notEqual',
    'notEqual',
    optional('dependents', 'number'),
    3,
    [{ dependents: 4 }, { dependents: 0 }],
    [
      { dependents: 3 },
      {}, // null is never "not equal": every comparison with null is false
    ],
  ),
  single(
    'lessThan',
    'lessThan',
    optional('age', 'number'),
    18,
    [{ age: 17.99 }, { age: -1 }],
    [{ age: 18 }, { age: 40 }, { age: null }],
  ),
  single(
    'lessThanInclusive',
    'lessThanInclusive',
    optional('age', 'number'),
    18,
    [{ age: 18 }, { age: 3 }],
    [{ age: 18.01 }, {}],
  ),
  single(
    'greaterThan (model)',
    'greaterThan',
    {
      name: 'fraud.score',
      type: 'number',
      source: 'model',
      model: { deployment: 'fraud', output: 'probability' },
    },
    0.5,
    [{ 'fraud.score': 0.51 }, { 'fraud.score': 1 }],
    [{ 'fraud.score': 0.5 }, { 'fraud.score': 0 }],
  ),
  single(
    'greaterThan (derived)',
    'greaterThan',
    { name: 'debt_ratio', type: 'number', source: 'derived', expression: 'debt / income' },
    0.43,
    [
      { debt: 44, income: 100 },
      { debt: 1, income: 1 },
    ],
    [
      { debt: 43, income: 100 },
      { debt: 0, income: 100 },
    ],
    [
      { name: 'debt', type: 'number', source: 'input' },
      { name: 'income', type: 'number', source: 'input' },
    ],
  ),
  single(
    'greaterThanInclusive',
    'greaterThanInclusive',
    optional('income', 'number'),
    50_000,
    [{ income: 50_000 }, { income: 1e9 }],
    [{ income: 49_999.99 }, {}],
  ),
  single(
    'in',
    'in',
    optional('country', 'string'),
    ['FR', 'DE'],
    [{ country: 'DE' }, { country: 'FR' }],
    [{ country: 'US' }, {}],
  ),
  single('in (number)', 'in', optional('term', 'number'), [12, 24, 36], [{ term: 24 }], [{ term: 25 }, {}]),
  single(
    'notIn',
    'notIn',
    optional('term', 'number'),
    [12, 24],
    [{ term: 36 }],
    [{ term: 12 }, { term: null }],
  ),
  single(
    'contains (string)',
    'contains',
    optional('note', 'string'),
    'fraud',
    [{ note: 'possible fraud here' }, { note: 'fraud' }],
    [{ note: 'Fraud' }, { note: 'all fine' }, {}],
  ),
  single(
    'contains (list)',
    'contains',
    {
      name: 'complaint.keywords',
      type: 'string',
      source: 'text',
      text: { field: 'complaint', feature: 'keywords' },
      required: false,
    },
    'refund',
    [{ 'complaint.keywords': ['late', 'refund'] }],
    [{ 'complaint.keywords': ['late'] }, { 'complaint.keywords': [] }, { 'complaint.keywords': null }],
  ),
  single(
    'doesNotContain',
    'doesNotContain',
    optional('note', 'string'),
    'fraud',
    [{ note: 'all fine' }, { note: '' }],
    [{ note: 'a fraud case' }, {}],
  ),
  single(
    'between',
    'between',
    optional('score', 'number'),
    [300, 600],
    [{ score: 300 }, { score: 450.5 }, { score: 600 }],
    [{ score: 299.99 }, { score: 600.01 }, {}],
  ),
  single(
    'startsWith',
    'startsWith',
    optional('iban', 'string'),
    'GB',
    [{ iban: 'GB29NWBK60161331926819' }],
    [{ iban: 'DE89370400440532013000' }, { iban: 'gb29' }, {}],
  ),
  single(
    'endsWith',
    'endsWith',
    optional('email', 'string'),
    '.ru',
    [{ email: 'x@mail.ru' }],
    [{ email: 'x@mail.ru.com' }, {}],
  ),
  single(
    'isNull',
    'isNull',
    optional('employer', 'string'),
    null,
    [{}, { employer: null }],
    [{ employer: 'ACME' }, { employer: '' }],
  ),
  single(
    'isNotNull',
    'isNotNull',
    optional('employer', 'string'),
    null,
    [{ employer: '' }, { employer: 'ACME' }],
    [{}],
  ),
];

/** A deterministic LCG: the rule set and the fact sets are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NUMBERS = [
  'income',
  'debt',
  'age',
  'term',
  'amount',
  'savings',
  'dependents',
  'tenure',
  'cards',
  'late_12m',
  'inquiries',
  'utilisation',
];
const STRINGS = ['country', 'segment', 'channel', 'purpose'];
const STRING_VALUES = ['FR', 'DE', 'GB', 'US', 'retail', 'premium', 'web', 'branch', 'car', 'home'];
const BOOLEANS = ['employed', 'homeowner'];

/** A credit-like rule set of `n` engine rules (n - 10 rules, one 10-row first-hit table); the bench set. */
export function generatedRuleSet(n = 100, seed = 42): RuleSetDef {
  const rnd = lcg(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const facts: FactDecl[] = [
    ...NUMBERS.map((name): FactDecl => ({ name, type: 'number', source: 'input' })),
    ...STRINGS.map((name): FactDecl => ({ name, type: 'string', source: 'input' })),
    ...BOOLEANS.map((name): FactDecl => ({ name, type: 'boolean', source: 'input' })),
    {
      name: 'fraud.score',
      type: 'number',
      source: 'model',
      model: { deployment: 'fraud', output: 'probability' },
    },
    { name: 'debt_ratio', type: 'number', source: 'derived', expression: 'debt / income' },
  ];
  const numeric = [...NUMBERS, 'fraud.score', 'debt_ratio'];
  const scale = (f: string) => (f === 'fraud.score' || f === 'debt_ratio' || f === 'utilisation' ? 1 : 100);
  const condition = (fact: string): Condition => {
    if (STRINGS.includes(fact)) {
      const op = pick(['equal', 'notEqual', 'in', 'notIn', 'startsWith']);
      const value =
        op === 'in' || op === 'notIn' ? [pick(STRING_VALUES), pick(STRING_VALUES)] : pick(STRING_VALUES);
      return { fact, operator: op, value: op === 'startsWith' ? String(value).slice(0, 1) : value };
    }
    if (BOOLEANS.includes(fact)) return { fact, operator: 'equal', value: rnd() < 0.5 };
    const op = pick([
      'lessThan',
      'greaterThan',
      'greaterThanInclusive',
      'lessThanInclusive',
      'between',
      'notEqual',
    ]);
    const v = Math.round(rnd() * scale(fact) * 100) / 100;
    return { fact, operator: op, value: op === 'between' ? [v / 2, v] : v };
  };
  const all = [...numeric, ...STRINGS, ...BOOLEANS];
  const rules: RuleDef[] = [];
  for (let i = 0; i < n - 10; i++) {
    const used = new Set<string>();
    while (used.size < 3) used.add(pick(all));
    const [a, b, c] = [...used].map(condition) as [Condition, Condition, Condition];
    const conditions: Condition =
      i % 7 === 0
        ? { any: [a, b, c] }
        : i % 11 === 0
          ? { all: [a, { not: b }, c] }
          : i % 13 === 0
            ? { all: [a, { any: [b, c] }] }
            : { all: [a, b, c] };
    rules.push({
      name: `rule-${i + 1}`,
      priority: 1 + (i % 5),
      conditions,
      outcome: i % 7 === 0 ? 'approve' : i % 15 === 3 ? 'decline' : i % 9 === 1 ? 'refer' : 'approve',
      reason: `Policy ${i + 1}`,
    });
  }
  return {
    facts,
    rules,
    tables: [
      {
        name: 'score-bands',
        hitPolicy: 'first',
        inputs: ['fraud.score', 'segment'],
        rows: Array.from({ length: 10 }, (_, k) => ({
          when: [
            { operator: 'lessThan', value: (k + 1) / 10 },
            k % 2 ? null : { operator: 'equal', value: pick(STRING_VALUES) },
          ],
          outcome: k < 6 ? 'approve' : 'refer',
          reason: `Fraud band ${k + 1}`,
        })),
      },
    ],
    defaultOutcome: 'refer',
    outcomeOrder: ['decline', 'refer', 'approve'],
  };
}

/** `count` varied fact sets for generatedRuleSet. */
export function generatedFacts(count: number, seed = 7): Record<string, unknown>[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, () => {
    const f: Record<string, unknown> = {};
    for (const n of NUMBERS) f[n] = Math.round(rnd() * (n === 'utilisation' ? 1 : 100) * 100) / 100 + 0.01;
    for (const s of STRINGS) f[s] = STRING_VALUES[Math.floor(rnd() * STRING_VALUES.length)];
    for (const b of BOOLEANS) f[b] = rnd() < 0.5;
    f['fraud.score'] = rnd();
    return f;
  });
}
