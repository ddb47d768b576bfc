// Issue #7, the security review of the database sources: a connection cannot be repointed without
// its password; MySQL never gets the password in clear text; the read-only check is not fooled by
// MySQL's `--`, quoted function names, dollar tags it misreads or dblink; PostgreSQL reads strings
// as the check does and takes one statement only.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, isIP, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { ConnectionSpec } from '../../../src/data/sources/driver.js';
import { mysqlDriver, mysqlOptions } from '../../../src/data/sources/mysql.js';
import { postgresDriver } from '../../../src/data/sources/postgres.js';
import { checkReadOnlyQuery, type SqlDialect } from '../../../src/data/sources/sql.js';
import { pgSkipReason, withTestDatabase, type TestDatabase } from '../../support/pg.js';
import { call, startTestServer, type TestServer } from '../../support/server.js';

const refuses = (q: string, d: SqlDialect) =>
  assert.throws(() => checkReadOnlyQuery(q, d), { code: 'SOURCE_QUERY_REFUSED' }, `${d}: ${q}`);
const passes = (q: string, d: SqlDialect) =>
  assert.doesNotThrow(() => checkReadOnlyQuery(q, d), `${d}: ${q}`);

test('MySQL: `--` not followed by a space is two minus signs, not a comment', () => {
  refuses("SELECT 1 --1, LOAD_FILE('/etc/passwd')", 'mysql');
  refuses("SELECT 1 --x\n, LOAD_FILE('/etc/passwd')", 'mysql');
  passes('SELECT 3 --1', 'mysql');
  passes("SELECT 1 -- LOAD_FILE('/etc/passwd')", 'mysql');
  passes("SELECT 1 --\tLOAD_FILE('/etc/passwd')", 'mysql');
  passes('SELECT 1 --', 'mysql');
  // PostgreSQL and SQLite: `--` always starts a comment.
  passes("SELECT 1 --1, pg_read_file('/etc/passwd')", 'postgres');
  passes("SELECT 1 --1, readfile('/etc/passwd')", 'sqlite');
});

test('quoted function names are checked like bare ones; quoted column names stay allowed', () => {
  for (const q of [
    `SELECT "pg_read_file"('/etc/passwd')`,
    `SELECT "PG_READ_FILE"('/etc/passwd')`,
    `SELECT "pg_catalog"."pg_read_file"('/etc/passwd')`,
    `SELECT * FROM "dblink"('host=x', 'DELETE FROM t') AS r(a int)`,
    `SELECT "lo_export"(1, '/tmp/x')`,
    `SELECT U&"\\0070g_read_file"('/etc/passwd')`,
  ])
    refuses(q, 'postgres');
  refuses("SELECT `load_file`('/etc/passwd')", 'mysql');
  refuses("SELECT `LOAD_FILE`('/etc/passwd')", 'mysql');
  refuses(`SELECT "readfile"('/etc/passwd')`, 'sqlite');
  refuses("SELECT [load_extension]('x')", 'sqlite');
  refuses("SELECT `writefile`('/tmp/x', 'y')", 'sqlite');
  passes('SELECT "update", "insert", "select" FROM t', 'postgres');
  passes('SELECT `delete`, `load` FROM t', 'mysql');
  passes('SELECT [update] FROM t', 'sqlite');
  passes(`SELECT "a""b" FROM t`, 'postgres');
});

test('dblink and other file, network and server functions are refused', () => {
  for (const f of [
    "dblink_connect('host=x')",
    "dblink_connect_u('host=x')",
    "dblink_send_query('c', 'DELETE FROM t')",
    "dblink_get_result('c')",
    "pg_read_binary_file('/etc/passwd')",
    "pg_ls_dir('/')",
    'pg_ls_waldir()',
    "lo_import('/etc/passwd')",
    "lo_export(1, '/tmp/x')",
    'lo_get(1)',
    "pg_file_write('/tmp/x', 'y', false)",
    "pg_notify('c', 'x')",
    'pg_switch_wal()',
    "pg_logical_emit_message(true, 'x', 'y')",
  ])
    refuses(`SELECT ${f}`, 'postgres');
  refuses("COPY (SELECT 1) TO PROGRAM 'id'", 'postgres');
  refuses("SELECT 1 INTO DUMPFILE '/tmp/x'", 'mysql');
  refuses("SELECT * FROM fsdir('/')", 'sqlite');
  passes('SELECT pg_sleep(0), program, dblinks_seen FROM t', 'mysql');
  passes('SELECT program FROM t', 'postgres');
});

test('PostgreSQL: dollar tags with digits and names with non-ASCII letters are read as the server reads them', () => {
  // $a1$ opens a dollar-quoted string; read as `$`, `a1`, `$` the quote after it would hide the call.
  refuses("SELECT $a1$'$a1$, pg_read_file('/etc/passwd') --'", 'postgres');
  // é$x$ is one name; read as `é` then a dollar quote, the call would hide inside it.
  refuses("SELECT 1 AS é$x$, pg_read_file('/etc/passwd') AS y, 1 AS z$x$", 'postgres');
  passes('SELECT $a1$ ; DROP TABLE t $a1$ AS s', 'postgres');
  passes('SELECT 1 AS é$x$', 'postgres');
  // E'...' strings: a backslash escapes the quote, so the `;` and the call are inside the string.
  passes("SELECT E'\\'; pg_read_file(' AS s", 'postgres');
  refuses("SELECT E'\\\\', pg_read_file('/etc/passwd') AS s", 'postgres');
  // Ordinary strings: with standard_conforming_strings on (the driver sets it) a backslash is plain.
  refuses("SELECT 'a\\', pg_read_file('/etc/passwd') AS s", 'postgres');
});

describe('connections cannot be repointed without their password', () => {
  let server: TestServer;
  let key: string;
  const P = 'repoint';
  const req = async (method: string, path: string, json?: unknown) =>
    call(server, method, path, { key, ...(json !== undefined ? { json } : {}) });

  before(async () => {
    server = await startTestServer({});
    key = server.adminKey!;
    await req('POST', '/v1/projects', { name: P });
    for (const [name, password] of [
      ['owned', 'owner-secret'],
      ['open', undefined],
    ] as const) {
      const created = await req('POST', `/v1/projects/${P}/connections`, {
        name,
        kind: 'postgres',
        host: 'db.internal.example',
        port: 5432,
        database: 'sales',
        user: 'reader',
        ...(password ? { password } : {}),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
  });
  after(async () => server.dispose());

  test('bad call: a new host, port, user, database or TLS setting without the password is a 400 naming password', async () => {
    for (const change of [
      { host: 'attacker.example' },
      { port: 5433 },
      { user: 'someone' },
      { database: 'other' },
      { ssl: { mode: 'require' } },
      { kind: 'mysql' },
    ]) {
      const r = await req('PATCH', `/v1/projects/${P}/connections/owned`, change);
      assert.equal(r.status, 400, `${JSON.stringify(change)}: ${JSON.stringify(r.body)}`);
      const text = JSON.stringify(r.body);
      assert.match(text, /password|kind/, text);
    }
    const r = await req('PATCH', `/v1/projects/${P}/connections/owned`, { host: 'attacker.example' });
    assert.ok(
      (r.body.errors ?? r.body.details ?? []).some((e: { path?: string }) => e.path === 'password') ||
        /send the password again/.test(JSON.stringify(r.body)),
      JSON.stringify(r.body),
    );
    const still = await req('GET', `/v1/projects/${P}/connections/owned`);
    assert.equal(still.body.host, 'db.internal.example', 'the refused change changed nothing');
    assert.equal(still.body.hasPassword, true);
  });

  test('the same target without a password, or a new target with one, is accepted', async () => {
    const same = await req('PATCH', `/v1/projects/${P}/connections/owned`, {
      host: 'db.internal.example',
      port: 5432,
    });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.hasPassword, true);
    const moved = await req('PATCH', `/v1/projects/${P}/connections/owned`, {
      host: 'db2.internal.example',
      password: 'owner-secret-2',
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.host, 'db2.internal.example');
    const dropped = await req('PATCH', `/v1/projects/${P}/connections/owned`, {
      host: 'db3.internal.example',
      password: null,
    });
    assert.equal(dropped.status, 200, 'a new target with the password removed reveals nothing');
    assert.equal(dropped.body.hasPassword, false, '`password: null` removes the stored password');
    const open = await req('PATCH', `/v1/projects/${P}/connections/open`, { host: 'other.example' });
    assert.equal(open.status, 200, 'a connection without a stored password has nothing to reveal');
  });
});

describe('`password: null` removes a stored password', () => {
  let server: TestServer;
  let key: string;
  const P = '/v1/projects/nulls';
  const req = async (method: string, path: string, json?: unknown) =>
    call(server, method, path, { key, ...(json !== undefined ? { json } : {}) });
  const stored = async (name: string) =>
    (
      await server.platform.services.store.db
        .selectFrom('connections')
        .select('password_enc')
        .where('name', '=', name)
        .executeTakeFirstOrThrow()
    ).password_enc;

  before(async () => {
    server = await startTestServer({});
    key = server.adminKey!;
    await req('POST', '/v1/projects', { name: 'nulls' });
  });
  after(async () => server.dispose());

  test('PATCH with password null clears it (not an empty password); other fields keep their value', async () => {
    const made = await req('POST', `${P}/connections`, {
      name: 'wh',
      kind: 'postgres',
      host: 'db.internal.example',
      database: 'sales',
      user: 'reader',
      password: 'to-be-removed',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.hasPassword, true);
    const cleared = await req('PATCH', `${P}/connections/wh`, { password: null });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal(cleared.body.hasPassword, false);
    assert.equal(cleared.body.database, 'sales');
    assert.equal(await stored('wh'), null, 'no ciphertext of "" is stored');
    assert.equal((await req('GET', `${P}/connections/wh`)).body.hasPassword, false);
    // Set again, and an empty string is a password (an empty one), not a removal.
    const set = await req('PATCH', `${P}/connections/wh`, { password: '' });
    assert.equal(set.body.hasPassword, true);
    assert.notEqual(await stored('wh'), null);
  });

  test('POST with password null saves no password; database null stays null', async () => {
    const made = await req('POST', `${P}/connections`, {
      name: 'nopw',
      kind: 'mysql',
      host: 'db.internal.example',
      database: null,
      user: 'reader',
      password: null,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.hasPassword, false);
    assert.equal(made.body.database, null);
    assert.equal(await stored('nopw'), null);
  });

  test('bad call: a password of another type, or too long, is still a 400 naming password', async () => {
    for (const password of [{ a: 1 }, ['x', 'y'], 'p'.repeat(1025)]) {
      const r = await req('PATCH', `${P}/connections/wh`, { password });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(JSON.stringify(r.body), /password/);
    }
  });
});

/** A fake MySQL server that asks for mysql_clear_password and records what the client sends. */
async function fakeCleartextServer(): Promise<{
  port: number;
  received: () => Buffer;
  close: () => Promise<void>;
}> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const packet = (seq: number, payload: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUIntLE(payload.length, 0, 3);
    head[3] = seq;
    return Buffer.concat([head, payload]);
  };
  const server = createServer((socket) => {
    sockets.push(socket);
    let step = 0;
    const caps = 0x00000001 | 0x00000008 | 0x00000200 | 0x00002000 | 0x00008000 | 0x00080000;
    const handshake = Buffer.concat([
      Buffer.from([0x0a]),
      Buffer.from('5.7.99-fake\0'),
      Buffer.from([1, 0, 0, 0]),
      Buffer.from('abcdefgh'),
      Buffer.from([0]),
      Buffer.from([caps & 0xff, (caps >> 8) & 0xff]),
      Buffer.from([0x21, 0x02, 0x00]),
      Buffer.from([(caps >> 16) & 0xff, (caps >> 24) & 0xff]),
      Buffer.from([21]),
      Buffer.alloc(10),
      Buffer.from('ijklmnopqrst\0'),
      Buffer.from('mysql_native_password\0'),
    ]);
    socket.write(packet(0, handshake));
    socket.on('data', (data) => {
      chunks.push(data);
      if (step++ === 0)
        socket.write(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('mysql_clear_password\0')])));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('bad call: a MySQL server asking for the password in clear text does not get it', async () => {
  const fake = await fakeCleartextServer();
  const password = 'clear-text-never-sent-9d1';
  try {
    const spec: ConnectionSpec = {
      kind: 'mysql',
      host: '127.0.0.1',
      port: fake.port,
      database: null,
      user: 'reader',
      password,
      ssl: { mode: 'disable' },
      path: null,
    };
    await assert.rejects(mysqlDriver.test(spec, 5_000), (error: Error & { code?: string }) => {
      assert.match(error.message, /clear/i, error.message);
      return true;
    });
    assert.ok(fake.received().length > 0, 'the client answered the handshake');
    assert.ok(!fake.received().includes(Buffer.from(password)), 'the password was not sent');
  } finally {
    await fake.close();
  }
});

test('the MySQL driver connects to the checked addresses, not to what the name resolves to now', async () => {
  const fake = await fakeCleartextServer();
  try {
    const spec: ConnectionSpec = {
      kind: 'mysql',
      host: 'mysql.mass-test.invalid',
      port: fake.port,
      database: null,
      user: 'reader',
      password: 'pinned-pw',
      ssl: { mode: 'disable' },
      path: null,
      addresses: [{ address: '127.0.0.1', family: 4 }],
    };
    // The name does not resolve; the fake server is reached through the pinned address.
    await assert.rejects(mysqlDriver.test(spec, 5_000), /clear/i);
    assert.ok(fake.received().length > 0, 'the pinned address was reached');
  } finally {
    await fake.close();
  }
});

describe(
  'PostgreSQL reads strings as the check does and takes one statement',
  { skip: pgSkipReason() ?? false },
  () => {
    let db: TestDatabase;
    let spec: ConnectionSpec;
    let dir: string;
    before(async () => {
      db = (await withTestDatabase())!;
      const url = new URL(db.url);
      const name = decodeURIComponent(url.pathname.slice(1));
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      // A server whose database reads backslashes in '...' as escapes.
      await admin.query(`ALTER DATABASE "${name}" SET standard_conforming_strings = off`);
      await admin.query('CREATE TABLE t (a int)');
      await admin.end();
      spec = {
        kind: 'postgres',
        host: url.hostname,
        port: Number(url.port),
        database: name,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password) || null,
        ssl: { mode: 'disable' },
        path: null,
      };
      dir = mkdtempSync(join(tmpdir(), 'mass-pg-sec-'));
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    let n = 0;
    const read = (sql: string) => {
      const out = join(dir, `out-${n++}.jsonl`);
      return postgresDriver
        .read(spec, {
          sql,
          out,
          limits: { maxRows: 1000, maxBytes: 1_000_000 },
          timeoutMs: 5_000,
          signal: new AbortController().signal,
          onRows: () => undefined,
        })
        .then((r) => ({ ...r, text: readFileSync(out, 'utf8') }));
    };

    test('the driver connects to the checked addresses, not to what the name resolves to now', async () => {
      const pinned = {
        ...spec,
        host: 'pg.mass-test.invalid',
        addresses: [{ address: spec.host!, family: isIP(spec.host!) }],
      };
      const { version } = await postgresDriver.test(pinned, 5_000);
      assert.match(version, /PostgreSQL/);
      // Without the pinned addresses the same name is unreachable.
      await assert.rejects(postgresDriver.test({ ...pinned, addresses: undefined }, 5_000), {
        code: 'SOURCE_UNREACHABLE',
      });
    });

    test("a backslash in '...' is an ordinary character, whatever the server's default", async () => {
      const r = await read("SELECT 'a\\' AS s, 'b' AS t");
      assert.equal(r.rows, 1);
      assert.deepEqual(JSON.parse(r.text.trim()), { s: 'a\\', t: 'b' });
    });

    test('bad call: a second statement past the check is refused by the server', async () => {
      // Through the simple protocol both would run (the second one's rows unseen); the extended one takes one.
      await assert.rejects(read('SELECT 1 AS a; SELECT 2 AS b'), (error: Error & { code?: string }) => {
        assert.match(String(error.code), /^SOURCE_/);
        return true;
      });
    });
  },
);

test('MySQL TLS: ssl mode verify checks the chain and the host name; require encrypts without checking', () => {
  const spec = (mode: 'verify' | 'require' | 'disable'): ConnectionSpec => ({
    kind: 'mysql',
    host: 'db.example.internal',
    port: 3306,
    database: 'd',
    user: 'u',
    password: 'p',
    ssl: { mode },
    path: null,
  });
  const verify = mysqlOptions(spec('verify'), 5_000).ssl as {
    rejectUnauthorized: boolean;
    verifyIdentity: boolean;
  };
  assert.equal(verify.rejectUnauthorized, true);
  assert.equal(verify.verifyIdentity, true, 'mysql2 checks the host name only with verifyIdentity');
  const require = mysqlOptions(spec('require'), 5_000).ssl as {
    rejectUnauthorized: boolean;
    verifyIdentity: boolean;
  };
  assert.equal(require.rejectUnauthorized, false);
  assert.equal(require.verifyIdentity, false);
  assert.equal(mysqlOptions(spec('disable'), 5_000).ssl, undefined);
  // The name, not a pinned address, is what TLS checks.
  assert.equal(mysqlOptions(spec('verify'), 5_000).host, 'db.example.internal');
});
