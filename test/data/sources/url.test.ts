// URL imports through the real HTTP server against a local node:http server on 127.0.0.1. The Mass
// server allows only the host name `localhost` (MASS_URL_ALLOW_HOSTS): every other spelling of a
// loopback or private address is refused, before a job exists when the address is literal, in the
// job after DNS otherwise, and on every redirect hop.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { addressRefusal } from '../../../src/data/sources/url.js';
import { call, startTestServer, type TestServer } from '../../support/server.js';
import { importAndWait } from './support.js';

const CSV = 'id,name,score\n1,Ada,3.5\n2,Grace,\n3,Zoë,7\n';
let web: Server;
let port: number;
let server: TestServer;
let key: string;
let csvVersion = CSV;

before(async () => {
  web = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const hops = /^\/hop\/(\d+)$/.exec(path);
    if (hops) {
      const n = Number(hops[1]);
      res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : '/data.csv' }).end();
    } else if (path === '/to-private') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/data.csv` }).end();
    } else if (path === '/to-metadata') {
      res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    } else if (path === '/data.csv') {
      res.writeHead(200, { 'content-type': 'text/csv' }).end(csvVersion);
    } else if (path === '/plain') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('{"a":1}\n{"a":2}\n');
    } else if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a\n');
      let sent = 0;
      const more = () => {
        while (sent < 2_000_000) {
          sent += 100_000;
          if (!res.write('1\n'.repeat(50_000))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    } else if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a\n1\n');
      setTimeout(() => res.end('2\n'), 10_000).unref();
    } else if (path === '/missing') {
      res.writeHead(404).end('no');
    } else res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  port = (web.address() as { port: number }).port;
  server = await startTestServer({
    urlAllowHosts: ['localhost'],
    maxUploadBytes: 1_000_000,
    sourceTimeoutSeconds: 3,
  });
  key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'web' } });
});
after(async () => {
  await server.dispose();
  web.closeAllConnections();
  await new Promise((r) => web.close(r));
});

const submit = (dataset: string, json: unknown) =>
  call(server, 'POST', `/v1/projects/web/datasets/${dataset}/import`, { key, json });

describe('URL import', () => {
  test('an allowed host imports; an unchanged file adds no version; a changed one does', async () => {
    const first = await importAndWait(server, key, 'web', 'remote', {
      url: `http://localhost:${port}/data.csv`,
    });
    assert.equal(first.job.status, 'succeeded', first.job.error);
    assert.equal(first.job.result.created, true);
    assert.equal(first.job.result.format, 'csv');
    const again = await importAndWait(server, key, 'web', 'remote', {
      url: `http://localhost:${port}/data.csv?token=s3cr3t`,
    });
    assert.equal(again.job.status, 'succeeded', again.job.error);
    assert.equal(again.job.result.created, false);
    csvVersion = `${CSV}4,Linus,1\n`;
    const changed = await importAndWait(server, key, 'web', 'remote', {
      url: `http://localhost:${port}/data.csv`,
    });
    assert.equal(changed.job.result.created, true);
    assert.equal(changed.job.result.version, 2);
    const stored = JSON.stringify(
      await server.platform.services.store.db.selectFrom('dataset_versions').selectAll().execute(),
    );
    assert.ok(!stored.includes('s3cr3t'), 'a query string (a signed token) is not stored with the source');
  });

  test('redirects are followed three times at most; the format comes from the request when the server does not say', async () => {
    const three = await importAndWait(server, key, 'web', 'hops', { url: `http://localhost:${port}/hop/3` });
    assert.equal(three.job.status, 'succeeded', three.job.error);
    const four = await importAndWait(server, key, 'web', 'hops4', { url: `http://localhost:${port}/hop/4` });
    assert.equal(four.job.status, 'failed');
    assert.match(four.job.error, /^URL_FETCH_FAILED: more than 3 redirects/);
    const plain = await importAndWait(server, key, 'web', 'lines', {
      url: `http://localhost:${port}/plain`,
      format: 'jsonl',
    });
    assert.equal(plain.job.status, 'succeeded', plain.job.error);
    const unknown = await importAndWait(server, key, 'web', 'lines2', {
      url: `http://localhost:${port}/plain`,
    });
    assert.match(unknown.job.error, /format/);
  });

  test('bad call: loopback, private, link-local and mapped addresses are refused, in every spelling', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `2130706433:${port}`,
      `0x7f.0.0.1:${port}`,
      `0177.0.0.1:${port}`,
      `127.1:${port}`,
      `[::1]:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      `[::ffff:7f00:1]:${port}`,
      '10.0.0.1',
      '192.168.1.1',
      '172.16.0.1',
      '169.254.169.254',
      '[fe80::1]',
      '[fd00::1]',
      '0.0.0.0',
      '[::]',
      '224.0.0.1',
      '100.64.0.1',
    ]) {
      const r = await submit('nope', { url: `http://${host}/data.csv` });
      assert.equal(r.status, 400, host);
      assert.equal(r.body.code, 'URL_NOT_ALLOWED', host);
    }
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x.csv', 'gopher://localhost/']) {
      const r = await submit('nope', { url });
      assert.equal(r.body.code, 'URL_NOT_ALLOWED', url);
    }
    const creds = await submit('nope', { url: `http://user:pw@localhost:${port}/data.csv` });
    assert.equal(creds.status, 400);
  });

  test('bad call: a redirect from an allowed host to a private address is refused', async () => {
    for (const path of ['to-private', 'to-metadata']) {
      const { job } = await importAndWait(server, key, 'web', 'redirected', {
        url: `http://localhost:${port}/${path}`,
      });
      assert.equal(job.status, 'failed');
      assert.match(job.error, /^URL_NOT_ALLOWED: /, path);
    }
    const r = await call(server, 'GET', '/v1/projects/web/datasets/redirected', { key });
    assert.equal(r.status, 404, 'no version was created');
  });

  test('bad call: an oversize file, a slow server and an error status fail the job and create nothing', async () => {
    const big = await importAndWait(server, key, 'web', 'big', { url: `http://localhost:${port}/big` });
    assert.match(big.job.error, /^SOURCE_TOO_LARGE: /);
    const slow = await importAndWait(server, key, 'web', 'slow', { url: `http://localhost:${port}/slow` });
    assert.match(slow.job.error, /^SOURCE_TIMEOUT: /);
    const missing = await importAndWait(server, key, 'web', 'missing', {
      url: `http://localhost:${port}/missing`,
    });
    assert.match(missing.job.error, /^URL_FETCH_FAILED: the server answered 404/);
    for (const name of ['big', 'slow', 'missing'])
      assert.equal((await call(server, 'GET', `/v1/projects/web/datasets/${name}`, { key })).status, 404);
  });
});

test('addressRefusal: only public unicast addresses pass', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])
    assert.equal(addressRefusal(a), undefined, a);
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.31.0.1',
    '192.168.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.251',
    '100.64.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12::1',
    'ff02::1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '2002:7f00:1::1',
  ])
    assert.ok(addressRefusal(a), a);
});
