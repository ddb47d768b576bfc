import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/errors/index.js';

test('docs/errors.md lists every error code with its status, and no other', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)`\s*\| (\d{3})\s*\|/gm)].map(
    (m) => [m[1]!, Number(m[2])] as const,
  );
  const documented = new Map(rows);
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), status, `${code} (${status}) is documented with its status`);
  }
  assert.equal(documented.size, Object.keys(ERROR_CODES).length, 'no stale codes in the doc');
});
