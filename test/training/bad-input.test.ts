// The bad inputs of issue 4 through the real HTTP server: each is handled sensibly (the model
// trains, the report says what was done) or refused with a clear problem+json before any job is
// queued. (A one-class categorical target and unknown columns are in test/api/bad-input.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TableColumn } from '../../src/data/read.js';
import type { ColumnSchema } from '../../src/data/schema.js';
import { trainPipeline } from '../../src/training/pipeline.js';
import { call, startTestServer, waitForJob, type TestServer } from '../support/server.js';

function csv(header: string[], rows: (string | number)[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** y depends on x; the other columns are the bad ones. */
function rowsOf(n: number, extra: (i: number) => (string | number)[]): (string | number)[][] {
  return Array.from({ length: n }, (_, i) => {
    const x = ((i * 37) % 100) / 10;
    return [x, ...extra(i), x > 5 ? 'hi' : 'lo'];
  });
}

describe('bad input of training, end to end', () => {
  let server: TestServer;
  let key: string;
  const upload = async (name: string, body: string) => {
    const r = await call(server, 'POST', `/v1/projects/lab/datasets?name=${name}`, {
      key,
      body,
      type: 'text/csv',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const jobCount = async () =>
    (await call(server, 'GET', '/v1/projects/lab/jobs', { key })).body.items.length as number;
  /** Trains, waits, returns the finished job and its model version. */
  const trainOk = async (json: Record<string, unknown>) => {
    const r = await call(server, 'POST', '/v1/projects/lab/training-jobs', { key, json });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await waitForJob(server, key, 'lab', r.body.id, 120_000);
    assert.equal(job.status, 'succeeded', job.error);
    const mv = (
      await call(server, 'GET', `/v1/projects/lab/models/${String(json.model)}/versions/1`, { key })
    ).body;
    return { job, mv };
  };
  const refused = async (json: Record<string, unknown>, code: string, mention: RegExp) => {
    const before = await jobCount();
    const r = await call(server, 'POST', '/v1/projects/lab/training-jobs', { key, json });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(r.body.code, code);
    assert.match(`${r.body.detail}\n${JSON.stringify(r.body.errors)}`, mention);
    assert.equal(await jobCount(), before, 'no job queued');
  };
  const predict = async (model: string, rows: unknown[]) => {
    const dep = await call(server, 'POST', '/v1/projects/lab/deployments', {
      key,
      json: { name: model, model },
    });
    assert.equal(dep.status, 201, JSON.stringify(dep.body));
    const p = await call(server, 'POST', `/v1/projects/lab/deployments/${model}/predict`, {
      key,
      json: { rows },
    });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    return p.body.predictions as { label: unknown; probabilities: Record<string, number> }[];
  };

  before(async () => {
    server = await startTestServer();
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });
  });
  after(() => server.dispose());

  test('a constant column and an all-missing column: trained without them, the report says so', async () => {
    await upload(
      'const',
      csv(
        ['x', 'c', 'k', 'e', 'y'],
        rowsOf(120, () => [7, 'same', '']),
      ),
    );
    for (const algorithm of ['logistic_regression', 'gradient_boosting']) {
      const { mv } = await trainOk({
        dataset: 'const',
        target: 'y',
        model: `const-${algorithm.replace(/_/g, '-')}`,
        algorithm,
      });
      const notes = mv.metrics.notes as string[];
      assert.ok(
        notes.some((n) => /^c: constant/.test(n)),
        JSON.stringify(notes),
      );
      assert.ok(
        notes.some((n) => /^k: constant/.test(n)),
        JSON.stringify(notes),
      );
      assert.ok(
        notes.some((n) => /^e: every value is missing; left out/.test(n)),
        JSON.stringify(notes),
      );
      assert.deepEqual(
        mv.signature.inputs.map((i: { name: string }) => i.name),
        ['x', 'c', 'k'],
      );
      assert.ok(mv.metrics.accuracy > 0.9);
    }
    const p = await predict('const-logistic-regression', [
      { x: 9, c: 7, k: 'same' },
      { x: 1, c: 100, k: 'other' },
    ]);
    assert.deepEqual(
      p.map((r) => r.label),
      ['hi', 'lo'],
    );
  });

  test('a target with one class (numbers, and one class left after the missing ones) → 400 before any job', async () => {
    await upload(
      'oneclass',
      csv(
        ['x', 'y'],
        Array.from({ length: 20 }, (_, i) => [i, i % 3 === 0 ? '' : 1]),
      ),
    );
    await refused(
      { dataset: 'oneclass', target: 'y', algorithm: 'logistic_regression' },
      'TARGET_INVALID',
      /one class/,
    );
  });

  test('NaN and missing spellings in features are imputed; the model predicts for null', async () => {
    await upload(
      'nans',
      csv(
        ['x', 'z', 'y'],
        rowsOf(120, (i) => [i % 4 === 0 ? 'NaN' : i % 7 === 0 ? 'NA' : i % 5]).map((r) => [
          r[0]!,
          r[1]!,
          r[2]!,
        ]),
      ),
    );
    const { mv } = await trainOk({ dataset: 'nans', target: 'y', model: 'nans' });
    assert.equal(mv.signature.inputs.find((i: { name: string }) => i.name === 'z').type, 'numeric');
    const p = await predict('nans', [{ x: 9, z: null }]);
    assert.equal(p[0]!.label, 'hi');
  });

  test('Infinity in a feature: read as numbers, infinite values missing (linear) or ordered (trees), with notes', async () => {
    await upload(
      'infs',
      csv(
        ['x', 'z', 'y'],
        rowsOf(120, (i) => [i % 10 === 0 ? 'Infinity' : i % 10 === 1 ? '-inf' : i % 5]).map((r) => [
          r[0]!,
          r[1]!,
          r[2]!,
        ]),
      ),
    );
    for (const algorithm of ['logistic_regression', 'random_forest']) {
      const model = `infs-${algorithm.replace(/_/g, '-')}`;
      const { mv } = await trainOk({ dataset: 'infs', target: 'y', model, algorithm });
      assert.ok(mv.metrics.accuracy > 0.9);
      const notes = mv.metrics.notes as string[];
      // The upload types the column categorical (±Infinity is not a number there); training reads it as numbers.
      assert.equal(mv.signature.inputs.find((i: { name: string }) => i.name === 'z').type, 'numeric');
      assert.ok(
        notes.some((n) => /^z: numbers with 24 infinite values/.test(n)),
        JSON.stringify(notes),
      );
      assert.ok(
        notes.some((n) => /^z: \d+ infinite values in the training rows/.test(n)),
        JSON.stringify(notes),
      );
      const p = await predict(model, [
        { x: 9, z: 3 },
        { x: 9, z: null },
      ]);
      assert.deepEqual(
        p.map((r) => r.label),
        ['hi', 'hi'],
      );
    }
  });

  test('a categorical column with 100,000 distinct values: dropped as an identifier, with a note', async () => {
    const n = 100_000;
    await upload(
      'ids',
      csv(
        ['x', 'id', 'y'],
        rowsOf(n, (i) => [`u${i.toString(36)}`]),
      ),
    );
    const { mv } = await trainOk({ dataset: 'ids', target: 'y', model: 'ids' });
    const notes = mv.metrics.notes as string[];
    assert.ok(
      notes.some((s) => /^id: \d+ distinct values .* identifier/.test(s)),
      JSON.stringify(notes),
    );
    assert.ok(!mv.params.features.some((f: string) => f.startsWith('id=')));
    assert.ok(mv.metrics.accuracy > 0.9);
    const p = await predict('ids', [{ x: 9, id: 'never-seen' }]);
    assert.equal(p[0]!.label, 'hi');
  });

  test('more columns than rows: trains (regularised), with a note to trust the test metrics', async () => {
    const header = ['x', ...Array.from({ length: 30 }, (_, j) => `f${j}`), 'y'];
    await upload(
      'wide',
      csv(
        header,
        rowsOf(12, (i) => Array.from({ length: 30 }, (_, j) => (i * 7 + j * 3) % 11)),
      ),
    );
    const { mv } = await trainOk({ dataset: 'wide', target: 'y', model: 'wide' });
    assert.ok((mv.metrics.notes as string[]).some((s) => /31 feature columns for \d+ training rows/.test(s)));
    assert.equal(mv.signature.inputs.length, 31);
  });

  test('multinomial_nb with a negative number column → 400 naming it, before any job', async () => {
    await upload(
      'negative',
      csv(
        ['x', 'd', 'y'],
        rowsOf(40, (i) => [i - 20]),
      ),
    );
    await refused(
      { dataset: 'negative', target: 'y', algorithm: 'multinomial_nb' },
      'VALIDATION_FAILED',
      /non-negative counts, but d goes down to -20/,
    );
    await refused(
      { dataset: 'negative', target: 'y', algorithm: 'multinomial_nb', features: ['x', 'd'] },
      'VALIDATION_FAILED',
      /features\/1/,
    );
  });

  test('a text target for a regression → 400 TARGET_INVALID; as classes → 400 too', async () => {
    const phrases = [
      'the cat sat on the mat today',
      'a dog ran far away from home',
      'birds sing in the early morning',
    ];
    const body = csv(
      ['x', 'note'],
      Array.from({ length: 60 }, (_, i) => [i, `"${phrases[i % 3]} number ${i} with more words"`]),
    );
    const up = await upload('notes', body);
    assert.equal(up.schema.columns.find((c: { name: string }) => c.name === 'note').type, 'text');
    await refused(
      { dataset: 'notes', target: 'note', algorithm: 'linear_regression' },
      'TARGET_INVALID',
      /numeric/,
    );
    await refused({ dataset: 'notes', target: 'note', task: 'regression' }, 'TARGET_INVALID', /numeric/);
    await refused({ dataset: 'notes', target: 'note' }, 'TARGET_INVALID', /free text/);
  });
});

describe('bad numbers that only another reader can produce (Parquet ±Infinity)', () => {
  test('±Infinity in a numeric feature is missing (imputed) for linear models, ordered for trees', () => {
    const n = 200;
    const x = Float64Array.from({ length: n }, (_, i) =>
      i % 13 === 0 ? (i % 2 ? Infinity : -Infinity) : i % 10,
    );
    const y = Array.from({ length: n }, (_, i) => (i % 10 > 4 ? 'hi' : 'lo'));
    const columns: TableColumn[] = [
      { name: 'x', kind: 'numeric', values: x },
      { name: 'y', kind: 'categorical', values: y },
    ];
    const schema = (name: string, type: ColumnSchema['type']): ColumnSchema => ({
      name,
      type,
      missing: 0,
      distinct: 10,
      distinctCapped: false,
    });
    for (const algorithm of ['logistic_regression', 'random_forest']) {
      const out = trainPipeline(
        columns,
        {
          algorithm,
          task: 'classification',
          target: schema('y', 'categorical'),
          features: [schema('x', 'numeric')],
          params: algorithm === 'random_forest' ? { trees: 10 } : { l2: 1, maxIter: 100 },
          testFraction: 0.2,
          seed: 1,
          rowCount: n,
          model: 'inf',
          datasetVersionId: 't',
          datasetLabel: 't@1',
        },
        () => {},
      );
      const m = out.metrics as { accuracy: number; notes: string[] };
      assert.ok(Number.isFinite(m.accuracy) && m.accuracy > 0.8, `${algorithm}: ${m.accuracy}`);
      assert.ok(
        m.notes.some((s) => /^x: \d+ infinite values/.test(s)),
        JSON.stringify(m.notes),
      );
    }
  });
});
