import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from 'json-rules-engine';

// Why a compiled set pools its json-rules-engine Engines (src/rules/compile.ts): one Engine keeps its run
// state on the instance, and overlapping runs interfere. If this test starts failing, a json-rules-engine
// release made runs independent and the pool can go.
test('json-rules-engine: overlapping runs on one Engine skip lower priority levels', async () => {
  const engine = new Engine(
    [
      {
        name: 'high',
        priority: 2,
        conditions: { all: [{ fact: 'x', operator: 'equal', value: 1 }] },
        event: { type: 'a' },
      },
      {
        name: 'low',
        priority: 1,
        conditions: { all: [{ fact: 'x', operator: 'equal', value: 1 }] },
        event: { type: 'b' },
      },
    ],
    { allowUndefinedFacts: false },
  );
  const alone = await engine.run({ x: 1 });
  assert.deepEqual(alone.results.map((r) => r.name).sort(), ['high', 'low']);
  // Runs started a few microtasks apart: the first to finish marks the engine FINISHED while the
  // others are between their two priority levels.
  const pending = [];
  for (let i = 0; i < 8; i++) {
    pending.push(engine.run({ x: 1 }));
    for (let k = 0; k < 5; k++) await Promise.resolve();
  }
  const counts = (await Promise.all(pending)).map((r) => r.results.length);
  assert.ok(
    counts.some((c) => c < 2),
    `some overlapping run lost a rule: ${counts.join(', ')}`,
  );
});
