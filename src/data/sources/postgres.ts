import { open } from 'node:fs/promises';
import pg from 'pg';
import { AppError } from '../../errors/index.js';
import type { ConnectionSpec, ReadOptions, ReadResult, SourceDriver } from './driver.js';
import { networkError, safeMessage, sourceError } from './errors.js';
import { pinnedLookup, pinnedSocket } from './hosts.js';
import { LineBuffer, numberFromText, RowEncoder } from './rows.js';

const FETCH_ROWS = 2_000;

// Numbers stay numbers (int8 and numeric when they fit a double), dates and times stay the
// server's text (no time-zone shifts through JS Date), JSON stays its text.
const TEXT_OIDS = new Set([1082, 1083, 1114, 1184, 1266, 1186, 114, 3802, 17]);
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === 20 || oid === 1700) return numberFromText;
    if (TEXT_OIDS.has(oid)) return (value: string) => value;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

function clientFor(spec: ConnectionSpec, timeoutMs: number): pg.Client {
  const ssl =
    spec.ssl.mode === 'disable'
      ? false
      : { rejectUnauthorized: spec.ssl.mode === 'verify', ...(spec.ssl.ca ? { ca: spec.ssl.ca } : {}) };
  const addresses = spec.addresses;
  return new pg.Client({
    // The checked addresses, whatever DNS answers now; `host` stays the name for TLS.
    ...(addresses && addresses.length > 0 ? { stream: () => pinnedSocket(pinnedLookup(addresses)) } : {}),
    host: spec.host ?? '127.0.0.1',
    port: spec.port ?? 5432,
    database: spec.database ?? undefined,
    user: spec.user ?? undefined,
    password: spec.password ?? '',
    ssl,
    application_name: 'mass-import',
    connectionTimeoutMillis: Math.min(timeoutMs, 30_000),
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: timeoutMs + 5_000,
    // Every transaction of this session is read-only unless it says otherwise (it never does).
    // standard_conforming_strings=on: a backslash in '...' is an ordinary character, as the
    // read-only check reads it (with it off, 'a\' hides the rest of the string from the check).
    options: '-c default_transaction_read_only=on -c TimeZone=UTC -c standard_conforming_strings=on',
  });
}

function where(spec: ConnectionSpec): string {
  return `PostgreSQL at ${spec.host ?? '127.0.0.1'}:${spec.port ?? 5432}`;
}

/** Maps a PostgreSQL or network error to a SOURCE_* AppError without echoing the password. */
function mapError(error: unknown, spec: ConnectionSpec, timedOut: boolean) {
  const secrets = [spec.password];
  if (timedOut)
    return sourceError('SOURCE_TIMEOUT', `the query ran longer than the time limit and was stopped`);
  const net = networkError(error, where(spec), secrets);
  if (net) return net;
  const code = String((error as { code?: unknown }).code ?? '');
  const message = safeMessage(error, secrets);
  if (code === '28P01' || code === '28000')
    return sourceError(
      'SOURCE_AUTH_FAILED',
      `${where(spec)} refused user ${JSON.stringify(spec.user)}: ${message}`,
    );
  if (code === '3D000' || (code === '42501' && /connect/i.test(message)))
    return sourceError('SOURCE_AUTH_FAILED', `${where(spec)}: ${message}`);
  if (code === '57014')
    return sourceError('SOURCE_TIMEOUT', `the query ran longer than the time limit: ${message}`);
  if (code === '25006')
    return sourceError(
      'SOURCE_QUERY_REFUSED',
      `the query tried to write, which the read-only transaction refused: ${message}`,
    );
  if (/^(42|22|0A|2B|3F|54|53)/.test(code))
    return sourceError('SOURCE_QUERY_FAILED', `PostgreSQL: ${message} (${code})`);
  if (/Connection terminated|ECONNRESET|terminating connection/i.test(message))
    return sourceError('SOURCE_UNREACHABLE', `${where(spec)} closed the connection: ${message}`);
  return sourceError('SOURCE_QUERY_FAILED', `PostgreSQL: ${message}${code ? ` (${code})` : ''}`);
}

export const postgresDriver: SourceDriver = {
  async test(spec, timeoutMs) {
    const client = clientFor(spec, timeoutMs);
    client.on('error', () => undefined);
    try {
      await client.connect();
      const r = await client.query<{ v: string }>('SELECT version() AS v');
      return { version: r.rows[0]?.v ?? 'PostgreSQL' };
    } catch (error) {
      throw mapError(error, spec, false);
    } finally {
      await client.end().catch(() => undefined);
    }
  },

  async read(spec, options: ReadOptions): Promise<ReadResult> {
    const client = clientFor(spec, options.timeoutMs);
    // A broken connection emits 'error' on the client; the pending query rejects with it as well.
    client.on('error', () => undefined);
    let timedOut = false;
    const stop = () => void client.end().catch(() => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs + 2_000);
    options.signal.addEventListener('abort', stop, { once: true });
    const file = await open(options.out, 'wx', 0o600);
    try {
      await client.connect();
      await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The extended protocol (Parse/Bind/Execute) takes exactly one statement, so the server
      // refuses a second one the read-only check might have missed.
      await client.query({
        text: `DECLARE mass_import NO SCROLL CURSOR FOR ${options.sql.replace(/;\s*$/, '')}`,
        queryMode: 'extended',
      } as pg.QueryConfig & { queryMode: 'extended' });
      let encoder: RowEncoder | undefined;
      const out = new LineBuffer(async (text) => void (await file.write(text)));
      for (;;) {
        options.signal.throwIfAborted();
        const batch = await client.query<unknown[]>({
          text: `FETCH FORWARD ${FETCH_ROWS} FROM mass_import`,
          rowMode: 'array',
          types,
        });
        encoder ??= new RowEncoder(
          batch.fields.map((f) => f.name),
          options.limits,
        );
        for (const row of batch.rows) await out.push(encoder.encode(row));
        options.onRows(encoder.rows);
        if (batch.rows.length < FETCH_ROWS) break;
      }
      await out.flush();
      await client.query('ROLLBACK');
      await file.sync();
      return { columns: encoder?.columns ?? [], rows: encoder?.rows ?? 0, bytes: encoder?.bytes ?? 0 };
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason ?? error;
      if (error instanceof AppError) throw error;
      throw mapError(error, spec, timedOut);
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      await file.close().catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  },
};
