import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentJobError, type Job, type JobHandler } from '../../src/jobs/queue.js';
import { StoreJobQueue } from '../../src/jobs/store-queue.js';
import { newId, nowIso, type MetadataStore } from '../../src/store/metadata.js';
import { DIALECTS } from '../support/stores.js';

async function project(store: MetadataStore): Promise<string> {
  const id = newId('prj');
  await store.db
    .insertInto('projects')
    .values({ id, name: id.toLowerCase().replace(/[^a-z0-9]/g, ''), description: '', created_at: nowIso() })
    .execute();
  return id;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const finished = (q: StoreJobQueue, p: string, id: string) =>
  until(`job ${id} to finish`, async () => {
    const job = await q.get(p, id);
    return ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  });

for (const dialect of DIALECTS) {
  describe(`StoreJobQueue on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    /** A sole worker's queue on a fresh store (stopped and disposed after the test), and a project. */
    const openQueue = async (t: TestContext) => {
      const { store, dispose } = await dialect.open();
      const q = new StoreJobQueue(store, { concurrency: 1, soleWorker: true, pollMs: 20 });
      t.after(async () => {
        await q.stop(100);
        await dispose();
      });
      return { store, q, p: await project(store) };
    };

    test('a job runs, reports progress, and its side effect commits with its completion', async (t) => {
      const { store, q, p } = await openQueue(t);
      const seen: number[] = [];
      await q.start({
        echo: async (job, ctx) => {
          ctx.progress(0.5, 'half', { loss: 0.25 });
          seen.push(ctx.attempt);
          return {
            result: { echoed: job.payload },
            commit: async (trx) => {
              await trx
                .insertInto('datasets')
                .values({ id: newId('ds'), project_id: p, name: 'made-by-job', created_at: nowIso() })
                .execute();
            },
          };
        },
      });
      const job = await q.enqueue({ projectId: p, type: 'echo', payload: { x: 1 }, createdBy: 'test' });
      const done = await finished(q, p, job.id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.result, { echoed: { x: 1 } });
      assert.equal(done.progress, 1);
      assert.deepEqual(done.metrics, { loss: 0.25 }, 'the last figures stay with the finished job');
      assert.equal(done.attempts, 1);
      assert.deepEqual(seen, [1]);
      assert.equal((await store.db.selectFrom('datasets').select('name').execute()).length, 1);
    });

    test('a failing job is retried, then fails with its reason; a permanent error is not retried', async (t) => {
      const { q, p } = await openQueue(t);
      let calls = 0;
      await q.start({
        flaky: async () => {
          calls++;
          throw new Error(`flaky failure ${calls}`);
        },
        bad: async () => {
          throw new PermanentJobError('the target has one class');
        },
      });
      const flaky = await q.enqueue({
        projectId: p,
        type: 'flaky',
        payload: {},
        createdBy: 'test',
        maxAttempts: 2,
      });
      const failed = await finished(q, p, flaky.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.attempts, 2);
      assert.equal(failed.error, 'flaky failure 2');
      const bad = await q.enqueue({
        projectId: p,
        type: 'bad',
        payload: {},
        createdBy: 'test',
        maxAttempts: 3,
      });
      const badDone = await finished(q, p, bad.id);
      assert.equal(badDone.status, 'failed');
      assert.equal(badDone.attempts, 1);
      assert.match(badDone.error ?? '', /one class/);
    });

    test('cancel: a queued job at once, a running job through its signal', async (t) => {
      const { q, p } = await openQueue(t);
      const waiting: JobHandler = (_job, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('stopped by signal'))),
        );
      await q.start({ wait: waiting });
      const running = await q.enqueue({ projectId: p, type: 'wait', payload: {}, createdBy: 'test' });
      await until('the first job to run', async () =>
        (await q.get(p, running.id)).status === 'running' ? true : undefined,
      );
      const queued = await q.enqueue({ projectId: p, type: 'wait', payload: {}, createdBy: 'test' });
      assert.equal((await q.cancel(p, queued.id)).status, 'cancelled');
      await q.cancel(p, running.id);
      const cancelled = await finished(q, p, running.id);
      assert.equal(cancelled.status, 'cancelled');
      await assert.rejects(q.cancel(p, running.id), /already been cancelled/);
      await assert.rejects(q.get(p, 'job_nope'), /not found/);
    });

    test('cancel: after the handler returned, a job that recorded its work succeeds; others are cancelled', async (t) => {
      const { q, p } = await openQueue(t);
      const committed: string[] = [];
      // Their work is done when the cancel arrives (they do not look at the signal before returning).
      const late =
        (recorded: boolean): JobHandler =>
        (job, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () =>
              resolve({ result: 'done', recorded, commit: async () => void committed.push(job.type) }),
            ),
          );
      await q.start({ recorded: late(true), unrecorded: late(false) });
      for (const type of ['recorded', 'unrecorded']) {
        const job = await q.enqueue({ projectId: p, type, payload: {}, createdBy: 'test' });
        await until('the job to run', async () =>
          (await q.get(p, job.id)).status === 'running' ? true : undefined,
        );
        await q.cancel(p, job.id);
        const done = await finished(q, p, job.id);
        assert.equal(done.status, type === 'recorded' ? 'succeeded' : 'cancelled', type);
        assert.equal(done.result, type === 'recorded' ? 'done' : null, type);
      }
      assert.deepEqual(committed, ['recorded']);
    });

    test("bad call: another project's job reads as not found", async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const q = new StoreJobQueue(store, { concurrency: 1, soleWorker: true });
      const a = await project(store);
      const b = await project(store);
      const job = await q.enqueue({ projectId: a, type: 'x', payload: {}, createdBy: 'test' });
      await assert.rejects(q.get(b, job.id), /not found/);
      await assert.rejects(q.cancel(b, job.id), /not found/);
      assert.deepEqual(await q.list(b), []);
    });

    test('a worker that lost its lease cannot complete: its side effect is not written', async (t) => {
      const { store, q, p } = await openQueue(t);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      await q.start({
        late: async () => {
          await gate;
          return {
            result: 'late',
            commit: async (trx) => {
              await trx
                .insertInto('datasets')
                .values({ id: newId('ds'), project_id: p, name: 'must-not-exist', created_at: nowIso() })
                .execute();
            },
          };
        },
      });
      const job = await q.enqueue({ projectId: p, type: 'late', payload: {}, createdBy: 'test' });
      await until('the job to run', async () =>
        (await q.get(p, job.id)).status === 'running' ? true : undefined,
      );
      // 1. Another worker takes the job over (as lease recovery would).
      await store.db.updateTable('jobs').set({ lease_owner: 'w_other' }).where('id', '=', job.id).execute();
      // 2. The first worker finishes late.
      release();
      await sleep(200);
      const after = await q.get(p, job.id);
      assert.equal(after.status, 'running', 'still owned by the other worker');
      assert.deepEqual(await store.db.selectFrom('datasets').selectAll().execute(), []);
    });

    test('a worker killed with SIGKILL mid-job: the job is recovered and run again, never left running', async (t) => {
      const { store, url, dispose } = await dialect.open();
      t.after(dispose);
      const p = await project(store);
      const enqueuer = new StoreJobQueue(store, { concurrency: 1, soleWorker: false });
      const job: Job = await enqueuer.enqueue({
        projectId: p,
        type: 'slow',
        payload: {},
        createdBy: 'test',
        maxAttempts: 2,
      });
      // 1. A worker process claims it and is killed in the middle.
      const child = spawn(
        process.execPath,
        [new URL('../fixtures/queue-child.js', import.meta.url).pathname, url],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes(`running ${job.id}`) && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const orphan = await enqueuer.get(p, job.id);
      assert.equal(orphan.status, 'running');
      assert.equal(orphan.attempts, 1);
      // 2. On restart (embedded mode: sole worker), it goes back to the queue and runs to the end.
      const restarted = new StoreJobQueue(store, { concurrency: 1, soleWorker: true, pollMs: 20 });
      t.after(() => restarted.stop(100));
      await restarted.start({ slow: async () => ({ result: 'second time' }) });
      const done = await finished(restarted, p, job.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.attempts, 2);
      assert.equal(done.result, 'second time');
    });

    test('a job interrupted on its last attempt fails with the reason', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const p = await project(store);
      const q = new StoreJobQueue(store, { concurrency: 1, soleWorker: true });
      const job = await q.enqueue({
        projectId: p,
        type: 'x',
        payload: {},
        createdBy: 'test',
        maxAttempts: 1,
      });
      await store.db
        .updateTable('jobs')
        .set({
          status: 'running',
          attempts: 1,
          lease_owner: 'w_dead',
          lease_expires_at: new Date(Date.now() - 1000).toISOString(),
        })
        .where('id', '=', job.id)
        .execute();
      assert.equal(await q.recover(false), 1);
      const failed = await q.get(p, job.id);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error ?? '', /interrupted/);
    });
  });
}
