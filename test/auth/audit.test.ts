// The tamper-evident audit log on both metadata stores: every way of changing history is caught.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AuditLog, Checkpoints, type AuditInput } from '../../src/auth/audit.js';
import { DIALECTS } from '../support/stores.js';

const entry = (i: number): AuditInput => ({
  actorUserId: 'usr_1',
  actorKeyId: 'key_1',
  projectId: 'prj_1',
  action: 'POST /v1/projects/:project/datasets',
  target: `/v1/projects/credit/datasets?i=${i}`,
  outcome: 'success',
  status: 201,
  ip: '127.0.0.1',
  requestId: `req_${i}`,
  details: { i, note: 'ünïcode ✓' },
});

for (const dialect of DIALECTS) {
  describe(`audit log on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    async function setup(t: { after: (fn: () => unknown) => void }, n = 10) {
      const fixture = await dialect.open();
      const dir = mkdtempSync(join(tmpdir(), 'mass-audit-'));
      const checkpoints = new Checkpoints(dir);
      const log = new AuditLog(fixture.store, checkpoints, { entries: 1_000_000, ms: 1_000_000 });
      t.after(async () => {
        await log.close();
        await fixture.dispose();
        rmSync(dir, { recursive: true, force: true });
      });
      for (let i = 1; i <= n; i++) await log.append(entry(i));
      await log.checkpoint();
      return { store: fixture.store, log, dir, checkpoints };
    }

    test('close waits for an append in flight, checkpoints it and leaves no timer behind', async (t) => {
      const { log, checkpoints } = await setup(t, 2);
      // A response's entry is appended after the response went out: it can still be running
      // when the server closes. With a checkpoint due by time, its timer used to be armed after
      // close had cleared it, and fired on a closed store.
      const periodic = new AuditLog((log as unknown as { store: never }).store, checkpoints, {
        entries: 1_000_000,
        ms: 60_000,
      });
      const late = periodic.append(entry(3));
      await periodic.close();
      assert.equal(await late, 3);
      assert.equal(checkpoints.read().at(-1)?.seq, 3);
      assert.equal((periodic as unknown as { timer: unknown }).timer, undefined);
    });

    test('an untouched chain verifies, with its checkpoint', async (t) => {
      const { log } = await setup(t);
      const report = await log.verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 10);
      assert.equal(report.lastSeq, 10);
      assert.equal(report.lastCheckpointSeq, 10);
    });

    test('bad call: a flipped byte in one entry is caught at that entry', async (t) => {
      const { store, log } = await setup(t);
      await store.db
        .updateTable('audit_log')
        .set({ target: '/v1/projects/credit/datasets?i=5X' })
        .where('seq', '=', 5)
        .execute();
      const report = await log.verify();
      assert.equal(report.ok, false);
      assert.ok(
        report.problems.some((p) => p.seq === 5 && /edited/.test(p.problem)),
        JSON.stringify(report.problems),
      );
    });

    test('bad call: an edit with a recomputed hash still breaks the link to the next entry', async (t) => {
      const { store, log } = await setup(t);
      await store.db
        .updateTable('audit_log')
        .set({ hash: 'f'.repeat(64) })
        .where('seq', '=', 4)
        .execute();
      const report = await log.verify();
      assert.ok(report.problems.some((p) => p.seq === 5 && /link/.test(p.problem)));
    });

    test('bad call: a removed middle entry is caught', async (t) => {
      const { store, log } = await setup(t);
      await store.db.deleteFrom('audit_log').where('seq', '=', 6).execute();
      const report = await log.verify();
      assert.ok(
        report.problems.some((p) => p.seq === 7 && /missing/.test(p.problem)),
        JSON.stringify(report.problems),
      );
    });

    test('bad call: a removed tail is caught against the signed checkpoint', async (t) => {
      const { store, log } = await setup(t);
      await store.db.deleteFrom('audit_log').where('seq', '>', 8).execute();
      const report = await log.verify();
      assert.equal(report.ok, false);
      assert.ok(
        report.problems.some((p) => p.seq === 10 && /removed tail/.test(p.problem)),
        JSON.stringify(report.problems),
      );
    });

    test('bad call: reordered entries are caught', async (t) => {
      const { store, log } = await setup(t);
      // Swap the contents of entries 2 and 3 (keeping their seq numbers).
      const [a, b] = await store.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', 'in', [2, 3])
        .orderBy('seq')
        .execute();
      const contentOf = (r: typeof a) => ({
        target: r!.target,
        request_id: r!.request_id,
        details_json: r!.details_json,
        hash: r!.hash,
        prev_hash: r!.prev_hash,
      });
      await store.db.updateTable('audit_log').set(contentOf(b)).where('seq', '=', 2).execute();
      await store.db.updateTable('audit_log').set(contentOf(a)).where('seq', '=', 3).execute();
      const report = await log.verify();
      assert.equal(report.ok, false);
      assert.ok(report.problems.some((p) => p.seq === 2 || p.seq === 3));
    });

    test('bad call: checkpoints signed by a rogue key are refused', async (t) => {
      const { log, checkpoints } = await setup(t);
      // A rewritten log whose checkpoints were re-signed with the attacker's own key.
      const rogue = generateKeyPairSync('ed25519');
      const lines = readFileSync(checkpoints.file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; hash: string; at: string });
      writeFileSync(
        checkpoints.file,
        lines
          .map((c) =>
            JSON.stringify({
              ...c,
              sig: sign(
                null,
                Buffer.from(`mass-audit-checkpoint\n${c.seq}\n${c.hash}\n${c.at}`),
                rogue.privateKey,
              ).toString('base64'),
            }),
          )
          .join('\n') + '\n',
      );
      const report = await log.verify();
      assert.ok(report.problems.some((p) => /signature/.test(p.problem)));
      // And a verifier given the rogue public key accepts the signatures but nothing else changes: the trusted key matters.
      assert.ok((await log.verify(rogue.publicKey)).ok);
    });

    test('many concurrent writers (two logs on one store) never fork the chain', async (t) => {
      const { store, log } = await setup(t, 0);
      const other = new AuditLog(store);
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? log : other).append(entry(i))));
      const report = await log.verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 40);
      const seqs = await store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
      assert.deepEqual(
        seqs.map((r) => Number(r.seq)),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    });
  });
}
