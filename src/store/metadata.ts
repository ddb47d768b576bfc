import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type { Database } from './schema.js';
export type Db = Kysely<Database> | Transaction<Database>;

/** What differs between the databases, named once here instead of `if (dialect === ...)` around the code. */
export interface DialectCapabilities {
  readonly name: 'sqlite' | 'postgres';
  /** `SELECT ... FOR UPDATE SKIP LOCKED` is available (PostgreSQL), for queues shared by many processes. */
  readonly supportsSkipLocked: boolean;
  /** Is this driver error a violation of a unique constraint? */
  isUniqueViolation(error: unknown): boolean;
}

/**
 * The metadata store: one typed query layer (Kysely) over SQLite or PostgreSQL, with the same
 * migrations for both. Domain modules write their own queries against `db`; every query on
 * project-owned data takes the project id as a parameter.
 */
export interface MetadataStore {
  readonly db: Kysely<Database>;
  readonly dialect: DialectCapabilities;
  /** Runs `fn` in one transaction: all of its writes become visible together, or none does. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /** Cheap liveness check of the connection, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A random, non-sequential id with a readable prefix (`prj_...`), 128 bits of randomness. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
