// Recipes through the real HTTP server: create, version, preview, run as a job, replay on the next
// version of the input with lineage, and the bad inputs a user can send.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, waitForJob, type TestServer } from '../../support/server.js';
import { DIALECTS, type StoreFixture } from '../../support/stores.js';

function peopleCsv(rows: number, shift = 0): string {
  const lines = ['id,age,income,city,joined'];
  for (let i = 0; i < rows; i++) {
    const age = i % 9 === 4 ? '' : String(20 + ((i * 7 + shift) % 50));
    const city = ['paris', 'lyon', 'nice', 'oslo'][i % 4];
    lines.push(
      `${i},${age},${1000 + ((i * 37) % 500) + shift},${city},2024-01-${String(1 + (i % 28)).padStart(2, '0')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
const CITIES = 'city,country,population\nparis,fr,2100000\nlyon,fr,520000\nnice,fr,340000\n';

for (const dialect of DIALECTS)
  describe(`recipes over HTTP (metadata on ${dialect.name})`, { skip: dialect.skipReason() }, () => {
    let server: TestServer;
    let fixture: StoreFixture;
    let key: string;
    const P = '/v1/projects/prep';

    const upload = (name: string, csv: string) =>
      call(server, 'POST', `${P}/datasets?name=${name}`, { key, body: csv, type: 'text/csv' });
    const steps = [
      { type: 'filter', expression: 'income > 1010' },
      { type: 'impute', column: 'age', strategy: 'median' },
      { type: 'standardize', columns: ['income'] },
      { type: 'join', with: 'cities', on: ['city'], how: 'left' },
      { type: 'derive', name: 'senior', expression: 'age >= 50' },
      { type: 'split', fractions: { train: 0.8, test: 0.2 }, seed: 7 },
    ];

    before(async () => {
      fixture = await dialect.open();
      server = await startTestServer({ databaseUrl: fixture.url });
      key = server.adminKey!;
      assert.equal((await call(server, 'POST', '/v1/projects', { key, json: { name: 'prep' } })).status, 201);
      assert.equal((await upload('people', peopleCsv(200))).status, 201);
      assert.equal((await upload('cities', CITIES)).status, 201);
    });
    after(async () => {
      await server.dispose();
      await fixture.dispose();
    });

    test('create a recipe with version 1, read it back, list it', async () => {
      const res = await call(server, 'POST', `${P}/recipes`, {
        key,
        json: {
          name: 'clean',
          description: 'people, cleaned',
          inputs: {
            main: { dataset: 'people', version: 'latest' },
            cities: { dataset: 'cities', version: 1 },
          },
          steps,
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.version.version, 1);
      assert.deepEqual(
        res.body.version.outputSchema.columns.map((c: { name: string }) => c.name),
        ['id', 'age', 'income', 'city', 'joined', 'country', 'population', 'senior', 'split'],
      );
      const got = await call(server, 'GET', `${P}/recipes/clean/versions/1`, { key });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.steps, steps);
      const list = await call(server, 'GET', `${P}/recipes`, { key });
      assert.deepEqual(
        list.body.items.map((r: { name: string; latestVersion: number }) => [r.name, r.latestVersion]),
        [['clean', 1]],
      );
    });

    test('preview shows rows and the output schema, and one step at a time', async () => {
      const res = await call(server, 'POST', `${P}/recipes/clean/preview`, { key, json: { limit: 5 } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.rows.length, 5);
      assert.equal(res.body.steps, 6);
      assert.ok(res.body.columns.some((c: { name: string }) => c.name === 'split'));
      assert.ok(['train', 'test'].includes(res.body.rows[0].split));
      const one = await call(server, 'POST', `${P}/recipes/clean/preview`, {
        key,
        json: { upTo: 1, limit: 1000 },
      });
      assert.equal(one.status, 200);
      assert.ok(one.body.rows.every((r: { income: number }) => r.income > 1010));
      assert.equal(one.body.columns.length, 5);
      const draft = await call(server, 'POST', `${P}/recipes/clean/preview`, {
        key,
        json: { steps: [{ type: 'select', columns: ['id'] }], limit: 2 },
      });
      assert.deepEqual(draft.body.rows, [{ id: 0 }, { id: 1 }]);
      // A window of 40 input rows: the first ones, or a seeded sample of the whole input.
      const window = { steps: [{ type: 'select', columns: ['id'] }], rows: 40, limit: 1000 };
      const head = await call(server, 'POST', `${P}/recipes/clean/preview`, { key, json: window });
      assert.equal(head.body.rowCount, 40);
      assert.ok(head.body.rows.every((r: { id: number }) => r.id < 40));
      const sample = await call(server, 'POST', `${P}/recipes/clean/preview`, {
        key,
        json: { ...window, sample: true },
      });
      assert.equal(sample.body.rowCount, 40);
      assert.ok(sample.body.rows.some((r: { id: number }) => r.id >= 40));
      const again = await call(server, 'POST', `${P}/recipes/clean/preview`, {
        key,
        json: { ...window, sample: true },
      });
      assert.deepEqual(again.body.rows, sample.body.rows);
    });

    test('run: a job makes a dataset version with the recipe as its source and its lineage', async () => {
      const res = await call(server, 'POST', `${P}/recipes/clean/versions/1/run`, {
        key,
        json: { output: 'people-clean' },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const job = await waitForJob(server, key, 'prep', res.body.id);
      assert.equal(job.status, 'succeeded', job.error);
      assert.equal(job.result.dataset, 'people-clean');
      assert.equal(job.result.version, 1);
      assert.equal(job.result.created, true);
      const v = await call(server, 'GET', `${P}/datasets/people-clean/versions/1`, { key });
      assert.equal(v.status, 200);
      assert.equal(v.body.sourceInfo.kind, 'recipe');
      const rv = await call(server, 'GET', `${P}/recipes/clean/versions/1`, { key });
      assert.equal(v.body.lineage.recipeVersionId, rv.body.id);
      const people = await call(server, 'GET', `${P}/datasets/people/versions/1`, { key });
      const cities = await call(server, 'GET', `${P}/datasets/cities/versions/1`, { key });
      assert.deepEqual([...v.body.lineage.inputs].sort(), [people.body.id, cities.body.id].sort());

      // The same recipe on the same inputs: identical content, the existing version.
      const again = await call(server, 'POST', `${P}/recipes/clean/run`, {
        key,
        json: { output: 'people-clean' },
      });
      const job2 = await waitForJob(server, key, 'prep', again.body.id);
      assert.equal(job2.status, 'succeeded', job2.error);
      assert.deepEqual([job2.result.version, job2.result.created], [1, false]);
    });

    test('replay on the next version of the source: "latest" makes a new output version with lineage naming both', async () => {
      assert.equal((await upload('people', peopleCsv(300, 3))).status, 201);
      const res = await call(server, 'POST', `${P}/recipes/clean/run`, {
        key,
        json: { output: 'people-clean' },
      });
      const job = await waitForJob(server, key, 'prep', res.body.id);
      assert.equal(job.status, 'succeeded', job.error);
      assert.deepEqual([job.result.version, job.result.created], [2, true]);
      assert.equal(job.result.inputs.main.version, 2);
      const lineage = await call(server, 'GET', `${P}/recipes/clean/versions/1/lineage`, { key });
      assert.equal(lineage.status, 200);
      const runs = lineage.body.runs as {
        output: { version: number };
        inputs: { main: { version: number } };
      }[];
      assert.deepEqual(runs.map((r) => [r.output.version, r.inputs.main.version]).sort(), [
        [1, 1],
        [1, 1],
        [2, 2],
      ]);
      const v2 = await call(server, 'GET', `${P}/datasets/people-clean/versions/2`, { key });
      const people2 = await call(server, 'GET', `${P}/datasets/people/versions/2`, { key });
      assert.ok(v2.body.lineage.inputs.includes(people2.body.id));
    });

    test('add a version: numbered, immutable', async () => {
      const res = await call(server, 'POST', `${P}/recipes/clean/versions`, {
        key,
        json: { inputs: { main: { dataset: 'people' } }, steps: [{ type: 'drop', columns: ['joined'] }] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.version, 2);
      const v1 = await call(server, 'GET', `${P}/recipes/clean/versions/1`, { key });
      assert.deepEqual(v1.body.steps, steps);
    });

    const bad = async (json: unknown, path: string, detail: RegExp) => {
      const res = await call(server, 'POST', `${P}/recipes/clean/versions`, { key, json });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.errors[0].path, path, JSON.stringify(res.body));
      assert.match(res.body.detail, detail);
    };
    const main = { main: { dataset: 'people' } };

    test('bad call: unknown step type', () =>
      bad(
        { inputs: main, steps: [{ type: 'drop', columns: ['joined'] }, { type: 'pivot' }] },
        '/steps/1/type',
        /unknown step type/,
      ));

    test('bad call: unknown column, and a column dropped by an earlier step', async () => {
      await bad(
        { inputs: main, steps: [{ type: 'select', columns: ['id', 'salary'] }] },
        '/steps/0/columns/1',
        /no column "salary"/,
      );
      await bad(
        {
          inputs: main,
          steps: [
            { type: 'drop', columns: ['age'] },
            { type: 'derive', name: 'x', expression: 'age + 1' },
          ],
        },
        '/steps/1/expression',
        /age/,
      );
    });

    test('bad call: an expression that does not parse names its position', () =>
      bad(
        { inputs: main, steps: [{ type: 'filter', expression: 'age >= (3' }] },
        '/steps/0/expression',
        /position \d+/,
      ));

    test('bad call: type mismatch', () =>
      bad(
        { inputs: main, steps: [{ type: 'derive', name: 'x', expression: 'city - 1' }] },
        '/steps/0/expression',
        /./,
      ));

    test('bad call: join with an input that is not declared, or a dataset that does not exist', async () => {
      await bad(
        { inputs: main, steps: [{ type: 'join', with: 'cities', on: ['city'] }] },
        '/steps/0/with',
        /no input "cities"/,
      );
      await bad(
        { inputs: { main: { dataset: 'nope' } }, steps: [] },
        '/inputs/main/dataset',
        /no dataset "nope"/,
      );
      await bad(
        { inputs: { main: { dataset: 'people', version: 9 } }, steps: [] },
        '/inputs/main/version',
        /no version 9/,
      );
    });

    test('bad call: a split stratified by a column that does not exist at that step names /steps/N/stratify', async () => {
      await bad(
        {
          inputs: main,
          steps: [
            { type: 'drop', columns: ['city'] },
            { type: 'split', fractions: { train: 0.8, test: 0.2 }, stratify: 'city' },
          ],
        },
        '/steps/1/stratify',
        /no column "city"/,
      );
    });

    test('a split stratified by city keeps every city in every part in its share', async () => {
      const res = await call(server, 'POST', `${P}/recipes/clean/preview`, {
        key,
        json: {
          steps: [{ type: 'split', fractions: { train: 0.75, test: 0.25 }, seed: 5, stratify: 'city' }],
          inputs: main,
          limit: 1000,
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const rows = res.body.rows as { city: string; split: string }[];
      for (const city of ['paris', 'lyon', 'nice', 'oslo']) {
        const of = rows.filter((r) => r.city === city);
        const train = of.filter((r) => r.split === 'train').length;
        assert.equal(train, Math.round(of.length * 0.75), city);
      }
    });

    test('bad call: a huge or deeply nested expression', async () => {
      await bad(
        { inputs: main, steps: [{ type: 'filter', expression: `age > ${'1+'.repeat(5_000)}1` }] },
        '/steps/0/expression',
        /at most/,
      );
      await bad(
        {
          inputs: main,
          steps: [{ type: 'filter', expression: `${'('.repeat(1_000)}age > 1${')'.repeat(1_000)}` }],
        },
        '/steps/0/expression',
        /./,
      );
    });

    test('bad call: a recipe whose first version is refused is not created', async () => {
      const res = await call(server, 'POST', `${P}/recipes`, {
        key,
        json: { name: 'broken', inputs: main, steps: [{ type: 'nope' }] },
      });
      assert.equal(res.status, 400);
      assert.equal((await call(server, 'GET', `${P}/recipes/broken`, { key })).status, 404);
    });

    test('a recipe without versions previews draft steps with draft inputs, and asks for inputs otherwise', async () => {
      assert.equal(
        (await call(server, 'POST', `${P}/recipes`, { key, json: { name: 'empty' } })).status,
        201,
      );
      const steps = [{ type: 'select', columns: ['city'] }, { type: 'drop_duplicates' }];
      const none = await call(server, 'POST', `${P}/recipes/empty/preview`, { key, json: { steps } });
      assert.equal(none.status, 400);
      assert.equal(none.body.errors[0].path, 'inputs');
      const ok = await call(server, 'POST', `${P}/recipes/empty/preview`, {
        key,
        json: { steps, inputs: main },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(
        ok.body.rows.map((r: { city: string }) => r.city),
        ['paris', 'lyon', 'nice', 'oslo'],
      );
    });

    test('bad call: a cast that fails at run time fails the job with the reason; nothing is left', async () => {
      const made = await call(server, 'POST', `${P}/recipes`, {
        key,
        json: { name: 'castfail', inputs: main, steps: [{ type: 'cast', columns: { city: 'numeric' } }] },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const workDir = join(server.home, 'tmp', 'data');
      const artifacts = join(server.home, 'artifacts');
      const countFiles = (dir: string): number =>
        existsSync(dir)
          ? readdirSync(dir, { withFileTypes: true }).reduce(
              (n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name)) : 1),
              0,
            )
          : 0;
      const before = countFiles(artifacts);
      const res = await call(server, 'POST', `${P}/recipes/castfail/run`, {
        key,
        json: { output: 'castfail-out' },
      });
      assert.equal(res.status, 202);
      const job = await waitForJob(server, key, 'prep', res.body.id);
      assert.equal(job.status, 'failed');
      assert.match(job.error, /Could not convert string 'paris' to DOUBLE/);
      assert.equal((await call(server, 'GET', `${P}/datasets/castfail-out`, { key })).status, 404);
      assert.equal(countFiles(workDir), 0, 'no scratch file left');
      assert.equal(countFiles(artifacts), before, 'no artifact stored');
      // The same failure in a preview is the caller's 400.
      const preview = await call(server, 'POST', `${P}/recipes/castfail/preview`, { key, json: {} });
      assert.equal(preview.status, 400);
      assert.match(preview.body.detail, /paris/);
    });

    test('bad call: unknown recipe and version are 404; a body field that does not exist is 400', async () => {
      assert.equal((await call(server, 'GET', `${P}/recipes/ghost`, { key })).status, 404);
      assert.equal((await call(server, 'GET', `${P}/recipes/clean/versions/99`, { key })).status, 404);
      assert.equal(
        (await call(server, 'POST', `${P}/recipes/clean/run`, { key, json: { version: 99 } })).status,
        404,
      );
      const extra = await call(server, 'POST', `${P}/recipes/clean/run`, { key, json: { outptu: 'x' } });
      assert.equal(extra.status, 400);
      const name = await call(server, 'POST', `${P}/recipes/clean/run`, { key, json: { output: '../etc' } });
      assert.equal(name.status, 400);
      assert.equal(name.body.errors[0].path, 'output');
    });
  });
