import { Migrator, sql, type Kysely, type Transaction } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { Database, DialectCapabilities, MetadataStore } from './metadata.js';

/** Behaviour shared by both dialects, written once above them. */
export class KyselyMetadataStore implements MetadataStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: DialectCapabilities,
  ) {}

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
