// Dataset import through the real HTTP server: every file format, detection and overrides, the
// stored profile, preview and sample, schema editing, versions stored as CSV before DuckDB, on
// SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { readColumns } from '../../src/data/read.js';
import { newId, nowIso } from '../../src/store/metadata.js';
import { call, SHARED_DATA, startTestServer } from '../support/server.js';
import { DIALECTS } from '../support/stores.js';

async function parquetBytes(sql: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'mass-pq-'));
  try {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const path = join(dir, 'x.parquet');
    await c.run(`COPY (${sql}) TO '${path}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function xlsxBytes(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('notes').addRow(['ignored']);
  const ws = wb.addWorksheet('sales');
  ws.addRow(['region', 'units', 'price', 'day', 'paid']);
  for (let i = 0; i < 30; i++)
    ws.addRow([['north', 'south'][i % 2], i, 1.5 * i, new Date(Date.UTC(2024, 0, 1 + i)), i % 3 === 0]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

for (const dialect of DIALECTS) {
  test(
    `files of every format become typed, profiled Parquet versions (metadata on ${dialect.name})`,
    {
      skip: dialect.skipReason(),
    },
    async (t) => {
      const fixture = await dialect.open();
      const server = await startTestServer({ databaseUrl: fixture.url });
      t.after(async () => {
        await server.dispose();
        await fixture.dispose();
      });
      const key = server.adminKey!;
      await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });
      const upload = (query: string, body: Buffer | string, type = 'text/csv') =>
        call(server, 'POST', `/v1/projects/lab/datasets?${query}`, { key, body, type });

      await t.test(
        'CSV: day/month/year dates and timestamps keep the formats the sniffer found',
        async () => {
          const lines = ['when,at,n'];
          for (let i = 0; i < 40; i++)
            lines.push(
              `${String((i % 28) + 1).padStart(2, '0')}/11/2026,2026-11-23 ${String(i % 24).padStart(2, '0')}:30:00,${i}`,
            );
          const up = await upload('name=dated', lines.join('\r\n') + '\r\n');
          assert.equal(up.status, 201, JSON.stringify(up.body));
          const types = Object.fromEntries(up.body.schema.columns.map((c: any) => [c.name, c.type]));
          assert.deepEqual(types, { when: 'datetime', at: 'datetime', n: 'integer' });
          const rows = await call(
            server,
            'GET',
            '/v1/projects/lab/datasets/dated/versions/1/rows?limit=2&offset=27',
            {
              key,
            },
          );
          assert.equal(rows.status, 200, JSON.stringify(rows.body));
          assert.deepEqual(
            rows.body.rows.map((r: any) => [r.when, r.at, r.n]),
            [
              ['2026-11-28T00:00:00.000Z', '2026-11-23T03:30:00.000Z', 27],
              ['2026-11-01T00:00:00.000Z', '2026-11-23T04:30:00.000Z', 28],
            ],
          );
        },
      );

      await t.test(
        '±Infinity and NaN in numeric columns (CSV or Parquet) are stored as missing, rows in order',
        async () => {
          const lines = ['id,x,label'];
          const bad = ['inf', '-Infinity', 'NAN', 'Infinity'];
          for (let i = 0; i < 30; i++)
            lines.push(`${i},${i % 7 === 3 ? bad[(i / 7) | 0] : (i / 4).toFixed(2)},r${i}`);
          const csv = await upload('name=infinite', lines.join('\n') + '\n');
          assert.equal(csv.status, 201, JSON.stringify(csv.body));
          const pq = await upload(
            'name=infinite-pq&format=parquet',
            await parquetBytes(
              "SELECT i AS id, CASE WHEN i % 7 = 3 THEN ['inf', '-inf', 'nan', 'inf'][(i // 7) + 1]::DOUBLE ELSE i / 4 END AS x FROM range(30) t(i)",
            ),
            'application/octet-stream',
          );
          assert.equal(pq.status, 201, JSON.stringify(pq.body));
          for (const name of ['infinite', 'infinite-pq']) {
            const profile = await call(
              server,
              'GET',
              `/v1/projects/lab/datasets/${name}/versions/1/profile`,
              { key },
            );
            const x = profile.body.columns.find((c: any) => c.name === 'x');
            assert.equal(x.type, 'numeric', name);
            assert.equal(x.missing, 4, name);
            assert.equal(x.max, 29 / 4, name);
            const rows = await call(
              server,
              'GET',
              `/v1/projects/lab/datasets/${name}/versions/1/rows?limit=30`,
              { key },
            );
            assert.deepEqual(
              rows.body.rows.map((r: any) => [r.id, r.x]),
              Array.from({ length: 30 }, (_, i) => [i, i % 7 === 3 ? null : i / 4]),
              name,
            );
          }
        },
      );

      await t.test(
        'text with spaces around is trimmed and blank text is missing (CSV, Parquet), rows in order',
        async () => {
          const lines = ['id,region,code'];
          const regions = ['  north ', 'south', '   ', 'east  ', ' west'];
          for (let i = 0; i < 25; i++) lines.push(`${i},${regions[i % 5]},k${i % 3}`);
          const csv = await upload('name=spaced', lines.join('\n') + '\n');
          assert.equal(csv.status, 201, JSON.stringify(csv.body));
          const pq = await upload(
            'name=spaced-pq&format=parquet',
            await parquetBytes(
              "SELECT i AS id, ['  north ', 'south', '   ', 'east  ', ' west'][(i % 5) + 1] AS region, 'k' || (i % 3) AS code FROM range(25) t(i)",
            ),
            'application/octet-stream',
          );
          assert.equal(pq.status, 201, JSON.stringify(pq.body));
          const expected = ['north', 'south', null, 'east', 'west'];
          for (const name of ['spaced', 'spaced-pq']) {
            const rows = await call(
              server,
              'GET',
              `/v1/projects/lab/datasets/${name}/versions/1/rows?limit=25`,
              { key },
            );
            assert.deepEqual(
              rows.body.rows.map((r: any) => [r.id, r.region, r.code]),
              Array.from({ length: 25 }, (_, i) => [i, expected[i % 5], `k${i % 3}`]),
              name,
            );
            const profile = await call(
              server,
              'GET',
              `/v1/projects/lab/datasets/${name}/versions/1/profile`,
              { key },
            );
            const region = profile.body.columns.find((c: any) => c.name === 'region');
            assert.equal(region.missing, 5, name);
            assert.equal(region.distinct, 4, name);
          }
          // Unicode spaces (no-break, ideographic) are spaces to DuckDB's trim, in a column of few
          // values (checked in the value counts) as in others.
          const unicode = ['city'];
          for (let i = 0; i < 30; i++) unicode.push(['\u00a0Paris', 'Lyon', 'Nice\u3000'][i % 3]!);
          const uni = await upload('name=spaced-unicode', unicode.join('\n') + '\n');
          assert.equal(uni.status, 201, JSON.stringify(uni.body));
          const cities = await call(
            server,
            'GET',
            '/v1/projects/lab/datasets/spaced-unicode/versions/1/rows?limit=3',
            { key },
          );
          assert.deepEqual(
            cities.body.rows.map((r: any) => r.city),
            ['Paris', 'Lyon', 'Nice'],
          );
          // Many distinct values (not counted one by one): found by the profile's full pass.
          const many = ['id,label'];
          for (let i = 0; i < 1500; i++)
            many.push(`${i},${i === 700 ? '  ' : i % 100 === 7 ? ` item ${i}  ` : `item ${i}`}`);
          const wide = await upload('name=spaced-many', many.join('\n') + '\n');
          assert.equal(wide.status, 201, JSON.stringify(wide.body));
          const profile = await call(
            server,
            'GET',
            '/v1/projects/lab/datasets/spaced-many/versions/1/profile',
            { key },
          );
          const label = profile.body.columns.find((c: any) => c.name === 'label');
          assert.equal(label.missing, 1);
          assert.equal(label.distinctApprox, true);
          const rows = await call(
            server,
            'GET',
            `/v1/projects/lab/datasets/spaced-many/versions/1/rows?offset=600&limit=200`,
            { key },
          );
          assert.deepEqual(
            rows.body.rows.map((r: any) => r.label),
            Array.from({ length: 200 }, (_, k) => (k + 600 === 700 ? null : `item ${k + 600}`)),
          );
        },
      );

      await t.test(
        'spelled missing values (NA, null, ?) only beyond the first MiB: missing in numbers, dates and text',
        async () => {
          // The head has blanks only, so the file is read with blank-only nulls first; the
          // spellings further down fail the casts (read again) or stay in text until the check.
          const spelled = ['NA', 'null', '?', 'N/A', 'None'];
          const lines = ['id,amount,day,tier,note'];
          const rows = 40_000;
          const late = (i: number) => i >= 36_000 && i % 1000 === 0;
          for (let i = 0; i < rows; i++) {
            const s = spelled[(i / 1000) % spelled.length]!;
            lines.push(
              [
                i,
                late(i) ? s : i % 9 === 0 ? '' : (i * 0.5).toFixed(1),
                late(i) ? s : `2024-02-${String((i % 28) + 1).padStart(2, '0')}`,
                late(i) ? s : ['gold', 'silver', 'bronze'][i % 3],
                late(i) ? `"${s}"` : `note ${i}`,
              ].join(','),
            );
          }
          const text = lines.join('\n') + '\n';
          assert.ok(text.indexOf('\n36000,') > 2 ** 20, 'spellings only beyond the first MiB');
          const up = await upload('name=spelled', text);
          assert.equal(up.status, 201, JSON.stringify(up.body));
          const types = Object.fromEntries(up.body.schema.columns.map((c: any) => [c.name, c.type]));
          assert.deepEqual(types, {
            id: 'integer',
            amount: 'numeric',
            day: 'datetime',
            tier: 'categorical',
            note: 'text',
          });
          const profile = await call(server, 'GET', '/v1/projects/lab/datasets/spelled/versions/1/profile', {
            key,
          });
          const missing = Object.fromEntries(profile.body.columns.map((c: any) => [c.name, c.missing]));
          const blanks = Array.from({ length: rows }, (_, i) => i).filter(
            (i) => !late(i) && i % 9 === 0,
          ).length;
          assert.deepEqual(missing, { id: 0, amount: blanks + 4, day: 4, tier: 4, note: 4 });
          const tier = profile.body.columns.find((c: any) => c.name === 'tier');
          assert.deepEqual(tier.top.map((e: any) => e.value).sort(), ['bronze', 'gold', 'silver']);
          const got = await call(
            server,
            'GET',
            '/v1/projects/lab/datasets/spelled/versions/1/rows?offset=37999&limit=3',
            { key },
          );
          assert.deepEqual(
            got.body.rows.map((r: any) => [r.id, r.amount, r.tier, r.note]),
            [
              [37999, 18999.5, ['gold', 'silver', 'bronze'][37999 % 3], 'note 37999'],
              [38000, null, null, null],
              [38001, 19000.5, ['gold', 'silver', 'bronze'][38001 % 3], 'note 38001'],
            ],
          );
          // Spellings in text only: no cast fails, the read stays blank-only and the profile's
          // check nulls them (a few values: from the value counts; many: in the full pass).
          const textOnly = lines.map((line, n) => {
            const i = n - 1;
            if (n === 0 || !late(i)) return line;
            const cells = line.split(',');
            return [cells[0], (i * 0.5).toFixed(1), '2024-03-01', cells[3], cells[4]].join(',');
          });
          const up2 = await upload('name=spelled-text', textOnly.join('\n') + '\n');
          assert.equal(up2.status, 201, JSON.stringify(up2.body));
          const profile2 = await call(
            server,
            'GET',
            '/v1/projects/lab/datasets/spelled-text/versions/1/profile',
            { key },
          );
          assert.deepEqual(Object.fromEntries(profile2.body.columns.map((c: any) => [c.name, c.missing])), {
            id: 0,
            amount: blanks,
            day: 0,
            tier: 4,
            note: 4,
          });
          assert.deepEqual(
            profile2.body.columns
              .find((c: any) => c.name === 'tier')
              .top.map((e: any) => e.value)
              .sort(),
            ['bronze', 'gold', 'silver'],
          );
        },
      );

      await t.test('CSV: semicolons and windows-1252 detected; types, profile, rows, sample', async () => {
        const lines = ['id;city;amount;joined;member;note'];
        for (let i = 0; i < 200; i++)
          lines.push(
            `${i};${['Zürich', 'Genève', 'Malmö', ''][i % 4]};${i % 10 === 0 ? 'NA' : (i * 1.25).toFixed(2)};2024-01-${String((i % 28) + 1).padStart(2, '0')};${i % 2 ? 'yes' : 'no'};customer number ${i} called about an invoice`,
          );
        lines.push(lines[1]!); // one duplicate row
        const body = iconv.encode(lines.join('\r\n') + '\r\n', 'windows-1252');
        const up = await upload('name=people', body);
        assert.equal(up.status, 201, JSON.stringify(up.body));
        assert.equal(up.body.format, 'parquet');
        assert.equal(up.body.rowCount, 201);
        const types = Object.fromEntries(up.body.schema.columns.map((c: any) => [c.name, c.type]));
        assert.deepEqual(types, {
          id: 'integer',
          city: 'categorical',
          amount: 'numeric',
          joined: 'datetime',
          member: 'boolean',
          note: 'text',
        });
        assert.equal(up.body.sourceInfo.kind, 'upload');
        assert.equal(up.body.sourceInfo.file.delimiter, ';');
        // Hashed as it was uploaded: the bytes as sent, before any transcoding.
        assert.equal(up.body.sourceInfo.file.sha256, createHash('sha256').update(body).digest('hex'));
        assert.match(up.body.sourceInfo.file.encoding, /windows-1252|iso-8859-1/);

        const again = await upload('name=people', body);
        assert.equal(again.status, 200);
        assert.equal(again.body.id, up.body.id);

        const profile = await call(server, 'GET', '/v1/projects/lab/datasets/people/versions/1/profile', {
          key,
        });
        assert.equal(profile.status, 200, JSON.stringify(profile.body));
        assert.equal(profile.body.rowCount, 201);
        assert.equal(profile.body.duplicateRows, 1);
        const col = Object.fromEntries(profile.body.columns.map((c: any) => [c.name, c]));
        assert.equal(col.amount.missing, 21);
        assert.ok(Math.abs(col.amount.missingShare - 21 / 201) < 1e-9);
        assert.equal(col.amount.min, 1.25);
        assert.equal(col.amount.max, 248.75);
        assert.deepEqual(Object.keys(col.amount.quantiles), ['p1', 'p5', 'p25', 'p50', 'p75', 'p95', 'p99']);
        assert.equal(col.amount.histogram.counts.length, 20);
        assert.equal(col.amount.histogram.edges.length, 21);
        assert.equal(
          col.amount.histogram.counts.reduce((a: number, b: number) => a + b, 0),
          201 - 21,
        );
        assert.equal(col.city.distinct, 3);
        assert.equal(col.city.top.length, 3);
        assert.ok(
          col.city.top.some((v: any) => v.value === 'Zürich'),
          JSON.stringify(col.city.top),
        );
        assert.equal(col.member.top.length, 2);
        assert.equal(col.joined.min, '2024-01-01T00:00:00.000Z');
        assert.equal(col.joined.max, '2024-01-28T00:00:00.000Z');
        assert.deepEqual(profile.body.correlations.columns, ['id', 'amount']);
        assert.ok(profile.body.correlations.matrix[0][1] > 0.99);

        const rows = await call(
          server,
          'GET',
          '/v1/projects/lab/datasets/people/versions/1/rows?limit=2&offset=1',
          {
            key,
          },
        );
        assert.equal(rows.status, 200);
        assert.equal(rows.body.total, 201);
        assert.deepEqual(rows.body.rows[0], {
          id: 1,
          city: 'Genève',
          amount: 1.25,
          joined: '2024-01-02T00:00:00.000Z',
          member: true,
          note: 'customer number 1 called about an invoice',
        });
        const s1 = await call(
          server,
          'GET',
          '/v1/projects/lab/datasets/people/versions/1/rows?sample=10&seed=7',
          {
            key,
          },
        );
        const s2 = await call(
          server,
          'GET',
          '/v1/projects/lab/datasets/people/versions/1/rows?sample=10&seed=7',
          {
            key,
          },
        );
        const s3 = await call(
          server,
          'GET',
          '/v1/projects/lab/datasets/people/versions/1/rows?sample=10&seed=8',
          {
            key,
          },
        );
        assert.equal(s1.body.rows.length, 10);
        assert.deepEqual(s1.body.rows, s2.body.rows, 'same seed, same rows');
        assert.notDeepEqual(s1.body.rows, s3.body.rows);
      });

      await t.test(
        'schema editing makes a new version with lineage; a failing cast names column, row, value',
        async () => {
          const edited = await call(server, 'PATCH', '/v1/projects/lab/datasets/people/versions/1/schema', {
            key,
            json: { columns: { id: 'categorical', member: 'integer' } },
          });
          assert.equal(edited.status, 201, JSON.stringify(edited.body));
          assert.equal(edited.body.version, 2);
          assert.deepEqual(edited.body.lineage.inputs, [
            (await call(server, 'GET', '/v1/projects/lab/datasets/people/versions/1', { key })).body.id,
          ]);
          const types = Object.fromEntries(edited.body.schema.columns.map((c: any) => [c.name, c.type]));
          assert.equal(types.id, 'categorical');
          assert.equal(types.member, 'integer');
          assert.equal(types.note, 'text');
          const rows = await call(server, 'GET', '/v1/projects/lab/datasets/people/versions/2/rows?limit=2', {
            key,
          });
          assert.deepEqual([rows.body.rows[1].id, rows.body.rows[1].member], ['1', 1]);
          const same = await call(server, 'PATCH', '/v1/projects/lab/datasets/people/versions/1/schema', {
            key,
            json: { columns: { id: 'categorical', member: 'integer' } },
          });
          assert.equal(same.status, 200);
          assert.equal(same.body.version, 2);

          const bad = await call(server, 'PATCH', '/v1/projects/lab/datasets/people/versions/1/schema', {
            key,
            json: { columns: { city: 'numeric' } },
          });
          assert.equal(bad.status, 422);
          assert.equal(bad.body.code, 'CAST_FAILED');
          assert.match(bad.body.detail, /column "city" cannot be numeric: row 1 has "Zürich"/);
          const unknown = await call(server, 'PATCH', '/v1/projects/lab/datasets/people/versions/1/schema', {
            key,
            json: { columns: { nope: 'numeric' } },
          });
          assert.equal(unknown.status, 400);
          assert.match(unknown.body.detail, /nope/);
          const badType = await call(server, 'PATCH', '/v1/projects/lab/datasets/people/versions/1/schema', {
            key,
            json: { columns: { id: 'float' } },
          });
          assert.equal(badType.status, 400);
          assert.equal(badType.body.errors[0].path, 'columns/id');
          const listed = await call(server, 'GET', '/v1/projects/lab/datasets/people', { key });
          assert.equal(listed.body.versions.length, 2, 'failed edits create nothing');
        },
      );

      await t.test('TSV, JSON, JSON Lines, Parquet and Excel', async () => {
        const tsv = await upload('name=tsv', 'a\tb\n1\tx\n2\ty\n', 'text/tab-separated-values');
        assert.equal(tsv.status, 201, JSON.stringify(tsv.body));
        assert.deepEqual(
          tsv.body.schema.columns.map((c: any) => c.type),
          ['integer', 'categorical'],
        );
        const json = await upload(
          'name=json',
          JSON.stringify([
            { a: 1.5, b: 'x', c: true, t: '2024-03-01T10:00:00' },
            { a: 2, b: null, c: false, t: '2024-03-02T11:00:00' },
          ]),
          'application/json',
        );
        assert.equal(json.status, 201, JSON.stringify(json.body));
        assert.deepEqual(
          json.body.schema.columns.map((c: any) => [c.name, c.type]),
          [
            ['a', 'numeric'],
            ['b', 'categorical'],
            ['c', 'boolean'],
            ['t', 'datetime'],
          ],
        );
        const jsonl = await upload(
          'name=jsonl',
          '{"x":1,"y":"a"}\n{"x":2,"y":"b"}\n{"x":3}\n',
          'application/x-ndjson',
        );
        assert.equal(jsonl.status, 201, JSON.stringify(jsonl.body));
        assert.equal(jsonl.body.rowCount, 3);
        assert.equal(jsonl.body.schema.columns[1].missing, 1);

        const pq = await parquetBytes(
          "SELECT range AS id, range * 0.5 AS score, CASE WHEN range % 2 = 0 THEN 'even' ELSE 'odd' END AS parity FROM range(100)",
        );
        const parquet = await upload('name=pq&format=parquet', pq, 'application/octet-stream');
        assert.equal(parquet.status, 201, JSON.stringify(parquet.body));
        assert.deepEqual(
          parquet.body.schema.columns.map((c: any) => c.type),
          ['integer', 'numeric', 'categorical'],
        );

        const xlsx = await upload(
          'name=sales&sheet=sales',
          await xlsxBytes(),
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        );
        assert.equal(xlsx.status, 201, JSON.stringify(xlsx.body));
        assert.equal(xlsx.body.rowCount, 30);
        assert.deepEqual(
          xlsx.body.schema.columns.map((c: any) => [c.name, c.type]),
          [
            ['region', 'categorical'],
            ['units', 'integer'],
            ['price', 'numeric'],
            ['day', 'datetime'],
            ['paid', 'boolean'],
          ],
        );
        const noSheet = await upload(
          'name=sales2&sheet=nope',
          await xlsxBytes(),
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        );
        assert.equal(noSheet.status, 400);
        assert.match(noSheet.body.detail, /no sheet "nope"; sheets: notes, sales/);
      });

      await t.test('overrides: delimiter, header, encoding and column types', async () => {
        const noHeader = await upload('name=nh&header=false&delimiter=|', '1|a\n2|b\n');
        assert.equal(noHeader.status, 201, JSON.stringify(noHeader.body));
        assert.deepEqual(
          noHeader.body.schema.columns.map((c: any) => c.name),
          ['column_1', 'column_2'],
        );
        const zip = await upload(
          `name=zip&schema=${encodeURIComponent('{"zip":"categorical"}')}`,
          'zip,n\n0101,1\n0202,2\n',
        );
        assert.equal(zip.status, 201, JSON.stringify(zip.body));
        assert.equal(zip.body.schema.columns[0].type, 'categorical');
        const rows = await call(server, 'GET', '/v1/projects/lab/datasets/zip/versions/1/rows', { key });
        assert.equal(rows.body.rows[0].zip, '0101', 'the text as written, leading zero kept');
        const failing = await upload(
          `name=zip2&schema=${encodeURIComponent('{"n":"integer"}')}`,
          'n\n1\n2\nthree\n',
        );
        assert.equal(failing.status, 422);
        assert.match(failing.body.detail, /column "n" cannot be integer: row 3 has "three"/);
      });

      await t.test('a column of numbers with a word after the sampled rows becomes categorical', async () => {
        const lines = ['code,value'];
        for (let i = 0; i < 30_000; i++) lines.push(`${i},${i % 7}`);
        lines.push('X-1,3');
        const up = await upload('name=late', lines.join('\n'));
        assert.equal(up.status, 201, JSON.stringify(up.body));
        assert.deepEqual(
          up.body.schema.columns.map((c: any) => c.type),
          ['categorical', 'integer'],
        );
        assert.equal(up.body.rowCount, 30_001);
      });

      await t.test(
        'a version stored as CSV before the DuckDB engine still reads, profiles and trains',
        async () => {
          const { store, artifacts } = server.platform.services;
          const csv = readFileSync(join(SHARED_DATA, 'iris.csv'));
          const ref = await artifacts.put(csv);
          const project = await store.db
            .selectFrom('projects')
            .select('id')
            .where('name', '=', 'lab')
            .executeTakeFirstOrThrow();
          const datasetId = newId('ds');
          await store.db
            .insertInto('datasets')
            .values({ id: datasetId, project_id: project.id, name: 'old', created_at: nowIso() })
            .execute();
          const names = [
            'sepal length (cm)',
            'sepal width (cm)',
            'petal length (cm)',
            'petal width (cm)',
            'target',
          ];
          const schema = {
            rowCount: 150,
            columns: names.map((name) => ({
              name,
              type: 'numeric',
              missing: 0,
              distinct: 3,
              distinctCapped: false,
              integer: name === 'target',
            })),
          };
          await store.db
            .insertInto('dataset_versions')
            .values({
              id: newId('dsv'),
              dataset_id: datasetId,
              project_id: project.id,
              version: 1,
              content_hash: ref.hash,
              format: 'csv',
              size_bytes: ref.size,
              row_count: 150,
              schema_json: JSON.stringify(schema),
              source: 'upload:csv',
              created_at: nowIso(),
            })
            .execute();
          const rows = await call(server, 'GET', '/v1/projects/lab/datasets/old/versions/1/rows?limit=1', {
            key,
          });
          assert.equal(rows.status, 200, JSON.stringify(rows.body));
          assert.equal(rows.body.rows[0]['sepal length (cm)'], 5.1);
          const profile = await call(server, 'GET', '/v1/projects/lab/datasets/old/versions/1/profile', {
            key,
          });
          assert.equal(profile.status, 200, JSON.stringify(profile.body));
          assert.equal(profile.body.columns[4].distinct, 3);
          const version = await server.platform.services.datasets.getVersion(project.id, 'old', 1);
          assert.equal(version.format, 'csv');
          const columns = await readColumns(
            await artifacts.localPath(version.contentHash),
            version.schema.columns,
            150,
          );
          assert.equal(columns[0]!.values[0], 5.1);
          // Re-uploading the same CSV recognises the old version.
          const again = await upload('name=old', csv);
          assert.equal(again.status, 200);
          assert.equal(again.body.version, 1);
        },
      );
    },
  );
}

test('a profile above 50,000 rows: exact counts, moments and bounds; histogram and quantiles from every k-th row', async (t) => {
  const server = await startTestServer({});
  t.after(() => server.dispose());
  const key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'big' } });
  // 120,000 rows: an id, v = id mod 1000 (uniform), w missing on every tenth row; rows
  // 39,999, 79,999 and 119,999 repeat row 0 (duplicates).
  const lines = ['id,v,w,g'];
  for (let i = 0; i < 120_000; i++) {
    const j = i % 40_000 === 39_999 ? 0 : i;
    lines.push(`${j},${j % 1000},${j % 10 === 0 ? '' : (j % 7) * 0.5},${j % 3 === 0 ? 'a' : 'b'}`);
  }
  const created = await call(server, 'POST', '/v1/projects/big/datasets?name=big', {
    key,
    body: lines.join('\n') + '\n',
    type: 'text/csv',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const profile = await call(server, 'GET', '/v1/projects/big/datasets/big/versions/1/profile', { key });
  assert.equal(profile.status, 200, JSON.stringify(profile.body));
  assert.equal(profile.body.rowCount, 120_000);
  assert.equal(profile.body.duplicateRows, 3);
  const col = Object.fromEntries(profile.body.columns.map((c: any) => [c.name, c]));
  // Exact: missing values (from the footer's null counts), bounds, mean.
  assert.equal(col.w.missing, 12_000 + 3); // every tenth row, and the three copies of row 0
  assert.equal(col.v.min, 0);
  assert.equal(col.v.max, 999);
  assert.ok(Math.abs(col.v.mean - (120_000 * 499.5 - 3 * 999) / 120_000) < 1e-9, String(col.v.mean));
  // Estimated from the sample, scaled to the column: 20 bins of about 6,000 rows each.
  assert.equal(col.v.histogram.sampled, true);
  assert.equal(
    col.v.histogram.counts.reduce((a: number, b: number) => a + b, 0),
    120_000,
  );
  for (const c of col.v.histogram.counts) assert.ok(Math.abs(c - 6000) < 600, String(c));
  assert.ok(Math.abs(col.v.quantiles.p50 - 499.5) < 20, String(col.v.quantiles.p50));
  // Every third row (120,000 / 50,000 rounded up).
  assert.equal(profile.body.correlations.rows, 40_000);
});
