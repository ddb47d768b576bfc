// Names may be up to 128 characters; a path parameter of that length must reach the route (and a
// longer one must get a problem+json, not fastify's bare 414).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
  await call(server, 'POST', '/v1/projects', { key: server.adminKey!, json: { name: 'p' } });
});
after(() => server.dispose());

test('a 128-character dataset name reaches the route and gets a problem+json 404', async () => {
  const name = 'd'.repeat(128);
  const r = await call(server, 'GET', `/v1/projects/p/datasets/${name}`, { key: server.adminKey! });
  assert.equal(r.status, 404, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, 'NOT_FOUND');
});

test('a 200-character project name is answered with problem+json, not a bare 414', async () => {
  const r = await call(server, 'GET', `/v1/projects/${'p'.repeat(200)}/datasets`, {
    key: server.adminKey!,
  });
  assert.ok(r.status >= 400 && r.status < 500, String(r.status));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
});
