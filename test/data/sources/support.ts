// MariaDB for the source tests: each test gets a fresh, uniquely named database on the server
// named by MASS_TEST_MYSQL_URL (`npm test` starts a private server with scripts/mariadb.mjs and sets
// it). Without that variable the MariaDB tests are skipped, loudly.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { call, waitForJob, type TestServer } from '../../support/server.js';

const ENV = 'MASS_TEST_MYSQL_URL';

export function mysqlSkipReason(): string | undefined {
  return process.env[ENV] ? undefined : `${ENV} is not set: MariaDB source tests SKIPPED`;
}

export interface TestMysql {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  run(sql: string, params?: unknown[]): Promise<unknown>;
  drop(): Promise<void>;
}

export async function withTestMysql(): Promise<TestMysql | undefined> {
  const raw = process.env[ENV];
  if (!raw) return undefined;
  const url = new URL(raw);
  const database = `mass_test_${randomBytes(6).toString('hex')}`;
  const base = {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
  const admin = await mysql.createConnection({ ...base, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${database}\``);
  return {
    ...base,
    database,
    run: async (sql, params) => (await admin.query(sql, params))[0],
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await admin.end();
    },
  };
}

/** Submits an import and waits for its job; also returns every response body seen, for leak checks. */
export async function importAndWait(
  server: TestServer,
  key: string,
  project: string,
  dataset: string,
  json: unknown,
  bodies: unknown[] = [],
): Promise<{ submit: { status: number; body: any }; job: any }> {
  const submit = await call(server, 'POST', `/v1/projects/${project}/datasets/${dataset}/import`, {
    key,
    json,
  });
  bodies.push(submit.body);
  if (submit.status !== 202) return { submit, job: undefined };
  const job = await waitForJob(server, key, project, submit.body.id, 90_000);
  bodies.push(job);
  return { submit, job };
}
