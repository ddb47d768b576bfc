// The metadata stores every contract test runs against: a real SQLite file, and a real
// PostgreSQL database when the test command could start a server (skipped loudly otherwise).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataStore } from '../../src/store/metadata.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { pgSkipReason, withTestDatabase } from './pg.js';

export interface StoreFixture {
  readonly store: MetadataStore;
  /** A URL another process can open the same store with. */
  readonly url: string;
  dispose(): Promise<void>;
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Undefined when the dialect can run; otherwise the reason it is skipped. */
  skipReason(): string | undefined;
  open(): Promise<StoreFixture>;
}

export const DIALECTS: readonly Dialect[] = [
  {
    name: 'sqlite',
    skipReason: () => undefined,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'mass-sqlite-'));
      const path = join(dir, 'mass.db');
      const store = openSqliteStore(path);
      await store.migrate();
      return {
        store,
        url: `sqlite:${path}`,
        async dispose() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skipReason: pgSkipReason,
    async open() {
      const db = await withTestDatabase();
      if (!db) throw new Error(pgSkipReason());
      const store = openPostgresStore(db.url);
      await store.migrate();
      return {
        store,
        url: db.url,
        async dispose() {
          await store.close();
          await db.drop();
        },
      };
    },
  },
];
