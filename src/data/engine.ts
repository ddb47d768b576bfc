import { mkdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface DataEngineOptions {
  /** MASS_HOME: DuckDB spills below `<home>/tmp/duckdb`; imports work in `<home>/tmp/data`. */
  readonly home: string;
  /** DuckDB's memory_limit, e.g. '2GB' (default: DuckDB's own, 80% of RAM). */
  readonly memoryLimit?: string | undefined;
  /** DuckDB's worker threads (default: DuckDB's own, one per core). */
  readonly threads?: number | undefined;
  /** Folders besides MASS_HOME that DuckDB may read and write (e.g. the system temp folder). */
  readonly extraDirectories?: readonly string[] | undefined;
}

/**
 * Defence in depth: DuckDB may touch files only below the given folders, and its configuration is
 * locked. Every path Mass hands it is built by Mass and quoted, but a future mistake must not turn
 * into reading /etc/passwd through read_csv or writing anywhere through COPY.
 */
export async function lockDown(instance: DuckDBInstance, directories: readonly string[]): Promise<void> {
  const c = await instance.connect();
  try {
    const list = directories.map((d) => quoteLiteral(d.endsWith(sep) ? d : d + sep)).join(', ');
    await c.run(`SET GLOBAL allowed_directories = [${list}]`);
    await c.run('SET GLOBAL enable_external_access = false');
    await c.run('SET GLOBAL lock_configuration = true');
  } finally {
    c.closeSync();
  }
}

/**
 * The one DuckDB of this process: an in-memory instance created on first use, shared by every
 * import, profile, preview and recipe. DuckDB is the engine (a library); the SQL it runs is
 * always built by Mass from quoted identifiers and literals, never pasted from user text.
 */
export class DataEngine {
  private instance: Promise<DuckDBInstance> | undefined;
  /** Scratch folder for imports (one sub-folder per import, removed when it ends). */
  readonly workDir: string;
  private readonly spillDir: string;

  constructor(private readonly options: DataEngineOptions) {
    this.workDir = join(options.home, 'tmp', 'data');
    this.spillDir = join(options.home, 'tmp', 'duckdb');
  }

  private open(): Promise<DuckDBInstance> {
    this.instance ??= (async () => {
      mkdirSync(this.spillDir, { recursive: true });
      mkdirSync(this.workDir, { recursive: true });
      const settings: Record<string, string> = {
        temp_directory: this.spillDir,
        // No extension is ever fetched or loaded behind our back (json and parquet are built in).
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
      };
      if (this.options.memoryLimit) settings.memory_limit = this.options.memoryLimit;
      if (this.options.threads) settings.threads = String(this.options.threads);
      const instance = await DuckDBInstance.create(':memory:', settings);
      await lockDown(instance, [resolve(this.options.home), ...(this.options.extraDirectories ?? [])]);
      return instance;
    })();
    this.instance.catch(() => (this.instance = undefined));
    return this.instance;
  }

  /** Runs `fn` on a fresh connection of the shared instance; the connection is closed after. */
  async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const db = await this.open();
    const connection = await db.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  }

  /** A DuckDB identifier, quoted: any column name becomes safe to place in SQL. */
  quoteIdent(name: string): string {
    return quoteIdent(name);
  }

  /** A DuckDB string literal. */
  quoteLiteral(value: string): string {
    return quoteLiteral(value);
  }

  async close(): Promise<void> {
    const pending = this.instance;
    this.instance = undefined;
    if (pending) (await pending).closeSync();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL character cannot be quoted');
  return `'${value.replaceAll("'", "''")}'`;
}
