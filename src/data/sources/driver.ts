import type { ResolvedAddress } from './hosts.js';
import type { RowLimits } from './rows.js';

export const CONNECTION_KINDS = ['postgres', 'mysql', 'sqlite'] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

export const SSL_MODES = ['disable', 'require', 'verify'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Everything needed to open a connection, password decrypted: lives only in memory, inside a job or a test call. */
export interface ConnectionSpec {
  readonly kind: ConnectionKind;
  readonly host: string | null;
  readonly port: number | null;
  readonly database: string | null;
  readonly user: string | null;
  readonly password: string | null;
  readonly ssl: { readonly mode: SslMode; readonly ca?: string | undefined };
  /** sqlite: the real path of the file, already checked against the allowed folders. */
  readonly path: string | null;
  /**
   * postgres / mysql: the addresses `host` resolved to when it was checked; the driver connects
   * to these (the host name still serves TLS). Undefined: the driver resolves `host` itself
   * (MASS_ALLOW_LOCAL_DATABASES, or a spec built by hand).
   */
  readonly addresses?: readonly ResolvedAddress[] | undefined;
}

export interface ReadOptions {
  /** A query that passed checkReadOnlyQuery. */
  readonly sql: string;
  /** The JSON Lines file to write (created; the caller deletes it). */
  readonly out: string;
  readonly limits: RowLimits;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly onRows: (rows: number) => void;
}

export interface ReadResult {
  readonly columns: readonly string[];
  readonly rows: number;
  readonly bytes: number;
}

/** One kind of database. Errors are AppErrors with a SOURCE_* code and a message safe to show. */
export interface SourceDriver {
  /** Connects and returns the server's version. */
  test(spec: ConnectionSpec, timeoutMs: number): Promise<{ version: string }>;
  /** Runs a query in a read-only transaction with a time limit and streams its rows to `out`. */
  read(spec: ConnectionSpec, options: ReadOptions): Promise<ReadResult>;
}
