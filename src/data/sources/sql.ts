import { AppError } from '../../errors/index.js';

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

/** Statements and functions that write, lock, run other SQL or reach the server's files. */
const REFUSED_WORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'REPLACE',
  'DROP',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'RENAME',
  'GRANT',
  'REVOKE',
  'COPY',
  'CALL',
  'EXEC',
  'EXECUTE',
  'DO',
  'LOCK',
  'UNLOCK',
  'SET',
  'RESET',
  'INTO',
  'OUTFILE',
  'DUMPFILE',
  'ATTACH',
  'DETACH',
  'PRAGMA',
  'VACUUM',
  'REINDEX',
  'ANALYZE',
  'HANDLER',
  'LOAD',
  'PREPARE',
  'DEALLOCATE',
  'LISTEN',
  'NOTIFY',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'BEGIN',
  'START',
  'DECLARE',
  'FETCH',
  'CLOSE',
  'DISCARD',
  'REFRESH',
  'CLUSTER',
  'COMMENT',
  'SECURITY',
  'IMPORT',
  'SHUTDOWN',
  'KILL',
  'FLUSH',
  'INSTALL',
  'UNINSTALL',
  // functions
  'LOAD_FILE',
  'PG_READ_FILE',
  'PG_READ_BINARY_FILE',
  'PG_LS_DIR',
  'PG_STAT_FILE',
  'LO_IMPORT',
  'LO_EXPORT',
  'LO_FROM_BYTEA',
  'LO_PUT',
  'LO_CREATE',
  'LO_UNLINK',
  'PG_TERMINATE_BACKEND',
  'PG_CANCEL_BACKEND',
  'PG_RELOAD_CONF',
  'PG_ROTATE_LOGFILE',
  'SET_CONFIG',
  'DBLINK',
  'DBLINK_EXEC',
  'NEXTVAL',
  'SETVAL',
  'QUERY_TO_XML',
  'QUERY_TO_XML_AND_XMLSCHEMA',
  'CURSOR_TO_XML',
  'PG_ADVISORY_LOCK',
  'PG_ADVISORY_XACT_LOCK',
  'GET_LOCK',
  'SYS_EXEC',
  'SYS_EVAL',
  'LOAD_EXTENSION',
  'WRITEFILE',
  'READFILE',
  'EDIT',
  'FTS3_TOKENIZER',
]);

function refused(detail: string): AppError {
  return new AppError('SOURCE_QUERY_REFUSED', detail, [{ path: 'query', message: detail }]);
}

/**
 * Refuses anything but one read-only SELECT or WITH statement. One layer of several: the query also
 * runs in a read-only transaction (SQLite: a read-only handle) with a time limit, so a statement
 * this check misses still cannot write. Words inside strings, quoted names and comments are ignored.
 */
export function checkReadOnlyQuery(query: string, dialect: SqlDialect): void {
  if (query.length > 100_000) throw refused('the query is longer than 100,000 characters');
  if (query.includes('\0')) throw refused('the query contains a NUL character');
  const words: string[] = [];
  let i = 0;
  let statements = 0;
  let sawContentAfterEnd = false;
  const n = query.length;
  while (i < n) {
    const c = query[i]!;
    const next = query[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      i = skipTo(query, i, '\n');
    } else if (c === '#' && dialect === 'mysql') {
      i = skipTo(query, i, '\n');
    } else if (c === '/' && next === '*') {
      if (dialect === 'mysql' && (query[i + 2] === '!' || query[i + 2] === '+'))
        throw refused('MySQL executable comments (/*! ... */) and optimizer hints are not allowed');
      i = skipBlockComment(query, i, dialect === 'postgres');
    } else if (c === "'" || (c === '"' && dialect !== 'postgres' && dialect !== 'sqlite')) {
      i = skipQuoted(query, i, c, dialect === 'mysql');
    } else if (c === '"' || c === '`' || (c === '[' && dialect === 'sqlite')) {
      i = skipQuoted(query, i, c === '[' ? ']' : c, false, c);
    } else if (c === '$' && dialect === 'postgres' && /^\$[A-Za-z_]*\$/.test(query.slice(i, i + 65))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(query.slice(i, i + 65))![0];
      const end = query.indexOf(tag, i + tag.length);
      if (end < 0) throw refused('an unterminated dollar-quoted string');
      i = end + tag.length;
    } else if (c === ';') {
      statements++;
      i++;
    } else {
      if (statements > 0) sawContentAfterEnd = true;
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(query.slice(i, i + 256));
      if (m) {
        // E'...' (PostgreSQL escape strings), N'...', X'...', B'...' and _charset'...' prefixes.
        if (query[i + m[0].length] === "'" && (/^[EeNnXxBbUu]$/.test(m[0]) || m[0].startsWith('_'))) {
          i = skipQuoted(query, i + m[0].length, "'", dialect === 'mysql' || /^[Ee]$/.test(m[0]));
          continue;
        }
        words.push(m[0].toUpperCase());
        i += m[0].length;
      } else {
        i++;
      }
    }
  }
  if (sawContentAfterEnd || statements > 1)
    throw refused('only one statement may be run; remove the extra ";"');
  const first = words[0];
  if (first === undefined) throw refused('the query is empty');
  if (first !== 'SELECT' && first !== 'WITH')
    throw refused(`only a SELECT or WITH query may be run, not ${first}`);
  const bad = words.find((w) => REFUSED_WORDS.has(w));
  if (bad) throw refused(`the query uses ${bad}, which is not allowed in a read-only import`);
}

function skipTo(s: string, i: number, ch: string): number {
  const end = s.indexOf(ch, i);
  return end < 0 ? s.length : end + 1;
}

function skipBlockComment(s: string, i: number, nested: boolean): number {
  let depth = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      depth++;
      i += 2;
      if (!nested && depth > 1) depth = 1;
    } else if (s[i] === '*' && s[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  throw refused('an unterminated /* comment');
}

function skipQuoted(s: string, i: number, close: string, backslash: boolean, open = close): number {
  i += open.length;
  while (i < s.length) {
    const c = s[i]!;
    if (backslash && c === '\\') i += 2;
    else if (c === close) {
      if (s[i + 1] === close && close !== ']') i += 2;
      else return i + 1;
    } else i++;
  }
  throw refused('an unterminated quoted string or name');
}

/** `name` or `schema.name` as a quoted identifier of the dialect; each part 1..128 characters. */
export function quoteTable(table: string, dialect: SqlDialect): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0 || p.length > 128 || p.includes('\0')))
    throw new AppError('VALIDATION_FAILED', 'table: give a table name, or schema.table', [
      { path: 'table', message: 'give a table name, or schema.table' },
    ]);
  return parts
    .map((p) => (dialect === 'mysql' ? `\`${p.replace(/`/g, '``')}\`` : `"${p.replace(/"/g, '""')}"`))
    .join('.');
}
