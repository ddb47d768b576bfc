// The pieces of the source security model that need no server: the read-only statement check,
// table quoting, and the encryption of connection passwords.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SecretBox } from '../../../src/data/sources/secrets.js';
import { checkReadOnlyQuery, quoteTable, type SqlDialect } from '../../../src/data/sources/sql.js';

const DIALECTS: SqlDialect[] = ['postgres', 'mysql', 'sqlite'];

test('single SELECT and WITH queries pass, whatever their strings, comments and quoted names hold', () => {
  const ok = [
    'SELECT * FROM t',
    'select a, b from t where c = 1;',
    "SELECT 'DROP TABLE t; DELETE' AS s",
    'SELECT "update", "insert" FROM t',
    '-- DELETE FROM t\nSELECT 1',
    '/* UPDATE t SET x = 1 */ SELECT 1',
    'WITH x AS (SELECT 1 AS a) SELECT a FROM x',
    "SELECT 'it''s; fine'",
    '  SELECT 1  ;  ',
  ];
  for (const d of DIALECTS)
    for (const q of ok) assert.doesNotThrow(() => checkReadOnlyQuery(q, d), `${d}: ${q}`);
  assert.doesNotThrow(() => checkReadOnlyQuery('SELECT $$ ; DROP TABLE t $$ AS s', 'postgres'));
  assert.doesNotThrow(() => checkReadOnlyQuery("SELECT E'\\' ; DROP' AS s", 'postgres'));
  assert.doesNotThrow(() => checkReadOnlyQuery('SELECT `delete` FROM t', 'mysql'));
  assert.doesNotThrow(() => checkReadOnlyQuery("SELECT 'a\\'; DROP TABLE t; --' AS s", 'mysql'));
  assert.doesNotThrow(() => checkReadOnlyQuery('SELECT [update] FROM t', 'sqlite'));
});

test('bad call: writes, DDL, several statements, locks, file access and hidden statements are refused', () => {
  const refused = [
    'INSERT INTO t VALUES (1)',
    'UPDATE t SET a = 1',
    'DELETE FROM t',
    'DROP TABLE t',
    'TRUNCATE t',
    'CREATE TABLE x (a int)',
    'ALTER TABLE t ADD b int',
    'GRANT ALL ON t TO x',
    'SELECT 1; SELECT 2',
    'SELECT 1; DROP TABLE t',
    'SELECT 1;; ',
    'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    'SELECT * INTO x FROM t',
    'SELECT * FROM t FOR UPDATE',
    'EXPLAIN ANALYZE DELETE FROM t',
    'COPY t TO STDOUT',
    'CALL p()',
    'SET x = 1',
    'BEGIN',
    '',
    '   ;',
    'SELECT 1 /* unterminated',
    "SELECT 'unterminated",
  ];
  for (const d of DIALECTS)
    for (const q of refused)
      assert.throws(
        () => checkReadOnlyQuery(q, d),
        { code: 'SOURCE_QUERY_REFUSED' },
        `${d}: ${JSON.stringify(q)}`,
      );
  for (const q of [
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "SELECT nextval('s')",
    "SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(a int)",
    "SELECT query_to_xml('DELETE FROM t', true, false, '')",
    'SELECT $$x$$; DROP TABLE t',
  ])
    assert.throws(() => checkReadOnlyQuery(q, 'postgres'), { code: 'SOURCE_QUERY_REFUSED' }, q);
  for (const q of [
    "SELECT LOAD_FILE('/etc/passwd')",
    "SELECT * FROM t INTO OUTFILE '/tmp/x'",
    '/*!50000 DROP TABLE t */ SELECT 1',
    'SELECT 1 # ok\n; DROP TABLE t',
  ])
    assert.throws(() => checkReadOnlyQuery(q, 'mysql'), { code: 'SOURCE_QUERY_REFUSED' }, q);
  for (const q of [
    "ATTACH DATABASE '/tmp/x' AS x",
    'PRAGMA writable_schema = 1',
    "SELECT load_extension('x')",
  ])
    assert.throws(() => checkReadOnlyQuery(q, 'sqlite'), { code: 'SOURCE_QUERY_REFUSED' }, q);
});

test('table names are quoted, never pasted', () => {
  assert.equal(quoteTable('people', 'postgres'), '"people"');
  assert.equal(quoteTable('public.people', 'postgres'), '"public"."people"');
  assert.equal(quoteTable('a"; DROP TABLE t; --', 'postgres'), '"a""; DROP TABLE t; --"');
  assert.equal(quoteTable('we`ird', 'mysql'), '`we``ird`');
  assert.throws(() => quoteTable('a.b.c', 'postgres'), { code: 'VALIDATION_FAILED' });
  assert.throws(() => quoteTable('.x', 'sqlite'), { code: 'VALIDATION_FAILED' });
});

test('passwords: AES-256-GCM bound to their row; the key file is made once with mode 0600', async () => {
  const home = mkdtempSync(join(tmpdir(), 'mass-secret-'));
  try {
    const box = await SecretBox.open({ secretKey: undefined, home });
    assert.equal(statSync(join(home, 'secret.key')).mode & 0o777, 0o600);
    const token = box.encrypt('hunter2', 'conn_a');
    assert.ok(!token.includes('hunter2'));
    assert.notEqual(box.encrypt('hunter2', 'conn_a'), token, 'a fresh IV every time');
    assert.equal(box.decrypt(token, 'conn_a'), 'hunter2');
    assert.throws(() => box.decrypt(token, 'conn_b'), /cannot be decrypted/, 'copied to another row');
    const parts = token.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    assert.throws(() => box.decrypt(parts.join('.'), 'conn_a'), /cannot be decrypted/);
    const reopened = await SecretBox.open({ secretKey: undefined, home });
    assert.equal(reopened.decrypt(token, 'conn_a'), 'hunter2', 'the key file is reused');
    const other = await SecretBox.open({ secretKey: Buffer.alloc(32, 7).toString('base64'), home });
    assert.throws(() => other.decrypt(token, 'conn_a'), /cannot be decrypted/);
    await assert.rejects(SecretBox.open({ secretKey: 'too-short', home }), /32 random bytes/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
