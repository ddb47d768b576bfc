// PostgreSQL for tests: each test (file) gets its own fresh, uniquely named database on the server
// named by MASS_TEST_DATABASE_URL (an admin URL; `npm test` starts a private server with
// scripts/pg.mjs and sets it). Without that variable the PostgreSQL tests are skipped, loudly:
//
//   const db = await withTestDatabase();
//   if (!db) return t.skip(pgSkipReason());
//   t.after(() => db.drop());
//   ... connect to db.url ...
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface TestDatabase {
  /** Connection URL of the fresh database (same server, user and options as the admin URL). */
  url: string;
  /** Terminates the database's remaining connections and drops it. Safe to call more than once. */
  drop(): Promise<void>;
}

const ENV = 'MASS_TEST_DATABASE_URL';

/** Why the PostgreSQL tests are skipped, or undefined when they can run. */
export function pgSkipReason(): string | undefined {
  return process.env[ENV] ? undefined : `${ENV} is not set: PostgreSQL tests SKIPPED`;
}

/**
 * Creates a fresh database (UTF8, C collation, from template0) named `mass_test_<random>` and
 * returns its URL, or undefined when MASS_TEST_DATABASE_URL is unset. Throws when the variable is
 * set but the server cannot be used: a configured database that does not work is a failure, not a
 * reason to skip.
 */
export async function withTestDatabase(): Promise<TestDatabase | undefined> {
  const adminUrl = process.env[ENV];
  if (!adminUrl) return undefined;
  const name = `mass_test_${randomBytes(8).toString('hex')}`;
  const ident = quoteIdent(name);
  await withAdmin(adminUrl, (c) =>
    // template0 never has connections, so concurrent creations cannot trip over each other; the C
    // locale is compatible with every server encoding and locale.
    retryBusy(() =>
      c.query(`CREATE DATABASE ${ident} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`),
    ),
  );
  let dropped: Promise<void> | undefined;
  return {
    url: databaseUrl(adminUrl, name),
    drop() {
      dropped ??= withAdmin(adminUrl, async (c) => {
        const version = Number((await c.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
        await retryBusy(async () => {
          await c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [name],
          );
          await c.query(`DROP DATABASE IF EXISTS ${ident}${version >= 130000 ? ' WITH (FORCE)' : ''}`);
        });
      });
      return dropped;
    },
  };
}

/** The admin URL with its database replaced by `name`. */
function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'mass-test-support' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Retries `fn` while PostgreSQL says an object is in use by other sessions (SQLSTATE 55006). */
async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: unknown }).code !== '55006' || attempt >= 20) throw e;
      await sleep(100 * attempt);
    }
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
