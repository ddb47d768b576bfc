// Cancelling a recipe run while DuckDB runs its query: the query is interrupted (the job ends at
// once, not when the query would have), the job is cancelled, and nothing is left: no dataset
// version, no run in the lineage, no file in the artifact store or in the scratch folders.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, waitForJob, type TestServer } from '../../support/server.js';

const ROWS = 6_000;

function countFiles(dir: string): number {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).reduce(
        (n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name)) : 1),
        0,
      )
    : 0;
}

describe('cancelling a recipe run', () => {
  let server: TestServer;
  let key: string;
  const P = '/v1/projects/stop';

  before(async () => {
    // One DuckDB thread: the query is long enough to be caught running, and leaves a core free.
    server = await startTestServer({ dataThreads: 1 });
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'stop' } });
    const lines = ['k,i'];
    for (let i = 0; i < ROWS; i++) lines.push(`1,${i}`);
    const up = await call(server, 'POST', `${P}/datasets?name=grid`, {
      key,
      body: `${lines.join('\n')}\n`,
      type: 'text/csv',
    });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    // Every row joined with every row on the constant k: 36 million rows to number and filter.
    const made = await call(server, 'POST', `${P}/recipes`, {
      key,
      json: {
        name: 'slow',
        inputs: { main: { dataset: 'grid' }, other: { dataset: 'grid' } },
        steps: [
          { type: 'join', with: 'other', on: ['k'] },
          { type: 'filter', expression: 'i + i_other = -1' },
        ],
      },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });
  after(() => server.dispose());

  test('cancel while the query runs: cancelled at once, no version, no run, no file left', async () => {
    const artifacts = join(server.home, 'artifacts');
    const scratch = join(server.home, 'tmp');
    const storedBefore = countFiles(artifacts);

    // 1. Start the run and wait until DuckDB is running the whole query (the COPY to Parquet).
    const run = await call(server, 'POST', `${P}/recipes/slow/run`, { key, json: { output: 'grid-out' } });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const id = run.body.id as string;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const job = (await call(server, 'GET', `${P}/jobs/${id}`, { key })).body;
      assert.ok(!['succeeded', 'failed', 'cancelled'].includes(job.status), JSON.stringify(job));
      if (job.status === 'running' && /running 2 steps/.test(job.message)) break;
      assert.ok(Date.now() < deadline, 'the run did not reach its query');
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 300));

    // 2. Cancel: the job ends within seconds (the query is interrupted, not waited for).
    const started = Date.now();
    const cancel = await call(server, 'POST', `${P}/jobs/${id}/cancel`, { key });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    const job = await waitForJob(server, key, 'stop', id, 60_000);
    const took = Date.now() - started;
    assert.equal(job.status, 'cancelled', JSON.stringify(job));
    assert.ok(took < 5_000, `cancelled after ${took} ms`);

    // 3. Nothing recorded, nothing left behind.
    assert.equal((await call(server, 'GET', `${P}/datasets/grid-out`, { key })).status, 404);
    const lineage = await call(server, 'GET', `${P}/recipes/slow/versions/1/lineage`, { key });
    assert.deepEqual(lineage.body.runs, []);
    assert.equal(countFiles(artifacts), storedBefore, 'no artifact stored');
    assert.equal(countFiles(join(scratch, 'data')), 0, 'no scratch file left');
    assert.equal(countFiles(join(scratch, 'duckdb')), 0, 'no spill file left');

    // 4. The engine still works after the interrupt.
    const preview = await call(server, 'POST', `${P}/recipes/slow/preview`, {
      key,
      json: { steps: [{ type: 'filter', expression: 'i < 3' }], inputs: { main: { dataset: 'grid' } } },
    });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.rowCount, 3);
  });
});
