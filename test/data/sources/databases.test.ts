// Imports from saved connections through the real HTTP server: real PostgreSQL (a fresh database),
// real MariaDB (a fresh database) and a SQLite file. Rows with mixed types, NULLs, dates, decimals
// and unicode; then the refusals: wrong credentials, unreachable port, statements that write (by
// the check and, past the check, by the read-only transaction), a slow query, a missing table. No
// failed import leaves a version, and the password appears in no response, job or stored source.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pgSkipReason, withTestDatabase, type TestDatabase } from '../../support/pg.js';
import { call, startTestServer, waitForJob, type TestServer } from '../../support/server.js';
import { importAndWait, mysqlSkipReason, withTestMysql, type TestMysql } from './support.js';

const PG_PASSWORD = 'pg-Secret-7f3a9c!';
const MY_PASSWORD_MARK = 'never-shown';

let server: TestServer;
let key: string;
const bodies: unknown[] = [];
const P = 'src';

async function req(method: string, path: string, json?: unknown) {
  const r = await call(server, method, path, { key, ...(json !== undefined ? { json } : {}) });
  bodies.push(r.body);
  return r;
}

async function versionsOf(dataset: string): Promise<number> {
  const r = await req('GET', `/v1/projects/${P}/datasets/${dataset}`);
  return r.status === 404 ? 0 : r.body.versions.length;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Everything stored about datasets, jobs and connections, as text. */
async function storedText(): Promise<string> {
  const db = server.platform.services.store.db;
  const parts = await Promise.all([
    db.selectFrom('dataset_versions').selectAll().execute(),
    db.selectFrom('jobs').selectAll().execute(),
    db.selectFrom('connections').selectAll().execute(),
    db.selectFrom('audit_log').selectAll().execute(),
  ]);
  return JSON.stringify(parts);
}

before(async () => {
  // The test databases listen on 127.0.0.1: local database hosts allowed (MASS_ALLOW_LOCAL_DATABASES).
  server = await startTestServer({ sourceTimeoutSeconds: 2, allowLocalDatabases: 'true' });
  key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: P } });
});
after(async () => {
  const text = JSON.stringify(bodies) + (await storedText());
  assert.ok(!text.includes(PG_PASSWORD), 'the PostgreSQL password appears in no response and nothing stored');
  assert.ok(
    !text.includes(MY_PASSWORD_MARK),
    'the MariaDB password appears in no response and nothing stored',
  );
  await server.dispose();
});

describe('PostgreSQL source', { skip: pgSkipReason() ?? false }, () => {
  let db: TestDatabase;
  let conn: pg.Client;
  before(async () => {
    db = (await withTestDatabase())!;
    conn = new pg.Client({ connectionString: db.url });
    await conn.connect();
    await conn.query(`
      CREATE TABLE people (id integer PRIMARY KEY, name text, score numeric(10,2), big bigint, born date,
        seen timestamptz, active boolean, ratio double precision);
      INSERT INTO people VALUES
        (1, 'Zoë Ångström', 12.50, 9007199254740993, '1990-02-03', '2024-01-02T03:04:05Z', true, 0.25),
        (2, '北京', NULL, 42, NULL, NULL, false, NULL),
        (3, NULL, -3.75, -7, '2000-12-31', '2023-06-30T23:59:59Z', NULL, 1e-3);
      CREATE TABLE audit (n integer);
      CREATE FUNCTION bump() RETURNS integer LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n';
    `);
    const url = new URL(db.url);
    const created = await req('POST', `/v1/projects/${P}/connections`, {
      name: 'warehouse',
      kind: 'postgres',
      host: url.hostname,
      port: Number(url.port),
      database: decodeURIComponent(url.pathname.slice(1)),
      user: decodeURIComponent(url.username),
      password: PG_PASSWORD,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.hasPassword, true);
    assert.equal(created.body.password, undefined);
  });
  after(async () => {
    await conn.end();
    await db.drop();
  });

  test('test connection reports the server version', async () => {
    const r = await req('POST', `/v1/projects/${P}/connections/warehouse/test`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.version, /PostgreSQL/);
  });

  test('a table imports with types, NULLs, dates, decimals and unicode; unchanged re-import adds no version', async () => {
    const first = await importAndWait(
      server,
      key,
      P,
      'people',
      { connection: 'warehouse', table: 'people' },
      bodies,
    );
    assert.equal(first.submit.status, 202, JSON.stringify(first.submit.body));
    assert.equal(first.job.status, 'succeeded', first.job.error);
    assert.equal(first.job.result.rows, 3);
    assert.equal(first.job.result.created, true);
    const version = await server.platform.services.datasets.getVersion(
      (await server.platform.services.auth.findProject(P))!.id,
      'people',
    );
    assert.equal(version.rowCount, 3);
    const types = Object.fromEntries(version.schema.columns.map((c) => [c.name, c.type]));
    assert.deepEqual(Object.keys(types), ['id', 'name', 'score', 'big', 'born', 'seen', 'active', 'ratio']);
    assert.equal(types.score, 'numeric');
    assert.equal(types.ratio, 'numeric');
    assert.equal(version.sourceInfo?.kind, 'connection');
    assert.equal(version.sourceInfo?.table, 'people');
    const page = await server.platform.services.datasets.rows(version, 10, 0);
    const byId = new Map(page.rows.map((r) => [Number(r.id), r]));
    assert.equal(byId.get(1)!.name, 'Zoë Ångström');
    assert.equal(byId.get(2)!.name, '北京');
    assert.equal(byId.get(3)!.name, null);
    assert.equal(Number(byId.get(1)!.score), 12.5);
    assert.equal(byId.get(2)!.score, null);
    // The source sends every digit (the JSON carries 9007199254740993); how exactly the engine stores it is its choice.
    assert.ok(Math.abs(Number(byId.get(1)!.big) - 2 ** 53) <= 2);
    assert.match(String(byId.get(1)!.born), /^1990-02-03/);
    assert.equal(byId.get(2)!.born, null);

    const again = await importAndWait(
      server,
      key,
      P,
      'people',
      { connection: 'warehouse', table: 'people' },
      bodies,
    );
    assert.equal(again.job.status, 'succeeded', again.job.error);
    assert.equal(again.job.result.created, false);
    assert.equal(again.job.result.version, first.job.result.version);
    assert.equal(await versionsOf('people'), 1);

    await conn.query(`INSERT INTO people VALUES (4, 'new', 1, 1, NULL, NULL, true, 2)`);
    const changed = await importAndWait(
      server,
      key,
      P,
      'people',
      { connection: 'warehouse', query: 'SELECT * FROM people' },
      bodies,
    );
    assert.equal(changed.job.status, 'succeeded', changed.job.error);
    assert.equal(changed.job.result.created, true);
    assert.equal(await versionsOf('people'), 2);
  });

  test('bad call: statements that write are refused before a job exists', async () => {
    for (const query of [
      "INSERT INTO people VALUES (9, 'x', 1, 1, NULL, NULL, true, 1)",
      'UPDATE people SET name = NULL',
      'DROP TABLE people',
      'SELECT 1; DROP TABLE people',
      'WITH d AS (DELETE FROM people RETURNING *) SELECT * FROM d',
      'SELECT * INTO copy FROM people',
    ]) {
      const r = await req('POST', `/v1/projects/${P}/datasets/bad/import`, {
        connection: 'warehouse',
        query,
      });
      assert.equal(r.status, 400, query);
      assert.equal(r.body.code, 'SOURCE_QUERY_REFUSED', query);
    }
    const still = await conn.query('SELECT count(*)::int AS n FROM people');
    assert.equal(still.rows[0].n, 4);
  });

  test('bad call: a write hidden in a function passes the check and is stopped by the read-only transaction', async () => {
    const { job } = await importAndWait(
      server,
      key,
      P,
      'sneaky',
      { connection: 'warehouse', query: 'SELECT bump() AS n' },
      bodies,
    );
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^SOURCE_QUERY_REFUSED: .*read-only/);
    assert.equal((await conn.query('SELECT count(*)::int AS n FROM audit')).rows[0].n, 0);
    assert.equal(await versionsOf('sneaky'), 0);
  });

  test('bad call: a slow query hits the time limit; a missing table fails clearly; no version either way', async () => {
    const slow = await importAndWait(
      server,
      key,
      P,
      'slow',
      { connection: 'warehouse', query: 'SELECT pg_sleep(30) AS s' },
      bodies,
    );
    assert.equal(slow.job.status, 'failed');
    assert.match(slow.job.error, /^SOURCE_TIMEOUT: /);
    const missing = await importAndWait(
      server,
      key,
      P,
      'missing',
      { connection: 'warehouse', table: 'nope' },
      bodies,
    );
    assert.equal(missing.job.status, 'failed');
    assert.match(missing.job.error, /^SOURCE_QUERY_FAILED: .*nope/);
    assert.equal(await versionsOf('slow'), 0);
    assert.equal(await versionsOf('missing'), 0);
  });

  test('bad call: unknown user and unreachable port give clear errors', async () => {
    const url = new URL(db.url);
    await req('POST', `/v1/projects/${P}/connections`, {
      name: 'nobody',
      kind: 'postgres',
      host: url.hostname,
      port: Number(url.port),
      database: 'postgres',
      user: 'no_such_role',
      password: PG_PASSWORD,
    });
    const auth = await req('POST', `/v1/projects/${P}/connections/nobody/test`);
    assert.equal(auth.status, 422, JSON.stringify(auth.body));
    assert.equal(auth.body.code, 'SOURCE_AUTH_FAILED');
    await req('POST', `/v1/projects/${P}/connections`, {
      name: 'closed',
      kind: 'postgres',
      host: '127.0.0.1',
      port: await freePort(),
      user: 'postgres',
      password: PG_PASSWORD,
    });
    const down = await req('POST', `/v1/projects/${P}/connections/closed/test`);
    assert.equal(down.status, 502, JSON.stringify(down.body));
    assert.equal(down.body.code, 'SOURCE_UNREACHABLE');
    const { job } = await importAndWait(
      server,
      key,
      P,
      'down',
      { connection: 'closed', table: 'people' },
      bodies,
    );
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^SOURCE_UNREACHABLE: /);
    assert.equal(await versionsOf('down'), 0);
  });

  test('the password is stored encrypted and never returned', async () => {
    const list = await req('GET', `/v1/projects/${P}/connections`);
    assert.ok(list.body.items.every((c: { hasPassword: boolean }) => c.hasPassword));
    const row = await server.platform.services.store.db
      .selectFrom('connections')
      .selectAll()
      .where('name', '=', 'warehouse')
      .executeTakeFirstOrThrow();
    assert.match(row.password_enc!, /^v1\./);
    const patched = await req('PATCH', `/v1/projects/${P}/connections/warehouse`, {
      port: Number(new URL(db.url).port),
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.hasPassword, true, 'a change without a password keeps it');
  });
});

describe('MariaDB source', { skip: mysqlSkipReason() ?? false }, () => {
  let my: TestMysql;
  const password = `my-${MY_PASSWORD_MARK}-${Date.now()}`;
  before(async () => {
    my = (await withTestMysql())!;
    await my.run(`CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(50), price DECIMAL(8,2), qty BIGINT,
      made DATE, at DATETIME, ok BOOLEAN, w DOUBLE) CHARACTER SET utf8mb4`);
    await my.run(`INSERT INTO items VALUES
      (1, 'Café ☕', 3.50, 9007199254740993, '2021-05-06', '2021-05-06 07:08:09', 1, 0.5),
      (2, 'Ünïcödé', NULL, 10, NULL, NULL, 0, NULL),
      (3, NULL, 1234.56, -3, '1999-01-01', '1999-01-01 00:00:00', NULL, 2.25)`);
    await my.run('CREATE TABLE log (n INT)');
    await my.run(
      `CREATE FUNCTION bump() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO log VALUES (1); RETURN 1; END`,
    );
    const reader = `mr_${Date.now() % 100000}`;
    await my.run(`CREATE USER '${reader}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
    await my.run(`GRANT SELECT, EXECUTE ON \`${my.database}\`.* TO '${reader}'@'127.0.0.1'`);
    // The function runs with its definer's rights, so the write is stopped only by the read-only transaction.
    const r = await req('POST', `/v1/projects/${P}/connections`, {
      name: 'shop',
      kind: 'mysql',
      host: my.host,
      port: my.port,
      database: my.database,
      user: reader,
      password,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await req('POST', `/v1/projects/${P}/connections`, {
      name: 'shop-wrong',
      kind: 'mysql',
      host: my.host,
      port: my.port,
      database: my.database,
      user: reader,
      password: `${password}-wrong`,
    });
  });
  after(() => my.drop());

  test('test connection reports the server version; a wrong password is SOURCE_AUTH_FAILED', async () => {
    const ok = await req('POST', `/v1/projects/${P}/connections/shop/test`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(ok.body.version, /MariaDB|\d+\.\d+/);
    const bad = await req('POST', `/v1/projects/${P}/connections/shop-wrong/test`);
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'SOURCE_AUTH_FAILED');
    const { job } = await importAndWait(
      server,
      key,
      P,
      'items-wrong',
      { connection: 'shop-wrong', table: 'items' },
      bodies,
    );
    assert.match(job.error, /^SOURCE_AUTH_FAILED: /);
    assert.equal(await versionsOf('items-wrong'), 0);
  });

  test('a table imports with decimals, dates, NULLs and unicode; an unchanged re-import adds no version', async () => {
    const first = await importAndWait(
      server,
      key,
      P,
      'items',
      { connection: 'shop', table: 'items' },
      bodies,
    );
    assert.equal(first.job.status, 'succeeded', first.job.error);
    assert.equal(first.job.result.rows, 3);
    const project = (await server.platform.services.auth.findProject(P))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'items');
    const types = Object.fromEntries(version.schema.columns.map((c) => [c.name, c.type]));
    assert.equal(types.price, 'numeric');
    const page = await server.platform.services.datasets.rows(version, 10, 0);
    const byId = new Map(page.rows.map((r) => [Number(r.id), r]));
    assert.equal(byId.get(1)!.label, 'Café ☕');
    assert.equal(Number(byId.get(3)!.price), 1234.56);
    assert.equal(byId.get(2)!.price, null);
    assert.ok(Math.abs(Number(byId.get(1)!.qty) - 2 ** 53) <= 2);
    assert.match(String(byId.get(1)!.made), /^2021-05-06/);
    const again = await importAndWait(
      server,
      key,
      P,
      'items',
      { connection: 'shop', query: 'SELECT * FROM items' },
      bodies,
    );
    assert.equal(again.job.result.created, false);
    assert.equal(await versionsOf('items'), 1);
  });

  test('bad call: writes refused by the check, and by the read-only transaction past it', async () => {
    for (const query of [
      'DELETE FROM items',
      'SELECT 1; DROP TABLE items',
      'SELECT * FROM items INTO OUTFILE "/tmp/x"',
      '/*!50000 DROP TABLE items */ SELECT 1',
    ]) {
      const r = await req('POST', `/v1/projects/${P}/datasets/bad/import`, { connection: 'shop', query });
      assert.equal(r.status, 400, query);
      assert.equal(r.body.code, 'SOURCE_QUERY_REFUSED');
    }
    const { job } = await importAndWait(
      server,
      key,
      P,
      'sneaky-my',
      { connection: 'shop', query: 'SELECT bump() AS n' },
      bodies,
    );
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^SOURCE_QUERY_REFUSED: /);
    assert.deepEqual(await my.run('SELECT count(*) AS n FROM log'), [{ n: 0 }]);
  });

  test('bad call: a slow query hits the time limit; a missing table fails clearly', async () => {
    const slow = await importAndWait(
      server,
      key,
      P,
      'slow-my',
      { connection: 'shop', query: 'SELECT SLEEP(30) AS s' },
      bodies,
    );
    assert.equal(slow.job.status, 'failed');
    assert.match(slow.job.error, /^SOURCE_TIMEOUT: /);
    const missing = await importAndWait(
      server,
      key,
      P,
      'missing-my',
      { connection: 'shop', table: 'nope' },
      bodies,
    );
    assert.match(missing.job.error, /^SOURCE_QUERY_FAILED: .*nope/);
    assert.equal(await versionsOf('slow-my'), 0);
    assert.equal(await versionsOf('missing-my'), 0);
  });
});

describe('SQLite source', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = join(server.home, 'sources');
    mkdirSync(dir, { recursive: true });
    file = join(dir, 'local.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE t (id INTEGER, name TEXT, v REAL, d TEXT);
      INSERT INTO t VALUES (1, 'één', 1.5, '2020-01-01'), (2, NULL, NULL, NULL), (3, 'x', -2, '2021-02-03');`);
    db.close();
  });

  test('a table of an allowed file imports; the file stays unchanged', async () => {
    const r = await req('POST', `/v1/projects/${P}/connections`, {
      name: 'local',
      kind: 'sqlite',
      path: file,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const t = await req('POST', `/v1/projects/${P}/connections/local/test`);
    assert.match(t.body.version, /^SQLite/);
    const { job } = await importAndWait(server, key, P, 'lite', { connection: 'local', table: 't' }, bodies);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.rows, 3);
  });

  test('bad call: files outside the allowed folders are refused, links too', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'mass-outside-'));
    try {
      const other = join(outside, 'o.db');
      new Database(other).close();
      for (const path of [other, '/etc/passwd', join(dir, '..', 'mass.db'), 'relative.db']) {
        const r = await req('POST', `/v1/projects/${P}/connections`, { name: 'evil', kind: 'sqlite', path });
        assert.equal(r.status, 400, path);
        assert.equal(r.body.errors[0].path, 'path');
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('a running import can be cancelled; nothing is created', async () => {
    const submit = await req('POST', `/v1/projects/${P}/datasets/lite-cancel/import`, {
      connection: 'local',
      query: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c',
    });
    assert.equal(submit.status, 202);
    for (let i = 0; i < 100; i++) {
      const j = await req('GET', `/v1/projects/${P}/jobs/${submit.body.id}`);
      if (j.body.status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const cancel = await req('POST', `/v1/projects/${P}/jobs/${submit.body.id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    const job = await waitForJob(server, key, P, submit.body.id);
    assert.equal(job.status, 'cancelled');
    assert.equal(await versionsOf('lite-cancel'), 0);
  });

  test('bad call: a query stuck inside SQLite is stopped at the time limit', async () => {
    const { job } = await importAndWait(
      server,
      key,
      P,
      'lite-slow',
      {
        connection: 'local',
        query: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c',
      },
      bodies,
    );
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^SOURCE_TIMEOUT: /);
    assert.equal(await versionsOf('lite-slow'), 0);
  });
});
