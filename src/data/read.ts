import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { isMissing, parseBoolean, parseNumber, type ColumnSchema } from './schema.js';

/** A column read for computation: numbers with NaN for missing, or strings with null for missing. */
export type TableColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly name: string; readonly kind: 'categorical'; readonly values: (string | null)[] };

/**
 * Reads the named columns of a stored CSV into memory, typed by the dataset's schema: numeric
 * columns into Float64Array, categorical, boolean and text columns as strings (booleans normalised
 * to 'true' / 'false').
 */
export async function readCsvColumns(
  path: string,
  wanted: readonly ColumnSchema[],
  rowCount: number,
): Promise<TableColumn[]> {
  const parser = createReadStream(path).pipe(parse({ bom: true, skip_empty_lines: true }));
  let header: string[] | undefined;
  let indices: number[] = [];
  const numeric = wanted.map((c) => (c.type === 'numeric' ? new Float64Array(rowCount) : undefined));
  const strings = wanted.map((c) =>
    c.type === 'numeric' ? undefined : new Array<string | null>(rowCount).fill(null),
  );
  let i = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record.map((h) => h.trim());
      indices = wanted.map((c) => {
        const at = header!.indexOf(c.name);
        if (at < 0) throw new Error(`column ${c.name} is not in the stored file`);
        return at;
      });
      continue;
    }
    if (i >= rowCount) throw new Error('the stored file has more rows than its schema says');
    for (let k = 0; k < wanted.length; k++) {
      const raw = record[indices[k]!]!;
      const nums = numeric[k];
      if (nums) {
        nums[i] = isMissing(raw) ? NaN : parseNumber(raw);
      } else {
        const type = wanted[k]!.type;
        strings[k]![i] = isMissing(raw) ? null : type === 'boolean' ? parseBoolean(raw) : raw.trim();
      }
    }
    i++;
  }
  return wanted.map((c, k) =>
    c.type === 'numeric'
      ? { name: c.name, kind: 'numeric', values: numeric[k]! }
      : { name: c.name, kind: 'categorical', values: strings[k]! },
  );
}
