import { parse, type Parser } from 'csv-parse';
import { AppError } from '../errors/index.js';
import { ColumnStats, type DatasetSchema } from './schema.js';

/**
 * Streams CSV bytes through csv-parse and infers the schema on the way, without keeping rows.
 * Feed chunks with `write`, then `end()`. Any malformation (broken quoting, a ragged row, a
 * missing or duplicate header) rejects with a CSV_INVALID error naming the line.
 */
export class CsvSchemaSniffer {
  private readonly parser: Parser;
  private stats: ColumnStats[] = [];
  private header: string[] | undefined;
  private rows = 0;
  private failure: AppError | undefined;
  private readonly done: Promise<void>;

  constructor() {
    this.parser = parse({ bom: true, relax_column_count: false, skip_empty_lines: true });
    this.done = new Promise((resolve, reject) => {
      this.parser.on('readable', () => {
        let record: string[] | null;
        while ((record = this.parser.read() as string[] | null) !== null) this.onRecord(record);
      });
      this.parser.on('error', (error) => reject(this.failure ?? csvError(error)));
      this.parser.on('end', () => (this.failure ? reject(this.failure) : resolve()));
    });
    // Handled through `end()`; avoid an unhandled rejection if the caller aborts early.
    this.done.catch(() => undefined);
  }

  private onRecord(record: string[]): void {
    if (this.failure) return;
    if (!this.header) {
      const names = record.map((h) => h.trim());
      const seen = new Set<string>();
      names.forEach((name, i) => {
        if (name === '')
          this.failure ??= new AppError('CSV_INVALID', `header column ${i + 1} has no name`, [
            { path: `header/${i}`, message: 'empty column name' },
          ]);
        if (seen.has(name))
          this.failure ??= new AppError(
            'CSV_INVALID',
            `the header names column ${JSON.stringify(name)} twice`,
            [{ path: `header/${i}`, message: 'duplicate column name' }],
          );
        seen.add(name);
      });
      this.header = names;
      this.stats = names.map((n) => new ColumnStats(n));
      return;
    }
    this.rows++;
    for (let j = 0; j < record.length; j++) this.stats[j]!.add(record[j]!);
  }

  write(chunk: Buffer): void {
    if (!this.failure) this.parser.write(chunk);
  }

  async end(): Promise<DatasetSchema> {
    this.parser.end();
    await this.done;
    if (!this.header)
      throw new AppError(
        'DATASET_EMPTY',
        'the file is empty: expected a header row and at least one data row',
      );
    if (this.rows === 0) throw new AppError('DATASET_EMPTY', 'the file has a header but no data rows');
    return { columns: this.stats.map((s) => s.finish(this.rows)), rowCount: this.rows };
  }
}

function csvError(error: unknown): AppError {
  const e = error as { code?: string; message?: string; lines?: number; record?: unknown };
  const line = e.lines !== undefined ? ` (line ${e.lines})` : '';
  let detail = e.message ?? 'unreadable CSV';
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' || e.code === 'CSV_RECORD_INCONSISTENT_COLUMNS') {
    detail = `a row has a different number of fields than the header${line}`;
  } else if (e.code?.startsWith('CSV_')) {
    detail = `${e.message ?? e.code}`;
  }
  return new AppError(
    'CSV_INVALID',
    detail,
    [{ path: e.lines !== undefined ? `line/${e.lines}` : 'file', message: detail }],
    { cause: error },
  );
}
