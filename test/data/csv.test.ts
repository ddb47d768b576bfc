import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CsvSchemaSniffer } from '../../src/data/csv.js';
import { readCsvColumns } from '../../src/data/read.js';
import { parseNumber } from '../../src/data/schema.js';

async function sniff(text: string, chunk = 7) {
  const s = new CsvSchemaSniffer();
  // Small chunks: rows and quoted fields cross chunk boundaries.
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) s.write(bytes.subarray(i, i + chunk));
  return s.end();
}

test('types are inferred: numeric, integer, boolean, categorical, text; blanks and NA are missing', async () => {
  const lines = ['id,amount,approved,region,comment'];
  for (let i = 0; i < 120; i++) {
    const comment = `customer ${i} called about the statement of account number ${i * 7} and was helped`;
    lines.push(
      `${i},${i % 10 === 0 ? 'NA' : (i * 1.5).toFixed(1)},${i % 2 ? 'yes' : 'no'},${['north', 'south', ''][i % 3]},"${comment}"`,
    );
  }
  const schema = await sniff(lines.join('\r\n') + '\r\n');
  assert.equal(schema.rowCount, 120);
  const byName = Object.fromEntries(schema.columns.map((c) => [c.name, c]));
  assert.equal(byName.id!.type, 'numeric');
  assert.equal(byName.id!.integer, true);
  assert.equal(byName.amount!.type, 'numeric');
  assert.equal(byName.amount!.missing, 12);
  assert.equal(byName.amount!.integer, false);
  assert.equal(byName.approved!.type, 'boolean');
  assert.equal(byName.region!.type, 'categorical');
  assert.equal(byName.region!.missing, 40);
  assert.equal(byName.region!.distinct, 2);
  assert.equal(byName.comment!.type, 'text');
});

test('quoted fields with commas, quotes and newlines, and a UTF-8 BOM, are read', async () => {
  const schema = await sniff('\ufeffname,note\n"Smith, J.","said ""hi""\nand left"\nDoe,plain\n', 3);
  assert.deepEqual(
    schema.columns.map((c) => c.name),
    ['name', 'note'],
  );
  assert.equal(schema.rowCount, 2);
});

test('bad call: ragged rows, bad quotes, empty input, duplicate headers are refused', async () => {
  await assert.rejects(
    sniff('a,b\n1,2,3\n'),
    (e: Error & { code?: string }) => e.code === 'CSV_INVALID' && /line 2/.test(e.message),
  );
  await assert.rejects(sniff('a,b\n"1,2\n'), { code: 'CSV_INVALID' });
  await assert.rejects(sniff(''), { code: 'DATASET_EMPTY' });
  await assert.rejects(sniff('a,a\n1,2\n'), { code: 'CSV_INVALID' });
});

test('numbers are parsed strictly: no partial parses, no empty zero, no infinities', () => {
  assert.equal(parseNumber(' 1.5e3 '), 1500);
  assert.ok(Number.isNaN(parseNumber('')));
  assert.ok(Number.isNaN(parseNumber('12abc')));
  assert.ok(Number.isNaN(parseNumber('Infinity')));
  assert.ok(Number.isNaN(parseNumber('0x')));
});

test('stored files read back as typed columns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mass-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'd.csv');
  const text = 'x,flag,city\n1.5,yes,Oslo\n,no,\n3,YES, Bergen \n';
  writeFileSync(path, text);
  const schema = await sniff(text);
  const columns = await readCsvColumns(path, schema.columns, schema.rowCount);
  const [x, flag, city] = columns;
  assert.equal(x!.kind, 'numeric');
  assert.deepEqual([...(x!.values as Float64Array)], [1.5, NaN, 3]);
  assert.deepEqual(flag!.values, ['true', 'false', 'true']);
  assert.deepEqual(city!.values, ['Oslo', null, 'Bergen']);
});
