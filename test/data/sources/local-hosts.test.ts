// Database connections may not reach the Mass host itself or the link-local networks (cloud
// metadata at 169.254.169.254) unless MASS_ALLOW_LOCAL_DATABASES is set: every spelling of such
// an address, and every name resolving to one, is refused naming `host` when a connection is
// saved, tested or used (DNS may change in between), and the drivers connect to the addresses
// that were checked. Private networks stay allowed: that is where databases live.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConnectionService } from '../../../src/data/sources/connections.js';
import {
  checkDatabaseHost,
  localAddressRefusal,
  pinnedLookup,
  type ResolvedAddress,
} from '../../../src/data/sources/hosts.js';
import { SecretBox } from '../../../src/data/sources/secrets.js';
import { AppError } from '../../../src/errors/index.js';
import { call, startTestServer, waitForJob, type TestServer } from '../../support/server.js';

const LOCAL = [
  '127.0.0.1',
  '127.255.255.254',
  '::1',
  '0:0:0:0:0:0:0:1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:0:127.0.0.1',
  '::127.0.0.1',
  '64:ff9b::127.0.0.1',
  '2002:7f00:1::1',
  '169.254.169.254',
  '169.254.0.1',
  '::ffff:169.254.169.254',
  'fe80::1',
  'febf:ffff::1',
  '0.0.0.0',
  '0.1.2.3',
  '::',
  '::ffff:0.0.0.0',
];
const ALLOWED = [
  '10.0.0.5',
  '172.16.4.2',
  '172.31.255.254',
  '192.168.1.10',
  '100.64.0.1',
  '8.8.8.8',
  'fc00::5',
  'fd12:3456::1',
  '2001:db8::1',
  '::ffff:10.1.2.3',
];

test('loopback, link-local and unspecified addresses are refused in every IPv4 and IPv6 form', () => {
  for (const a of LOCAL) assert.ok(localAddressRefusal(a), `${a} should be refused`);
  for (const a of ALLOWED) assert.equal(localAddressRefusal(a), undefined, `${a} should be allowed`);
  assert.match(localAddressRefusal('::ffff:127.0.0.1')!, /loopback IPv4 address 127\.0\.0\.1/);
  assert.match(localAddressRefusal('169.254.169.254')!, /link-local/);
});

test('a name is judged by every address it resolves to; one that does not resolve is left undecided', async () => {
  const dns: Record<string, ResolvedAddress[]> = {
    'db.example': [{ address: '10.0.0.7', family: 4 }],
    'sneaky.example': [
      { address: '10.0.0.7', family: 4 },
      { address: '::1', family: 6 },
    ],
    'metadata.example': [{ address: '169.254.169.254', family: 4 }],
  };
  const resolve = async (host: string) => {
    const found = dns[host];
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found;
  };
  assert.deepEqual(await checkDatabaseHost('db.example', { resolve, timeoutMs: 1000 }), dns['db.example']);
  assert.equal(await checkDatabaseHost('nowhere.example', { resolve, timeoutMs: 1000 }), undefined);
  for (const host of ['sneaky.example', 'metadata.example', '127.0.0.1', '::ffff:169.254.169.254'])
    await assert.rejects(checkDatabaseHost(host, { resolve, timeoutMs: 1000 }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.status, 400);
      assert.equal(e.errors[0]?.path, 'host');
      assert.match(e.message, /MASS_ALLOW_LOCAL_DATABASES/);
      return true;
    });
  // A resolver that never answers is given up on, undecided.
  const slow = () => new Promise<ResolvedAddress[]>(() => undefined);
  assert.equal(await checkDatabaseHost('db.example', { resolve: slow, timeoutMs: 50 }), undefined);
  // The system resolver: spellings the C library reads as 127.0.0.1 are refused too.
  for (const host of ['localhost', '2130706433', '0x7f.1', '0177.0.0.1', '127.1'])
    await assert.rejects(checkDatabaseHost(host, { timeoutMs: 5000 }), { status: 400 }, host);
});

test('the pinned lookup answers with the checked addresses whatever the name', async () => {
  const addresses = [
    { address: '10.0.0.7', family: 4 },
    { address: 'fd00::7', family: 6 },
  ];
  const lookup = pinnedLookup(addresses);
  const all = await new Promise((resolve) =>
    lookup('anything.example', { all: true }, ((_e: unknown, a: unknown) => resolve(a)) as never),
  );
  assert.deepEqual(all, addresses);
  const six = await new Promise((resolve) =>
    lookup('anything.example', { family: 6 }, ((_e: unknown, a: unknown, f: unknown) =>
      resolve([a, f])) as never),
  );
  assert.deepEqual(six, ['fd00::7', 6]);
});

describe('connections to local hosts over HTTP', () => {
  let server: TestServer;
  let key: string;
  const P = '/v1/projects/hosts';
  const save = (name: string, host: string, extra: Record<string, unknown> = {}) =>
    call(server, 'POST', `${P}/connections`, {
      key,
      json: { name, kind: 'postgres', host, port: 5432, user: 'reader', password: 'pw', ...extra },
    });
  const refusedHost = (r: { status: number; body: any; headers: Headers }, what: string) => {
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(r.body.errors[0].path, 'host', JSON.stringify(r.body));
    assert.match(r.body.detail, /MASS_ALLOW_LOCAL_DATABASES/);
  };

  before(async () => {
    server = await startTestServer({});
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'hosts' } });
  });
  after(() => server.dispose());

  test('bad call: saving a loopback, link-local or unspecified host, in any spelling, is a 400 naming host', async () => {
    let n = 0;
    for (const host of [...LOCAL, 'localhost', '2130706433', '0x7f.1', '127.1']) {
      const r = await save(`local-${n++}`, host);
      refusedHost(r, host);
    }
    const list = await call(server, 'GET', `${P}/connections`, { key });
    assert.deepEqual(list.body.items, [], 'nothing was saved');
  });

  test('private addresses and names that do not resolve from here may be saved', async () => {
    for (const [name, host] of [
      ['ten', '10.0.0.5'],
      ['lan', '192.168.1.10'],
      ['vpc', '172.16.4.2'],
      ['later', 'db.mass-test.invalid'],
    ]) {
      const r = await save(name!, host!);
      assert.equal(r.status, 201, `${host}: ${JSON.stringify(r.body)}`);
    }
  });

  test('bad call: repointing a saved connection at a local host is refused naming host', async () => {
    const r = await call(server, 'PATCH', `${P}/connections/ten`, {
      key,
      json: { host: '169.254.169.254', password: 'pw2' },
    });
    refusedHost(r, 'PATCH 169.254.169.254');
    const still = await call(server, 'GET', `${P}/connections/ten`, { key });
    assert.equal(still.body.host, '10.0.0.5');
  });

  test('a name that does not resolve is unreachable when tested (it is not tried by name later)', async () => {
    const r = await call(server, 'POST', `${P}/connections/later/test`, { key });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.code, 'SOURCE_UNREACHABLE');
  });

  test('the same host when DNS changes after the save: refused at test and at import time', async () => {
    const project = (await call(server, 'GET', P, { key })).body.id as string;
    let answer: ResolvedAddress[] = [{ address: '10.9.8.7', family: 4 }];
    const connections = new ConnectionService(
      server.platform.services.store,
      await SecretBox.open({ secretKey: undefined, home: server.home }),
      [],
      { resolve: async () => answer },
    );
    await connections.create(
      project,
      'rebound',
      { kind: 'postgres', host: 'rebound.example', user: 'reader', password: 'pw' },
      'test',
    );
    const { spec } = await connections.spec(project, 'rebound');
    assert.deepEqual(spec.addresses, answer, 'the driver is handed the checked addresses');
    answer = [{ address: '127.0.0.1', family: 4 }];
    await assert.rejects(connections.spec(project, 'rebound'), { status: 400, message: /127\.0\.0\.1/ });
    await assert.rejects(connections.test(project, 'rebound', 1000), { status: 400 });
  });
});

describe('a connection saved while local hosts were allowed, used after the switch is turned off', () => {
  let server: TestServer;
  let key: string;
  let home: string;
  let port: number;
  const P = '/v1/projects/later';
  const listener = createServer((socket) => socket.destroy());

  before(async () => {
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
    const allowed = await startTestServer({ allowLocalDatabases: 'true' });
    home = allowed.home;
    key = allowed.adminKey!;
    await call(allowed, 'POST', '/v1/projects', { key, json: { name: 'later' } });
    const saved = await call(allowed, 'POST', `${P}/connections`, {
      key,
      json: { name: 'here', kind: 'postgres', host: 'localhost', port, user: 'reader', password: 'pw' },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await allowed.stop();
    server = await startTestServer({ home });
  });
  after(async () => {
    await server.dispose();
    await new Promise((resolve) => listener.close(resolve));
  });

  test('bad call: the test endpoint refuses it with a 400 naming host', async () => {
    const r = await call(server, 'POST', `${P}/connections/here/test`, { key });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.errors[0].path, 'host');
    assert.match(r.body.detail, /localhost resolves to/);
  });

  test('bad call: an import through it fails its job naming host, and imports nothing', async () => {
    const r = await call(server, 'POST', `${P}/datasets/leak/import`, {
      key,
      json: { connection: 'here', query: 'SELECT 1 AS x' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await waitForJob(server, key, 'later', r.body.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^VALIDATION_FAILED: host: localhost resolves to/);
    assert.equal((await call(server, 'GET', `${P}/datasets/leak`, { key })).status, 404);
  });
});
