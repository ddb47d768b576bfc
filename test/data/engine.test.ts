// The data engine's DuckDB may touch files only below MASS_HOME, and its configuration is locked:
// a mistake elsewhere cannot read server files through read_csv or write anywhere through COPY.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataEngine } from '../../src/data/engine.js';

test('DuckDB reads and writes below MASS_HOME only, and its configuration cannot be changed', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mass-engine-'));
  const outside = mkdtempSync(join(tmpdir(), 'mass-outside-'));
  const engine = new DataEngine({ home });
  t.after(async () => {
    await engine.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  writeFileSync(join(home, 'in.csv'), 'a,b\n1,x\n');
  writeFileSync(join(outside, 'secret.csv'), 'token\nhunter2\n');
  await engine.withConnection(async (c) => {
    const rows = (
      await c.runAndReadAll(`SELECT * FROM read_csv(${engine.quoteLiteral(join(home, 'in.csv'))})`)
    ).getRowObjectsJS();
    assert.equal(rows.length, 1);
    await c.run(`COPY (SELECT 1 AS x) TO ${engine.quoteLiteral(join(home, 'out.parquet'))} (FORMAT parquet)`);
    await assert.rejects(
      c.run(`SELECT * FROM read_csv(${engine.quoteLiteral(join(outside, 'secret.csv'))})`),
      /Permission|disabled/,
    );
    await assert.rejects(c.run(`SELECT * FROM read_text('/etc/passwd')`), /Permission|disabled/);
    await assert.rejects(
      c.run(`COPY (SELECT 1 AS x) TO ${engine.quoteLiteral(join(outside, 'x.csv'))}`),
      /Permission|disabled/,
    );
    await assert.rejects(
      c.run(`SELECT * FROM read_csv(${engine.quoteLiteral(join(home, '..', 'x.csv'))})`),
      /Permission|disabled/,
    );
    await assert.rejects(c.run('SET enable_external_access = true'), /configuration/);
  });
});
