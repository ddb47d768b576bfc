// Runs one read-only SQLite query in its own process, so that the parent can stop a query stuck
// inside SQLite (better-sqlite3 is synchronous and cannot be interrupted) by killing the process.
// Protocol over IPC: the parent sends one ChildRequest; the child answers with progress messages
// and one final message, then exits.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError } from '../../errors/index.js';
import { RowEncoder, type RowLimits } from './rows.js';

export interface ChildRequest {
  readonly path: string;
  readonly sql: string;
  readonly out: string;
  readonly limits: RowLimits;
}

export type ChildMessage =
  | { readonly type: 'rows'; readonly rows: number }
  | { readonly type: 'done'; readonly columns: string[]; readonly rows: number; readonly bytes: number }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

function runQuery(request: ChildRequest): ChildMessage {
  const db = new Database(request.path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('query_only = ON');
    db.pragma('trusted_schema = OFF');
    const stmt = db.prepare(request.sql);
    // SQLite's own verdict: a statement that could write the database is refused before it runs.
    if (!stmt.reader || !stmt.readonly)
      return {
        type: 'error',
        code: 'SOURCE_QUERY_REFUSED',
        message: 'SQLite reports that the statement writes or returns no rows',
      };
    stmt.raw(true);
    const encoder = new RowEncoder(
      stmt.columns().map((c) => c.name),
      request.limits,
    );
    const fd = openSync(request.out, 'wx', 0o600);
    try {
      let pending = '';
      for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
        pending += encoder.encode(row);
        if (pending.length >= 1 << 20) {
          writeSync(fd, pending);
          pending = '';
          process.send!({ type: 'rows', rows: encoder.rows } satisfies ChildMessage);
        }
      }
      if (pending) writeSync(fd, pending);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { type: 'done', columns: [...encoder.columns], rows: encoder.rows, bytes: encoder.bytes };
  } finally {
    db.close();
  }
}

process.once('message', (request: ChildRequest) => {
  let answer: ChildMessage;
  try {
    answer = runQuery(request);
  } catch (error) {
    answer =
      error instanceof AppError
        ? { type: 'error', code: error.code, message: error.message }
        : {
            type: 'error',
            code: 'SOURCE_QUERY_FAILED',
            message: `SQLite: ${error instanceof Error ? error.message : String(error)}`,
          };
  }
  void send(answer).then(() => process.exit(0));
});
