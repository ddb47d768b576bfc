import { AppError } from '../../errors/index.js';

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

/** Statements and clauses that write, lock, run other SQL or reach the server's files. */
const REFUSED_KEYWORDS = [
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
];

/** Functions that write, lock, run other SQL, or reach the server's files or other servers. */
const REFUSED_FUNCTIONS = new Set([
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
  'DBLINK_CONNECT',
  'DBLINK_CONNECT_U',
  'DBLINK_SEND_QUERY',
  'DBLINK_OPEN',
  'PG_LS_LOGDIR',
  'PG_LS_WALDIR',
  'PG_LS_TMPDIR',
  'PG_LS_ARCHIVE_STATUSDIR',
  'PG_LS_LOGICALMAPDIR',
  'PG_LS_LOGICALSNAPDIR',
  'PG_LS_REPLSLOTDIR',
  'PG_FILE_WRITE',
  'PG_FILE_RENAME',
  'PG_FILE_UNLINK',
  'PG_FILE_SYNC',
  'PG_LOGDIR_LS',
  'LO_GET',
  'LO_OPEN',
  'LOREAD',
  'LOWRITE',
  'LO_TRUNCATE',
  'PG_NOTIFY',
  'PG_PROMOTE',
  'PG_SWITCH_WAL',
  'PG_CREATE_RESTORE_POINT',
  'PG_LOGICAL_EMIT_MESSAGE',
  'PG_LOGICAL_SLOT_GET_CHANGES',
  'PG_LOGICAL_SLOT_GET_BINARY_CHANGES',
  'PG_REPLICATION_SLOT_ADVANCE',
  'PG_CREATE_PHYSICAL_REPLICATION_SLOT',
  'PG_CREATE_LOGICAL_REPLICATION_SLOT',
  'PG_DROP_REPLICATION_SLOT',
  'PG_IMPORT_SYSTEM_COLLATIONS',
  'PG_LOG_BACKEND_MEMORY_CONTEXTS',
  'PG_ADVISORY_LOCK_SHARED',
  'PG_ADVISORY_XACT_LOCK_SHARED',
  'PG_TRY_ADVISORY_LOCK',
  'PG_TRY_ADVISORY_XACT_LOCK',
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
  'FSDIR',
  'ZIPFILE',
]);

const REFUSED_WORDS = new Set([...REFUSED_KEYWORDS, ...REFUSED_FUNCTIONS]);

function refusedWord(word: string): boolean {
  return REFUSED_WORDS.has(word) || word.startsWith('DBLINK_');
}

/** A quoted name is checked against the functions only: `"update"` is a fine column name. */
function refusedQuotedName(name: string): boolean {
  const upper = name.toUpperCase();
  return REFUSED_FUNCTIONS.has(upper) || upper === 'DBLINK' || upper.startsWith('DBLINK_');
}

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
    } else if (
      c === '-' &&
      next === '-' &&
      // MySQL: `--` starts a comment only when a space, a control character or the end follows;
      // `--1` is two minus signs, and whatever follows is SQL.
      (dialect !== 'mysql' || i + 2 >= n || query.charCodeAt(i + 2) <= 0x20)
    ) {
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
      const close = c === '[' ? ']' : c;
      const end = skipQuoted(query, i, close, false, c);
      // A quoted name is still a name: `"pg_read_file"('/etc/passwd')` calls the function.
      const name = query
        .slice(i + 1, end - 1)
        .split(close + close)
        .join(close);
      if (refusedQuotedName(name))
        throw refused(`the query uses ${name.toUpperCase()}, which is not allowed in a read-only import`);
      i = end;
    } else if (c === '$' && dialect === 'postgres' && DOLLAR_TAG.test(query.slice(i, i + 65))) {
      const tag = DOLLAR_TAG.exec(query.slice(i, i + 65))![0];
      const end = query.indexOf(tag, i + tag.length);
      if (end < 0) throw refused('an unterminated dollar-quoted string');
      i = end + tag.length;
    } else if (c === ';') {
      statements++;
      i++;
    } else {
      if (statements > 0) sawContentAfterEnd = true;
      const m = WORD.exec(query.slice(i, i + 256));
      if (m) {
        // U&"..." names may spell any name with escapes (U&"\0070g_read_file"); not checkable here.
        if (dialect === 'postgres' && /^[Uu]$/.test(m[0]) && query.startsWith('&"', i + 1))
          throw refused('Unicode-escaped quoted names (U&"...") are not allowed');
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
  const bad = words.find(refusedWord);
  if (bad) throw refused(`the query uses ${bad}, which is not allowed in a read-only import`);
}

// Names may hold letters beyond ASCII and `$` (after the first character), as the servers' lexers
// allow: `é$x$` is one name, not a name followed by a dollar-quoted string.
const WORD = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;
// PostgreSQL dollar-quote tags: $$ or $tag$, the tag a name without `$`.
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

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
