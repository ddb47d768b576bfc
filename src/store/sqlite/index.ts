import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore } from '../base.js';
import type { Database, DialectCapabilities, MetadataStore } from '../metadata.js';

const capabilities: DialectCapabilities = {
  name: 'sqlite',
  supportsSkipLocked: false,
  isUniqueViolation: (error) => {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
};

/** Opens (creating if needed) a SQLite file in WAL mode. `path` may be `:memory:` for tests. */
export function openSqliteStore(path: string): MetadataStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  // WAL: readers never block the writer; synchronous=NORMAL is durable across process crashes in WAL mode.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyMetadataStore(db, capabilities);
}
