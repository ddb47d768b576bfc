import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KyselyMetadataStore } from '../base.js';
import type { Database, DialectCapabilities, MetadataStore } from '../metadata.js';

// int8 (bigint) columns hold byte sizes, far below 2^53: read them as numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

const capabilities: DialectCapabilities = {
  name: 'postgres',
  supportsSkipLocked: true,
  isUniqueViolation: (error) =>
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505',
};

export function openPostgresStore(url: string, poolSize = 10): MetadataStore {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyMetadataStore(db, capabilities);
}
