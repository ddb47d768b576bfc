import { fork } from 'node:child_process';
import Database from 'better-sqlite3';
import { AppError, type ErrorCode, ERROR_CODES } from '../../errors/index.js';
import type { ConnectionSpec, ReadOptions, ReadResult, SourceDriver } from './driver.js';
import { sourceError } from './errors.js';
import type { ChildMessage, ChildRequest } from './sqlite-child.js';

function pathOf(spec: ConnectionSpec): string {
  if (!spec.path) throw sourceError('SOURCE_UNREACHABLE', 'the connection names no SQLite file');
  return spec.path;
}

export const sqliteDriver: SourceDriver = {
  async test(spec) {
    let db: Database.Database | undefined;
    try {
      db = new Database(pathOf(spec), { readonly: true, fileMustExist: true });
      const row = db.prepare('SELECT sqlite_version() AS v, count(*) AS n FROM sqlite_schema').get() as {
        v: string;
      };
      return { version: `SQLite ${row.v}` };
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw sourceError('SOURCE_UNREACHABLE', `cannot open the SQLite file: ${(error as Error).message}`);
    } finally {
      db?.close();
    }
  },

  read(spec, options: ReadOptions): Promise<ReadResult> {
    const path = pathOf(spec);
    return new Promise<ReadResult>((resolve, reject) => {
      const child = fork(new URL('./sqlite-child.js', import.meta.url), [], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      let settled = false;
      let stderr = '';
      const finish = (error: unknown, result?: ReadResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        if (child.exitCode === null) child.kill('SIGKILL');
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(result!);
      };
      const timer = setTimeout(
        () =>
          finish(
            sourceError(
              'SOURCE_TIMEOUT',
              `the query ran longer than the time limit (${options.timeoutMs / 1000} s) and was stopped`,
            ),
          ),
        options.timeoutMs,
      );
      const onAbort = () => finish(options.signal.reason ?? new Error('cancelled'));
      options.signal.addEventListener('abort', onAbort, { once: true });
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'rows') options.onRows(m.rows);
        else if (m.type === 'done') finish(undefined, { columns: m.columns, rows: m.rows, bytes: m.bytes });
        else {
          const code = (m.code in ERROR_CODES ? m.code : 'SOURCE_QUERY_FAILED') as ErrorCode;
          finish(new AppError(code, m.message));
        }
      });
      child.on('error', (error) => finish(error));
      child.on('exit', (code, signal) =>
        finish(new Error(`the SQLite reader exited (${signal ?? code}) without an answer: ${stderr.trim()}`)),
      );
      const request: ChildRequest = { path, sql: options.sql, out: options.out, limits: options.limits };
      child.send(request);
    });
  },
};
