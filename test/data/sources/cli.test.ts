// The `mass` commands for sources against a real server: connections add / list / test / remove,
// and `mass dataset import-from` with a SQLite table and a URL. The password is read from the
// environment and never printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { call, startTestServer, type TestServer } from '../../support/server.js';

const BIN = resolve('bin/mass.js');
let server: TestServer;
let web: Server;
let webPort: number;

function mass(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...process.env, MASS_URL: server.url, MASS_API_KEY: server.adminKey!, ...env },
        timeout: 30_000,
      },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  web = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,x\n2,y\n'),
  );
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as { port: number }).port;
  server = await startTestServer({ allowPrivateUrls: 'true' });
  await call(server, 'POST', '/v1/projects', { key: server.adminKey!, json: { name: 'cli' } });
  const dir = join(server.home, 'sources');
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'shop.db'));
  db.exec(
    "CREATE TABLE orders (id INTEGER, total REAL, who TEXT); INSERT INTO orders VALUES (1, 9.5, 'ana'), (2, NULL, 'bo');",
  );
  db.close();
});
after(async () => {
  await server.dispose();
  await new Promise((r) => web.close(r));
});

describe('mass connections and mass dataset import-from', () => {
  test('add, list, test, import a table and a URL, remove', async () => {
    const file = join(server.home, 'sources', 'shop.db');
    const add = await mass(['connections', 'add', 'shop', '-p', 'cli', '--kind', 'sqlite', '--path', file]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /Saved connection shop \(sqlite/);
    const pgAdd = await mass(
      [
        'connections',
        'add',
        'wh',
        '-p',
        'cli',
        '--kind',
        'postgres',
        '--host',
        'db.internal',
        '--user',
        'reader',
        '--database',
        'sales',
      ],
      { MASS_CONNECTION_PASSWORD: 'cli-s3cret-pw' },
    );
    assert.equal(pgAdd.code, 0, pgAdd.stderr);
    assert.match(pgAdd.stdout, /password encrypted/);
    const list = await mass(['connections', 'list', '-p', 'cli']);
    assert.match(list.stdout, /shop\s+sqlite/);
    assert.match(list.stdout, /wh\s+postgres\s+reader@db\.internal:5432\/sales/);
    const listJson = await mass(['--json', 'connections', 'list', '-p', 'cli']);
    assert.ok(!listJson.stdout.includes('cli-s3cret-pw') && !list.stdout.includes('cli-s3cret-pw'));
    const t = await mass(['connections', 'test', 'shop', '-p', 'cli']);
    assert.match(t.stdout, /Connected to shop in \d+ ms: SQLite/);
    const imported = await mass([
      'dataset',
      'import-from',
      'orders',
      '-p',
      'cli',
      '--connection',
      'shop',
      '--table',
      'orders',
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported dataset orders version 1: 2 rows/);
    const again = await mass([
      'dataset',
      'import-from',
      'orders',
      '-p',
      'cli',
      '--connection',
      'shop',
      '--query',
      'SELECT * FROM orders',
    ]);
    assert.match(again.stdout, /Unchanged/);
    const refused = await mass([
      'dataset',
      'import-from',
      'orders',
      '-p',
      'cli',
      '--connection',
      'shop',
      '--query',
      'DELETE FROM orders',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /SELECT|DELETE/);
    const url = await mass([
      'dataset',
      'import-from',
      'web',
      '-p',
      'cli',
      '--from-url',
      `http://127.0.0.1:${webPort}/x.csv`,
    ]);
    assert.equal(url.code, 0, url.stderr);
    assert.match(url.stdout, /Imported dataset web version 1/);
    const usage = await mass(['dataset', 'import-from', 'x', '-p', 'cli']);
    assert.equal(usage.code, 1);
    const rm = await mass(['connections', 'remove', 'shop', '-p', 'cli']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.doesNotMatch((await mass(['connections', 'list', '-p', 'cli'])).stdout, /shop/);
  });
});
