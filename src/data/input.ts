import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import chardet from 'chardet';
import { parse as parseCsvSync } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { AppError, invalid } from '../errors/index.js';

/** Bytes read from the head of a file to detect its encoding and CSV dialect. */
const HEAD_BYTES = 256 * 1024;

export const FILE_FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'xlsx'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export interface CsvOptions {
  readonly delimiter?: string | undefined;
  readonly quote?: string | undefined;
  readonly header?: boolean | undefined;
  readonly encoding?: string | undefined;
}

/** The CSV dialect an import settled on (detected, or given by the caller). */
export interface CsvDialect {
  readonly delimiter: string;
  readonly quote: string;
  readonly header: boolean;
  readonly encoding: string;
  /** Column names: from the header row, or column_1.. without one. */
  readonly names: string[];
}

/** The size of a file; refuses files over `maxBytes` and empty files. */
export async function checkFileSize(path: string, maxBytes: number): Promise<number> {
  const { size } = await stat(path);
  if (size > maxBytes)
    throw new AppError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${maxBytes} bytes`);
  if (size === 0)
    throw new AppError('DATASET_EMPTY', 'the file is empty: expected a header row and at least one data row');
  return size;
}

/** The SHA-256 of a file (hex), read once as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Size and SHA-256 of a file, read once as a stream; refuses files over `maxBytes`. */
export async function fileDigest(path: string, maxBytes: number): Promise<{ size: number; sha256: string }> {
  const size = await checkFileSize(path, maxBytes);
  return { size, sha256: await fileSha256(path) };
}

export async function readHead(path: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Normalised encoding names; UTF-8 needs no transcoding. */
function normaliseEncoding(name: string): string {
  const n = name.trim().toLowerCase().replace(/_/g, '-');
  if (n === 'utf8' || n === 'utf-8' || n === 'ascii' || n === 'us-ascii') return 'utf-8';
  return n;
}

function validUtf8Prefix(head: Buffer, complete: boolean): boolean {
  // A multi-byte character may be cut at the end of the sample: drop up to 3 trailing bytes.
  let end = head.length;
  if (!complete) {
    for (let k = 1; k <= 3 && end - k >= 0; k++) {
      const b = head[end - k]!;
      if ((b & 0xc0) === 0xc0) {
        end -= k;
        break;
      }
      if ((b & 0x80) === 0) break;
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * The encoding of a text file: the caller's, else a BOM, else UTF-8 when the head decodes as
 * UTF-8, else chardet's guess on the head.
 */
export function detectEncoding(head: Buffer, complete: boolean, declared?: string): string {
  if (declared !== undefined) {
    const name = normaliseEncoding(declared);
    if (name !== 'utf-8' && !iconv.encodingExists(name))
      throw invalid('encoding', `unknown encoding ${JSON.stringify(declared)}`);
    return name;
  }
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (validUtf8Prefix(head, complete)) return 'utf-8';
  const guess = chardet.detect(head);
  if (!guess || !iconv.encodingExists(guess))
    throw new AppError(
      'ENCODING_INVALID',
      'the text encoding of the file cannot be detected; name it with encoding (e.g. windows-1252)',
      [{ path: 'encoding', message: 'not detected' }],
    );
  return normaliseEncoding(guess);
}

/**
 * Transcodes a file to UTF-8 into `target`, streaming. Bytes that are not valid in `encoding`
 * stop it with an ENCODING_INVALID error naming the offset.
 */
export async function transcodeToUtf8(source: string, target: string, encoding: string): Promise<void> {
  const decoder = iconv.getDecoder(encoding, { stripBOM: true });
  let offset = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const text = decoder.write(chunk);
      const bad = text.indexOf('\ufffd');
      if (bad >= 0) {
        done(
          new AppError(
            'ENCODING_INVALID',
            `the file is not valid ${encoding}: an invalid byte sequence near byte ${offset + bad}`,
            [{ path: 'encoding', message: `invalid ${encoding}` }],
          ),
        );
        return;
      }
      offset += chunk.length;
      done(null, Buffer.from(text, 'utf8'));
    },
    flush(done) {
      const rest = decoder.end() ?? '';
      if (rest.includes('\ufffd')) {
        done(
          new AppError('ENCODING_INVALID', `the file is not valid ${encoding}: it ends inside a character`, [
            { path: 'encoding', message: `invalid ${encoding}` },
          ]),
        );
        return;
      }
      done(null, Buffer.from(rest, 'utf8'));
    },
  });
  await pipeline(createReadStream(source, { highWaterMark: 1 << 20 }), transform, createWriteStream(target));
}

const CANDIDATE_DELIMITERS = [',', '\t', ';', '|'];

/** Counts each candidate delimiter outside quotes on the first lines; the most consistent one wins. */
export function detectDelimiter(text: string, quote: string): string {
  const lines: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length && lines.length < 50; i++) {
    const ch = text[i]!;
    if (ch === quote) quoted = !quoted;
    if (!quoted && (ch === '\n' || ch === '\r')) {
      if (current !== '') lines.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current !== '' && lines.length === 0) lines.push(current);
  let best = ',';
  let bestScore = -1;
  for (const d of CANDIDATE_DELIMITERS) {
    const counts = lines.map((line) => {
      let n = 0;
      let q = false;
      for (const ch of line) {
        if (ch === quote) q = !q;
        else if (ch === d && !q) n++;
      }
      return n;
    });
    if (counts.length === 0 || counts[0] === 0) continue;
    const consistent = counts.filter((c) => c === counts[0]).length / counts.length;
    const score = consistent * 1000 + counts[0]!;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

function single(name: 'delimiter' | 'quote', value: string): string {
  const v = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  if ([...v].length !== 1 || v === '\n' || v === '\r')
    throw invalid(name, 'must be one character (use \\t or tab for a tab)');
  return v;
}

/**
 * Settles the dialect of a UTF-8 CSV from the head of the file and the caller's overrides, and
 * checks the header row: no empty and no duplicate names.
 */
export function settleDialect(
  head: string,
  format: 'csv' | 'tsv',
  options: CsvOptions,
  encoding: string,
): CsvDialect {
  const quote = options.quote !== undefined ? single('quote', options.quote) : '"';
  const delimiter =
    options.delimiter !== undefined
      ? single('delimiter', options.delimiter)
      : format === 'tsv'
        ? '\t'
        : detectDelimiter(head, quote);
  if (delimiter === quote) throw invalid('quote', 'the quote and the delimiter must differ');
  const text = head.replace(/^\ufeff/, '');
  if (text.trim() === '')
    throw new AppError('DATASET_EMPTY', 'the file is empty: expected a header row and at least one data row');
  let first: string[];
  try {
    const records = parseCsvSync(text, {
      delimiter,
      quote,
      to_line: 1,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as string[][];
    first = records[0] ?? [];
  } catch (error) {
    throw new AppError('CSV_INVALID', `the first row cannot be read: ${(error as Error).message}`, [
      { path: 'line/1', message: 'unreadable' },
    ]);
  }
  const header = options.header ?? true;
  let names: string[];
  if (header) {
    names = first.map((h) => h.trim());
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (name === '')
        throw new AppError('CSV_INVALID', `header column ${i + 1} has no name`, [
          { path: `header/${i}`, message: 'empty column name' },
        ]);
      if (seen.has(name))
        throw new AppError('CSV_INVALID', `the header names column ${JSON.stringify(name)} twice`, [
          { path: `header/${i}`, message: 'duplicate column name' },
        ]);
      seen.add(name);
    });
  } else {
    names = first.map((_, i) => `column_${i + 1}`);
  }
  return { delimiter, quote, header, encoding, names };
}

/** The kind of file from its first bytes, when it says so itself (zip, Parquet). */
export function sniffMagic(head: Buffer): 'zip' | 'parquet' | undefined {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'zip';
  if (head.length >= 4 && head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  return undefined;
}
