// The authorization matrix, generated from the route table: every route × every role, in the
// key's own project and in another one. A new route without an explicit rule fails at start.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROLES, roleAllows, type Action } from '../../src/auth/permissions.js';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

describe('authorization matrix', () => {
  let server: TestServer;
  let admin: string;
  const keys = new Map<string, string>();
  const ids: Record<string, string> = {
    project: 'credit',
    dataset: 'iris',
    model: 'iris',
    deployment: 'iris',
    version: '1',
  };

  before(async () => {
    server = await startTestServer();
    admin = server.adminKey!;
    for (const name of ['credit', 'other'])
      await call(server, 'POST', '/v1/projects', { key: admin, json: { name } });
    for (const role of ROLES) {
      keys.set(
        `credit/${role}`,
        (
          await call(server, 'POST', '/v1/keys', {
            key: admin,
            json: { name: role, project: 'credit', role },
          })
        ).body.key,
      );
      keys.set(
        `other/${role}`,
        (await call(server, 'POST', '/v1/keys', { key: admin, json: { name: role, project: 'other', role } }))
          .body.key,
      );
    }
    const owner = keys.get('credit/owner')!;
    await call(server, 'POST', '/v1/projects/credit/datasets?name=iris', {
      key: owner,
      body: readFileSync(join(SHARED_DATA, 'iris.csv')),
      type: 'text/csv',
    });
    const job = await call(server, 'POST', '/v1/projects/credit/training-jobs', {
      key: owner,
      json: { dataset: 'iris', target: 'target', model: 'iris' },
    });
    await waitForJob(server, owner, 'credit', job.body.id);
    ids.job = job.body.id;
    await call(server, 'POST', '/v1/projects/credit/deployments', {
      key: owner,
      json: { name: 'iris', model: 'iris' },
    });
    ids.key = (await call(server, 'GET', '/v1/keys?project=credit', { key: owner })).body.items[0].id;
  });
  after(() => server.dispose());

  const fill = (url: string) => url.replace(/:(\w+)/g, (_m, name: string) => ids[name] ?? 'x');
  // Non-destructive probes only: a DELETE or a state change is sent with the identity only, no body,
  // so the allowed ones fail validation (400) or succeed harmlessly, never 401/403.
  const probe = (method: string, url: string, key?: string) =>
    call(server, method, fill(url), {
      key,
      ...(method === 'POST' || method === 'PATCH' ? { json: {} } : {}),
    });

  test('every route declares who may call it, and the table is not empty', () => {
    const table = server.platform.app.routeTable;
    assert.ok(table.length >= 20, `${table.length} routes`);
    for (const r of table) assert.ok(r.auth, `${r.method} ${r.url}`);
  });

  test('bad call: every non-public route refuses a request without a key (401)', async () => {
    for (const r of server.platform.app.routeTable.filter((r) => r.auth !== 'public')) {
      const res = await probe(r.method, r.url);
      assert.equal(res.status, 401, `${r.method} ${r.url}`);
    }
  });

  test("bad call: every project route answers another project's key with 404, whatever its role", async () => {
    const projectRoutes = server.platform.app.routeTable.filter((r) =>
      r.url.startsWith('/v1/projects/:project'),
    );
    assert.ok(projectRoutes.length >= 15);
    for (const r of projectRoutes) {
      for (const role of ROLES) {
        const res = await probe(r.method, r.url, keys.get(`other/${role}`));
        assert.equal(res.status, 404, `${role} of another project: ${r.method} ${r.url}`);
        assert.match(res.body.detail, /project "credit"/);
      }
    }
  });

  test('each role in its own project gets exactly what the role table allows', async () => {
    const projectRoutes = server.platform.app.routeTable.filter(
      (r) => r.url.startsWith('/v1/projects/:project') && r.method !== 'DELETE',
    );
    for (const r of projectRoutes) {
      for (const role of ROLES) {
        const res = await probe(r.method, r.url, keys.get(`credit/${role}`));
        const allowed = roleAllows(role, r.auth as Action);
        if (allowed)
          assert.ok(
            ![401, 403].includes(res.status),
            `${role} may ${r.auth}: ${r.method} ${r.url} gave ${res.status}`,
          );
        else assert.equal(res.status, 403, `${role} may not ${r.auth}: ${r.method} ${r.url}`);
      }
    }
  });

  test('bad call: admin-only routes refuse project keys (403)', async () => {
    for (const r of server.platform.app.routeTable.filter((r) => r.auth === 'admin')) {
      const res = await probe(r.method, r.url, keys.get('credit/owner'));
      assert.equal(res.status, 403, `${r.method} ${r.url}`);
    }
  });

  test("bad call: keys: a project owner manages only its own project's keys", async () => {
    const owner = keys.get('credit/owner')!;
    assert.equal((await call(server, 'GET', '/v1/keys?project=credit', { key: owner })).status, 200);
    assert.equal((await call(server, 'GET', '/v1/keys?project=other', { key: owner })).status, 404);
    assert.equal((await call(server, 'GET', '/v1/keys', { key: owner })).status, 403);
    assert.equal(
      (
        await call(server, 'POST', '/v1/keys', {
          key: owner,
          json: { name: 'x', project: 'other', role: 'owner' },
        })
      ).status,
      404,
    );
    assert.equal(
      (
        await call(server, 'POST', '/v1/keys', {
          key: keys.get('credit/maintainer'),
          json: { name: 'x', project: 'credit', role: 'owner' },
        })
      ).status,
      403,
    );
    const otherKeyId = (await call(server, 'GET', '/v1/keys?project=other', { key: keys.get('other/owner') }))
      .body.items[0].id;
    assert.equal((await call(server, 'DELETE', `/v1/keys/${otherKeyId}`, { key: owner })).status, 404);
  });
});
