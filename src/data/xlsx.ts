import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import ExcelJS from 'exceljs';
import { AppError } from '../errors/index.js';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A cell as CSV text: numbers as written, dates as ISO (UTC), formulas as their result. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    const date = `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
    const h = value.getUTCHours();
    const m = value.getUTCMinutes();
    const s = value.getUTCSeconds();
    return h || m || s ? `${date} ${pad(h)}:${pad(m)}:${pad(s)}` : date;
  }
  if (typeof value === 'object') {
    const v = value as {
      result?: unknown;
      richText?: { text: string }[];
      text?: unknown;
      error?: unknown;
      formula?: unknown;
    };
    if (v.error !== undefined) return '';
    if (v.richText) return v.richText.map((r) => r.text).join('');
    if ('result' in v || v.formula !== undefined) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
  }
  return String(value as string);
}

function csvField(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * Streams one sheet of an .xlsx workbook (the named one, or the first) into a UTF-8 CSV file,
 * row by row: the workbook never sits in memory. Returns the sheet's name and its data rows.
 */
export async function xlsxToCsv(
  source: string,
  target: string,
  sheet: string | undefined,
  maxOutputBytes: number,
): Promise<{ sheet: string; rows: number }> {
  const out = createWriteStream(target, { mode: 0o600 });
  let written = 0;
  const write = async (line: string) => {
    written += Buffer.byteLength(line);
    // A zip bomb (a tiny file of enormous sheets) is stopped instead of filling the disk.
    if (written > maxOutputBytes)
      throw new AppError(
        'XLSX_INVALID',
        `the workbook expands to more than ${maxOutputBytes} bytes of data; export the sheet as CSV instead`,
        [{ path: 'file', message: 'expands too much' }],
      );
    if (!out.write(line)) await once(out, 'drain');
  };
  const seen: string[] = [];
  let found: string | undefined;
  let rows = 0;
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(source, {
      worksheets: 'emit',
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      entries: 'ignore',
    });
    for await (const worksheet of reader) {
      const ws = worksheet as unknown as AsyncIterable<ExcelJS.Row> & { name: string };
      seen.push(ws.name);
      if (found !== undefined || (sheet !== undefined && ws.name !== sheet)) {
        // Drain a sheet that is not wanted (the reader needs every entry consumed).
        for await (const _row of ws) void _row;
        continue;
      }
      found = ws.name;
      let width = -1;
      for await (const row of ws) {
        // Blank rows are not emitted by the reader (nor kept here).
        const values = (row.values as unknown[]).slice(1).map(cellText);
        if (width < 0) width = values.length;
        else {
          while (values.length > width && values[values.length - 1] === '') values.pop();
          while (values.length < width) values.push('');
          rows++;
        }
        await write(`${values.map(csvField).join(',')}\n`);
      }
    }
  } catch (error) {
    out.destroy();
    if (error instanceof AppError) throw error;
    throw new AppError('XLSX_INVALID', `the Excel file cannot be read: ${(error as Error).message}`, [
      { path: 'file', message: 'not a readable .xlsx workbook' },
    ]);
  }
  out.end();
  await once(out, 'close');
  if (found === undefined) {
    if (sheet !== undefined)
      throw new AppError(
        'XLSX_INVALID',
        `the workbook has no sheet ${JSON.stringify(sheet)}; sheets: ${seen.join(', ')}`,
        [{ path: 'sheet', message: 'no such sheet' }],
      );
    throw new AppError('DATASET_EMPTY', 'the workbook has no sheet');
  }
  return { sheet: found, rows };
}
