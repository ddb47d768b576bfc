// Issue 9 through the real server: sessions with CSRF, memberships, sharing grants, quotas,
// rate limits, security headers, the Host allow-list, and the audit trail of it all.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery staple';

describe('security', () => {
  let server: TestServer;
  let admin: string;

  before(async () => {
    server = await startTestServer({ rateLimitRps: 0 });
    admin = server.adminKey!;
    for (const name of ['credit', 'fraud'])
      await call(server, 'POST', '/v1/projects', { key: admin, json: { name } });
    assert.equal(
      (await call(server, 'POST', '/v1/users', { key: admin, json: { name: 'ana', password: PASSWORD } }))
        .status,
      201,
    );
    assert.equal(
      (
        await call(server, 'PUT', '/v1/projects/credit/members/ana', {
          key: admin,
          json: { role: 'maintainer' },
        })
      ).status,
      200,
    );
  });
  after(() => server.dispose());

  async function login(name = 'ana', password = PASSWORD) {
    const r = await call(server, 'POST', '/v1/session', { json: { name, password } });
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
    return { r, cookie, csrf: r.body?.csrfToken as string };
  }

  test('a session cookie is HttpOnly and SameSite=Strict, reads freely, and needs the CSRF token to write', async () => {
    const { r, cookie, csrf } = await login();
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    assert.equal(
      (await call(server, 'GET', '/v1/projects/credit/datasets', { headers: { cookie } })).status,
      200,
    );
    const body = 'a,b\n1,2\n3,4\n';
    const noToken = await call(server, 'POST', '/v1/projects/credit/datasets?name=x', {
      headers: { cookie },
      body,
      type: 'text/csv',
    });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.code, 'CSRF_FAILED');
    // DELETE is checked too: the check lists safe methods, not unsafe ones.
    const del = await call(server, 'DELETE', '/v1/projects/credit/deployments/none', { headers: { cookie } });
    assert.equal(del.body.code, 'CSRF_FAILED');
    const ok = await call(server, 'POST', '/v1/projects/credit/datasets?name=x', {
      headers: { cookie, 'x-csrf-token': csrf },
      body,
      type: 'text/csv',
    });
    assert.equal(ok.status, 201);
    // Not a member of fraud: it reads as not found.
    assert.equal((await call(server, 'GET', '/v1/projects/fraud', { headers: { cookie } })).status, 404);
    const projects = await call(server, 'GET', '/v1/projects', { headers: { cookie } });
    assert.deepEqual(
      projects.body.items.map((p: { name: string }) => p.name),
      ['credit'],
    );
    // Logout ends the session on the server: the same cookie no longer works.
    assert.equal(
      (await call(server, 'DELETE', '/v1/session', { headers: { cookie, 'x-csrf-token': csrf } })).status,
      204,
    );
    assert.equal((await call(server, 'GET', '/v1/projects/credit', { headers: { cookie } })).status, 401);
  });

  test('bad call: hostile logins are refused cleanly', async () => {
    for (const [name, password] of [
      ['ana', 'wrong password here'],
      ['nobody', PASSWORD],
      ["ana' OR '1'='1", PASSWORD],
      ['../../etc/passwd', PASSWORD],
      ['ana', 'é'.repeat(1000)],
    ] as const) {
      const r = await call(server, 'POST', '/v1/session', { json: { name, password } });
      assert.equal(r.status, 401, `${name}`);
    }
    assert.equal(
      (await call(server, 'POST', '/v1/session', { json: { name: 'ana', password: 'x'.repeat(5000) } }))
        .status,
      400,
    );
    for (const cookie of ['mass_session=forged', `mass_session=${'A'.repeat(43)}`, 'mass_session=']) {
      assert.equal((await call(server, 'GET', '/v1/projects', { headers: { cookie } })).status, 401, cookie);
    }
    // A password that is too short is refused when the user is made.
    const weak = await call(server, 'POST', '/v1/users', {
      key: admin,
      json: { name: 'bob', password: 'short' },
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body.detail, /password/);
  });

  test('a disabled user loses sessions and keys at once', async () => {
    await call(server, 'POST', '/v1/users', { key: admin, json: { name: 'carl', password: PASSWORD } });
    await call(server, 'PUT', '/v1/projects/credit/members/carl', { key: admin, json: { role: 'viewer' } });
    const { cookie } = await login('carl');
    assert.equal((await call(server, 'GET', '/v1/projects/credit', { headers: { cookie } })).status, 200);
    assert.equal((await call(server, 'DELETE', '/v1/users/carl', { key: admin })).status, 204);
    assert.equal((await call(server, 'GET', '/v1/projects/credit', { headers: { cookie } })).status, 401);
  });

  test('sharing: one model version, visible to both, revocable; nothing else of the project is reachable', async () => {
    const credit = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'c', project: 'credit', role: 'owner' },
      })
    ).body.key;
    const fraud = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'f', project: 'fraud', role: 'viewer' },
      })
    ).body.key;
    await call(server, 'POST', '/v1/projects/credit/datasets?name=iris', {
      key: credit,
      body: readFileSync(join(SHARED_DATA, 'iris.csv')),
      type: 'text/csv',
    });
    const job = await call(server, 'POST', '/v1/projects/credit/training-jobs', {
      key: credit,
      json: { dataset: 'iris', target: 'target', model: 'iris' },
    });
    assert.equal((await waitForJob(server, credit, 'credit', job.body.id)).status, 'succeeded');
    const grant = await call(server, 'POST', '/v1/projects/credit/grants', {
      key: credit,
      json: { to: 'fraud', kind: 'model_version', name: 'iris', version: 1 },
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    const seen = await call(server, 'GET', `/v1/projects/fraud/shared/${grant.body.id}`, { key: fraud });
    assert.equal(seen.status, 200);
    assert.equal(seen.body.object.model, 'iris');
    const file = await fetch(`${server.url}/v1/projects/fraud/shared/${grant.body.id}/artifact`, {
      headers: { authorization: `Bearer ${fraud}` },
    });
    assert.equal(file.status, 200);
    assert.equal(
      (await call(server, 'GET', '/v1/projects/fraud/grants', { key: fraud })).body.received.length,
      1,
    );
    assert.equal(
      (await call(server, 'GET', '/v1/projects/credit/grants', { key: credit })).body.given.length,
      1,
    );
    // The dataset was not shared, and the grant does not open the project.
    assert.equal((await call(server, 'GET', '/v1/projects/credit/models/iris', { key: fraud })).status, 404);
    // A viewer of fraud cannot revoke credit's grant; credit's owner can.
    assert.equal(
      (await call(server, 'DELETE', `/v1/projects/fraud/grants/${grant.body.id}`, { key: fraud })).status,
      403,
    );
    assert.equal(
      (await call(server, 'DELETE', `/v1/projects/credit/grants/${grant.body.id}`, { key: credit })).status,
      204,
    );
    assert.equal(
      (await call(server, 'GET', `/v1/projects/fraud/shared/${grant.body.id}`, { key: fraud })).status,
      404,
    );
  });

  test('quotas: concurrent jobs and storage answer 429 / 413; a key over its rate answers 429 with Retry-After', async () => {
    const owner = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'q', project: 'fraud', role: 'owner', rateLimitRps: 2 },
      })
    ).body.key;
    assert.equal(
      (
        await call(server, 'PATCH', '/v1/admin/projects/fraud/quotas', {
          key: admin,
          json: { storageQuotaBytes: 100 },
        })
      ).status,
      200,
    );
    const big = await call(server, 'POST', '/v1/projects/fraud/datasets?name=big', {
      key: owner,
      body: 'a,b\n'.padEnd(500, '1'),
      type: 'text/csv',
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'STORAGE_QUOTA_EXCEEDED');
    await call(server, 'PATCH', '/v1/admin/projects/fraud/quotas', {
      key: admin,
      json: { storageQuotaBytes: null, maxConcurrentJobs: 0 },
    });
    await call(server, 'POST', '/v1/projects/fraud/datasets?name=iris', {
      key: owner,
      body: readFileSync(join(SHARED_DATA, 'iris.csv')),
      type: 'text/csv',
    });
    await call(server, 'PATCH', '/v1/admin/projects/fraud/quotas', {
      key: admin,
      json: { maxConcurrentJobs: 1 },
    });
    // Five at once against one slot: the first is queued, the rest are refused while it waits or runs.
    const statuses = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call(server, 'POST', '/v1/projects/fraud/training-jobs', {
          key: owner,
          json: { dataset: 'iris', target: 'target', model: `m${i}` },
        }).then((r) => r.status),
      ),
    );
    assert.ok(statuses.includes(202) && statuses.includes(429), `statuses ${statuses}`);
    // The rate limit: two predictions a second for this key.
    const limited: number[] = [];
    for (let i = 0; i < 5; i++)
      limited.push(
        (
          await call(server, 'POST', '/v1/projects/fraud/deployments/none/predict', {
            key: owner,
            json: { rows: [{}] },
          })
        ).status,
      );
    assert.ok(limited.includes(429), `statuses ${limited}`);
  });

  test('security headers on every response; CORS closed; a foreign Host refused', async () => {
    const r = await call(server, 'GET', '/healthz', { headers: { origin: 'https://evil.example' } });
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    const port = new URL(server.url).port;
    const rebinding = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/healthz', headers: { host: `attacker.example:${port}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      }, reject);
    });
    assert.equal(rebinding, 400);
  });

  test('the audit log records writes, logins and denials, and verifies', async () => {
    await call(server, 'GET', '/v1/projects/credit', { key: 'mass_AAAAAAAA_' + 'b'.repeat(43) });
    await new Promise((r) => setTimeout(r, 200));
    const text = await (
      await fetch(`${server.url}/v1/audit?limit=10000`, { headers: { authorization: `Bearer ${admin}` } })
    ).text();
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; outcome: string; status: number });
    assert.ok(entries.some((e) => e.action === 'session.login' && e.outcome === 'success'));
    assert.ok(entries.some((e) => e.action === 'session.login' && e.outcome === 'failure'));
    assert.ok(entries.some((e) => e.action === 'POST /v1/projects' && e.status === 201));
    assert.ok(entries.some((e) => e.outcome === 'denied' && e.status === 401));
    assert.ok(!text.includes(admin) && !text.includes(PASSWORD), 'no secret in the audit log');
    const verified = await call(server, 'GET', '/v1/audit/verify', { key: admin });
    assert.equal(verified.status, 200);
    assert.equal(verified.body.ok, true, JSON.stringify(verified.body.problems));
    assert.ok(verified.body.entries >= entries.length);
    // Only a site admin reads it.
    const viewer = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'v', project: 'credit', role: 'viewer' },
      })
    ).body.key;
    assert.equal((await call(server, 'GET', '/v1/audit', { key: viewer })).status, 403);
  });
});

describe('mass audit verify', () => {
  test('offline verification of a data folder: OK, then TAMPERED (exit 1) after an edit', async (t) => {
    const { spawnSync } = await import('node:child_process');
    const server = await startTestServer();
    t.after(() => server.dispose());
    const admin = server.adminKey!;
    for (const name of ['a', 'b', 'c'])
      await call(server, 'POST', '/v1/projects', { key: admin, json: { name } });
    await new Promise((r) => setTimeout(r, 100));
    await server.platform.services.audit.checkpoint();
    const run = () =>
      spawnSync(process.execPath, ['bin/mass.js', 'audit', 'verify', '--home', server.home], {
        encoding: 'utf8',
      });
    const clean = run();
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /^OK: 3 entries/);
    await server.platform.services.store.db
      .updateTable('audit_log')
      .set({ target: '/v1/evil' })
      .where('seq', '=', 2)
      .execute();
    const tampered = run();
    assert.equal(tampered.status, 1);
    assert.match(tampered.stdout, /TAMPERED[\s\S]*entry 2: .*edited/);
  });
});

describe('transport', () => {
  test('HTTPS with a configured certificate, HSTS on; an expired key is refused', async (t) => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mass-tls-'));
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    if (made.status !== 0) return t.skip('!!! openssl is not available: the HTTPS test is SKIPPED');
    const server = await startTestServer({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
    t.after(() => server.dispose());
    assert.match(server.url, /^https:/);
    const { request } = await import('node:https');
    const answer = await new Promise<{ status: number; hsts: string | undefined }>((resolve, reject) => {
      const req = request(`${server.url}/healthz`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          hsts: res.headers['strict-transport-security'] as string | undefined,
        });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer.status, 200);
    assert.match(answer.hsts ?? '', /max-age=/);

    // An expired key: made valid, then its expiry passes.
    const plain = await startTestServer();
    t.after(() => plain.dispose());
    await call(plain, 'POST', '/v1/projects', { key: plain.adminKey, json: { name: 'p' } });
    const made2 = await call(plain, 'POST', '/v1/keys', {
      key: plain.adminKey,
      json: {
        name: 'soon',
        project: 'p',
        role: 'viewer',
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      },
    });
    assert.equal((await call(plain, 'GET', '/v1/projects/p', { key: made2.body.key })).status, 200);
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await call(plain, 'GET', '/v1/projects/p', { key: made2.body.key });
    assert.equal(expired.status, 401);
    assert.match(expired.body.detail, /expired/);
  });
});
