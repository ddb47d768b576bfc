import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileRuleSet,
  evaluateRuleSet,
  validateRuleSet,
  type DecisionTable,
  type RuleSetDef,
} from '../../src/rules/index.js';
import { EVALUATORS } from './evaluators.js';

const facts: RuleSetDef['facts'] = [
  { name: 'score', type: 'number', source: 'input' },
  { name: 'segment', type: 'string', source: 'input' },
];

function withTable(table: DecisionTable, extra: Partial<RuleSetDef> = {}): RuleSetDef {
  return { facts, tables: [table], defaultOutcome: 'refer', ...extra };
}

// score bands by segment, the way a DMN table reads
const rows: DecisionTable['rows'] = [
  { when: [{ operator: 'lessThan', value: 500 }, null], outcome: 'decline', reason: 'Score below 500' },
  {
    when: [
      { operator: 'between', value: [500, 699] },
      { operator: 'equal', value: 'retail' },
    ],
    outcome: 'refer',
    reason: 'Retail, score 500-699',
  },
  {
    when: [
      { operator: 'greaterThanInclusive', value: 500 },
      { operator: 'in', value: ['retail', 'premium'] },
    ],
    outcome: 'approve',
    reason: 'Score 500 or more',
    priority: 5,
  },
];

for (const evaluator of EVALUATORS) {
  const compile = (def: RuleSetDef) => compileRuleSet(def, { evaluator });
  describe(`decision tables (${evaluator})`, () => {
    test('first: only the first matching row (in row order) fires', async () => {
      const rs = compile(
        withTable({ name: 'bands', hitPolicy: 'first', inputs: ['score', 'segment'], rows }),
      );
      const ev = await evaluateRuleSet(rs, { score: 600, segment: 'retail' });
      // rows 2 and 3 match; row 3 has the higher priority, but "first" is row order
      assert.deepEqual(ev.fired, [
        { rule: 'bands#2', outcome: 'refer', reason: 'Retail, score 500-699', priority: 1, table: 'bands' },
      ]);
      assert.equal(ev.outcome, 'refer');
      assert.equal((await evaluateRuleSet(rs, { score: 800, segment: 'retail' })).fired[0]!.rule, 'bands#3');
      assert.equal((await evaluateRuleSet(rs, { score: 100, segment: 'x' })).outcome, 'decline');
      const none = await evaluateRuleSet(rs, { score: 800, segment: 'business' });
      assert.deepEqual([none.outcome, none.fired], ['refer', []]);
    });

    test('collect: every matching row fires, in priority then row order', async () => {
      const rs = compile(
        withTable({ name: 'bands', hitPolicy: 'collect', inputs: ['score', 'segment'], rows }),
      );
      const ev = await evaluateRuleSet(rs, { score: 600, segment: 'retail' });
      assert.deepEqual(
        ev.fired.map((f) => [f.rule, f.priority]),
        [
          ['bands#3', 5],
          ['bands#2', 1],
        ],
      );
      // no outcomeOrder: the highest-priority fired row decides
      assert.equal(ev.outcome, 'approve');
      const ordered = compile(
        withTable(
          { name: 'bands', hitPolicy: 'collect', inputs: ['score', 'segment'], rows },
          { outcomeOrder: ['decline', 'refer', 'approve'] },
        ),
      );
      assert.equal((await evaluateRuleSet(ordered, { score: 600, segment: 'retail' })).outcome, 'refer');
    });

    test('unique: disjoint rows evaluate; overlapping rows are refused naming both rows', async () => {
      const disjoint: DecisionTable = {
        name: 'u',
        hitPolicy: 'unique',
        inputs: ['score', 'segment'],
        rows: [
          { when: [{ operator: 'lessThan', value: 500 }, null], outcome: 'decline', reason: 'low' },
          {
            when: [
              { operator: 'greaterThanInclusive', value: 500 },
              { operator: 'equal', value: 'retail' },
            ],
            outcome: 'approve',
            reason: 'retail',
          },
          {
            when: [
              { operator: 'greaterThanInclusive', value: 500 },
              { operator: 'notEqual', value: 'retail' },
            ],
            outcome: 'refer',
            reason: 'other',
          },
        ],
      };
      assert.deepEqual(validateRuleSet(withTable(disjoint)).issues, []);
      const rs = compile(withTable(disjoint));
      assert.equal((await evaluateRuleSet(rs, { score: 499.5, segment: 'retail' })).outcome, 'decline');
      assert.equal((await evaluateRuleSet(rs, { score: 500, segment: 'retail' })).outcome, 'approve');
      assert.equal((await evaluateRuleSet(rs, { score: 500, segment: 'b2b' })).outcome, 'refer');

      const { issues } = validateRuleSet(
        withTable({ name: 'bands', hitPolicy: 'unique', inputs: ['score', 'segment'], rows }),
      );
      assert.deepEqual(issues, [
        {
          path: '/tables/0/rows/2',
          rule: 'bands#3',
          message: "rule 'bands#3': unique table 'bands': rows 2 and 3 overlap (some facts match both)",
        },
      ]);
    });

    test('unique overlap is checked cell by cell: intervals, sets, and "-"', () => {
      const overlap = (a: DecisionTable['rows'][number]['when'], b: DecisionTable['rows'][number]['when']) =>
        validateRuleSet(
          withTable({
            name: 't',
            hitPolicy: 'unique',
            inputs: ['score', 'segment'],
            rows: [
              { when: a, outcome: 'x', reason: 'a' },
              { when: b, outcome: 'y', reason: 'b' },
            ],
          }),
        ).issues.length > 0;
      const lt = (v: number) => ({ operator: 'lessThan', value: v });
      const gte = (v: number) => ({ operator: 'greaterThanInclusive', value: v });
      const lte = (v: number) => ({ operator: 'lessThanInclusive', value: v });
      const eq = (v: string) => ({ operator: 'equal', value: v });
      assert.equal(overlap([lt(10), null], [gte(10), null]), false); // [.., 10) and [10, ..)
      assert.equal(overlap([lte(10), null], [gte(10), null]), true); // both hold at 10
      assert.equal(overlap([null, null], [gte(10), eq('a')]), true); // "-" matches anything
      assert.equal(overlap([lt(10), eq('a')], [lt(5), eq('b')]), false); // one column disjoint is enough
      assert.equal(
        overlap([null, { operator: 'in', value: ['a', 'b'] }], [null, { operator: 'in', value: ['c'] }]),
        false,
      );
      assert.equal(
        overlap([null, { operator: 'in', value: ['a', 'b'] }], [null, { operator: 'notIn', value: ['a'] }]),
        true,
      );
      assert.equal(overlap([null, { operator: 'isNull' }], [null, eq('a')]), false);
      assert.equal(
        overlap(
          [{ operator: 'between', value: [0, 5] }, null],
          [{ operator: 'between', value: [5.5, 9] }, null],
        ),
        false,
      );
      assert.equal(
        overlap(
          [null, { operator: 'startsWith', value: 'ab' }],
          [null, { operator: 'startsWith', value: 'ac' }],
        ),
        false,
      );
      assert.equal(
        overlap(
          [null, { operator: 'startsWith', value: 'ab' }],
          [null, { operator: 'startsWith', value: 'a' }],
        ),
        true,
      );
    });

    test('table rows are named "<table>#<row>" and share the rule namespace', () => {
      const def = withTable({
        name: 't',
        hitPolicy: 'collect',
        inputs: ['score'],
        rows: [{ when: [null], outcome: 'x', reason: 'r' }],
      });
      def.rules = [{ name: 't#1', conditions: { all: [] }, outcome: 'x', reason: 'r' }];
      const { issues } = validateRuleSet(def);
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.path, '/tables/0/rows/0');
      assert.match(issues[0]!.message, /the name 't#1' is used twice \(also at \/rules\/0\/name\)/);
    });

    test('bad table: unknown column, wrong cell count, bad cell, unknown hit policy, a row that can never match', () => {
      const { issues } = validateRuleSet(
        withTable({
          name: 't',
          hitPolicy: 'any' as never,
          inputs: ['score', 'segmnt'],
          rows: [
            { when: [null], outcome: 'x', reason: 'r' },
            { when: [{ operator: 'equal', value: 'high' }, null], outcome: 'x', reason: 'r' },
            { when: ['high' as never, null], outcome: 'x', reason: 'r' },
          ],
        }),
      );
      const paths = issues.map((i) => i.path);
      assert.deepEqual(paths, [
        '/tables/0/hitPolicy',
        '/tables/0/inputs/1',
        '/tables/0/rows/0/when',
        '/tables/0/rows/1/when/0/value',
        '/tables/0/rows/2/when/0',
      ]);
      assert.match(issues[1]!.message, /unknown fact "segmnt"/);
      assert.match(
        issues[3]!.message,
        /rule 't#2': 'score' is a number: compare it with a number, not the string "high"/,
      );
      const never = validateRuleSet(
        withTable({
          name: 't',
          hitPolicy: 'first',
          inputs: ['score', 'segment'],
          rows: [
            {
              when: [
                { operator: 'between', value: [10, 1] },
                { operator: 'in', value: [] },
              ],
              outcome: 'x',
              reason: 'r',
            },
          ],
        }),
      ).issues;
      assert.equal(never.length, 1);
      assert.equal(never[0]!.rule, 't#1');
      assert.match(never[0]!.message, /can never match: no value of 'score', 'segment' satisfies its cell/);
    });
  });
}

test('bad table: a unique table where every row overlaps reports 20 pairs and counts the rest', () => {
  const { issues } = validateRuleSet({
    facts: [{ name: 'x', type: 'number', source: 'input' }],
    tables: [
      {
        name: 'all',
        hitPolicy: 'unique',
        inputs: ['x'],
        rows: Array.from({ length: 10 }, (_, k) => ({ when: [null], outcome: 'a', reason: `r${k}` })),
      },
    ],
    defaultOutcome: 'a',
  });
  assert.equal(issues.length, 21);
  assert.deepEqual(issues[20], {
    path: '/tables/0/rows',
    rule: 'all',
    message: "rule 'all': unique table 'all': 25 more pairs of rows overlap",
  });
});

test('bad table: a first-hit row shadowed by an earlier row can never fire', () => {
  const shadowed = (earlier: (object | null)[], later: (object | null)[]) =>
    validateRuleSet({
      facts: [
        { name: 'x', type: 'number', source: 'input' },
        { name: 's', type: 'string', source: 'input' },
      ],
      tables: [
        {
          name: 't',
          hitPolicy: 'first',
          inputs: ['x', 's'],
          rows: [
            { when: earlier, outcome: 'a', reason: 'earlier' },
            { when: later, outcome: 'b', reason: 'later' },
          ],
        },
      ],
      defaultOutcome: 'a',
    }).issues;
  const gt = (v: number) => ({ operator: 'greaterThan', value: v });
  const inn = (...v: string[]) => ({ operator: 'in', value: v });
  assert.deepEqual(shadowed([gt(5), null], [gt(10), inn('a')]), [
    {
      path: '/tables/0/rows/1',
      rule: 't#2',
      message: "rule 't#2': can never fire: row 1 of first-hit table 't' matches whenever row 2 does",
    },
  ]);
  assert.equal(shadowed([null, null], [gt(10), null]).length, 1, 'a catch-all row shadows every later row');
  assert.equal(shadowed([null, inn('a', 'b')], [null, { operator: 'equal', value: 'b' }]).length, 1);
  assert.equal(shadowed([gt(10), null], [gt(5), null]).length, 0, 'x = 7 reaches row 2');
  assert.equal(shadowed([gt(5), inn('a')], [gt(10), null]).length, 0, 's = "b" reaches row 2');
  assert.equal(shadowed([gt(5), null], [null, inn('a')]).length, 0, '"-" is not inside x > 5');
  assert.equal(
    shadowed([{ operator: 'between', value: [0, 10] }, null], [{ operator: 'between', value: [2, 3] }, null])
      .length,
    0,
    'a negated between is not modelled: no claim',
  );
});
