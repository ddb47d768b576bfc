import { open } from 'node:fs/promises';
import net from 'node:net';
import mysql from 'mysql2';
import { AppError } from '../../errors/index.js';
import type { ConnectionSpec, ReadOptions, ReadResult, SourceDriver } from './driver.js';
import { networkError, safeMessage, sourceError } from './errors.js';
import { pinnedLookup } from './hosts.js';
import { LineBuffer, numberFromText, RowEncoder } from './rows.js';

type Conn = mysql.Connection;

function connectionFor(spec: ConnectionSpec, timeoutMs: number): Conn {
  return mysql.createConnection(mysqlOptions(spec, timeoutMs));
}

/** The driver's options for a connection spec (exported for tests). */
export function mysqlOptions(spec: ConnectionSpec, timeoutMs: number): mysql.ConnectionOptions {
  const host = spec.host ?? '127.0.0.1';
  const port = spec.port ?? 3306;
  const addresses = spec.addresses;
  return {
    host,
    port,
    // The checked addresses, whatever DNS answers now; `host` stays the name for TLS.
    ...(addresses && addresses.length > 0
      ? {
          stream: () => {
            const socket = net.connect({ port, host, lookup: pinnedLookup(addresses) });
            socket.setNoDelay(true);
            return socket;
          },
        }
      : {}),
    ...(spec.database ? { database: spec.database } : {}),
    user: spec.user ?? '',
    password: spec.password ?? '',
    ...(spec.ssl.mode === 'disable'
      ? {}
      : {
          ssl: {
            rejectUnauthorized: spec.ssl.mode === 'verify',
            // mysql2 checks the certificate's host name only when asked (`host` is the name,
            // whatever address the socket was pinned to).
            verifyIdentity: spec.ssl.mode === 'verify',
            ...(spec.ssl.ca ? { ca: spec.ssl.ca } : {}),
          },
        }),
    connectTimeout: Math.min(timeoutMs, 30_000),
    // Never send the password in clear (mysql_clear_password): a server that asks for it may be
    // one that somebody pointed the connection at to collect the password.
    enableCleartextPlugin: false,
    authPlugins: { mysql_clear_password: refuseCleartext },
    // Defence in depth: the driver itself refuses several statements in one query.
    multipleStatements: false,
    // Dates and times as the server's text, JSON as text, DECIMAL and BIGINT as numbers when exact.
    dateStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4',
    typeCast(field, next) {
      if (field.type === 'NEWDECIMAL' || field.type === 'DECIMAL' || field.type === 'LONGLONG') {
        const text = field.string();
        return text === null ? null : numberFromText(text);
      }
      return next();
    },
  };
}

/** The mysql_clear_password plugin, refused: the password is never sent as plain text. */
export function refuseCleartext(): () => never {
  return () => {
    throw sourceError(
      'SOURCE_AUTH_FAILED',
      'the server asked for the password in clear text (mysql_clear_password), which Mass never sends',
    );
  };
}

/**
 * The session's sql_mode without ANSI_QUOTES and NO_BACKSLASH_ESCAPES, so that the server reads
 * quotes and backslashes as the read-only check does.
 */
async function normaliseSqlMode(conn: Conn): Promise<void> {
  const rows = (await run(conn, 'SELECT @@SESSION.sql_mode AS m')) as { m: string | null }[];
  const modes = String(rows[0]?.m ?? '')
    .split(',')
    .filter(Boolean);
  const kept = modes.filter(
    (m) => /^[A-Z_]+$/.test(m) && m !== 'ANSI_QUOTES' && m !== 'NO_BACKSLASH_ESCAPES' && m !== 'ANSI',
  );
  if (kept.length !== modes.length) await run(conn, `SET SESSION sql_mode = '${kept.join(',')}'`);
}

function where(spec: ConnectionSpec): string {
  return `MySQL/MariaDB at ${spec.host ?? '127.0.0.1'}:${spec.port ?? 3306}`;
}

function mapError(error: unknown, spec: ConnectionSpec, timedOut: boolean): AppError {
  if (error instanceof AppError) return error;
  const secrets = [spec.password];
  if (timedOut)
    return sourceError('SOURCE_TIMEOUT', 'the query ran longer than the time limit and was stopped');
  const net = networkError(error, where(spec), secrets);
  if (net) return net;
  const code = String((error as { code?: unknown }).code ?? '');
  const errno = Number((error as { errno?: unknown }).errno ?? 0);
  const message = safeMessage(error, secrets);
  if (code === 'ETIMEDOUT' || /connect ETIMEDOUT/.test(message))
    return sourceError('SOURCE_UNREACHABLE', `${where(spec)} did not answer in time`);
  if ([1045, 1044, 1049, 1698, 1251, 1130].includes(errno))
    return sourceError(
      'SOURCE_AUTH_FAILED',
      `${where(spec)} refused user ${JSON.stringify(spec.user)}: ${message}`,
    );
  // 1969: MariaDB max_statement_time; 3024: MySQL max_execution_time; 1317: killed by our timer.
  if ([1969, 3024, 1317, 1028].includes(errno))
    return sourceError('SOURCE_TIMEOUT', `the query ran longer than the time limit: ${message}`);
  if ([1792, 1290, 1836].includes(errno))
    return sourceError(
      'SOURCE_QUERY_REFUSED',
      `the query tried to write, which the read-only transaction refused: ${message}`,
    );
  if (/PROTOCOL_CONNECTION_LOST|ECONNRESET/.test(code))
    return sourceError('SOURCE_UNREACHABLE', `${where(spec)} closed the connection: ${message}`);
  return sourceError('SOURCE_QUERY_FAILED', `MySQL/MariaDB: ${message}${code ? ` (${code})` : ''}`);
}

function run(conn: Conn, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    conn.query(sql, (error, rows) => (error ? reject(error) : resolve(rows))),
  );
}

function connect(conn: Conn): Promise<void> {
  return new Promise((resolve, reject) => conn.connect((error) => (error ? reject(error) : resolve())));
}

/** Stops a running query from a second connection (KILL QUERY), for servers without a statement time limit. */
function killQuery(spec: ConnectionSpec, threadId: number | null): void {
  if (threadId === null) return;
  const killer = connectionFor(spec, 5_000);
  killer.on('error', () => undefined);
  killer.query(`KILL QUERY ${Number(threadId)}`, () => killer.destroy());
}

export const mysqlDriver: SourceDriver = {
  async test(spec, timeoutMs) {
    const conn = connectionFor(spec, timeoutMs);
    conn.on('error', () => undefined);
    try {
      await connect(conn);
      const rows = (await run(conn, 'SELECT VERSION() AS v')) as { v: string }[];
      return { version: rows[0]?.v ?? 'MySQL' };
    } catch (error) {
      throw mapError(error, spec, false);
    } finally {
      conn.destroy();
    }
  },

  async read(spec, options: ReadOptions): Promise<ReadResult> {
    const conn = connectionFor(spec, options.timeoutMs);
    conn.on('error', () => undefined);
    let timedOut = false;
    const kill = () => {
      killQuery(spec, conn.threadId);
      setTimeout(() => conn.destroy(), 2_000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs + 1_000);
    options.signal.addEventListener('abort', kill, { once: true });
    const file = await open(options.out, 'wx', 0o600);
    try {
      await connect(conn);
      await normaliseSqlMode(conn);
      const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
      // MariaDB: max_statement_time (seconds); MySQL: max_execution_time (ms, SELECT only).
      await run(conn, `SET SESSION max_statement_time = ${seconds}`).catch(() =>
        run(conn, `SET SESSION max_execution_time = ${seconds * 1000}`).catch(() => undefined),
      );
      await run(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run(conn, 'START TRANSACTION READ ONLY');
      const out = new LineBuffer(async (text) => void (await file.write(text)));
      let encoder: RowEncoder | undefined;
      await new Promise<void>((resolve, reject) => {
        const query = conn.query({ sql: options.sql.replace(/;\s*$/, ''), rowsAsArray: true });
        let failed = false;
        const fail = (error: unknown) => {
          if (failed) return;
          failed = true;
          stream.destroy();
          reject(error instanceof Error ? error : new Error(String(error)));
        };
        query.on('fields', (fields: { name: string }[]) => {
          try {
            encoder = new RowEncoder(
              fields.map((f) => f.name),
              options.limits,
            );
          } catch (error) {
            fail(error);
          }
        });
        const stream = query.stream({ highWaterMark: 1_000 });
        stream.on('error', fail);
        stream.on('data', (row: unknown[]) => {
          if (failed || !encoder) return;
          stream.pause();
          let line: string;
          try {
            line = encoder.encode(row);
          } catch (error) {
            return fail(error);
          }
          out.push(line).then(() => {
            if (encoder!.rows % 1_000 === 0) options.onRows(encoder!.rows);
            stream.resume();
          }, fail);
        });
        stream.on('end', () => {
          if (!failed) resolve();
        });
      });
      await out.flush();
      options.onRows(encoder?.rows ?? 0);
      await run(conn, 'ROLLBACK');
      await file.sync();
      return { columns: encoder?.columns ?? [], rows: encoder?.rows ?? 0, bytes: encoder?.bytes ?? 0 };
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason ?? error;
      throw mapError(error, spec, timedOut);
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', kill);
      await file.close().catch(() => undefined);
      conn.destroy();
    }
  },
};
