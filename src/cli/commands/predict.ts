import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { CliError, path } from '../client.js';
import { context } from '../context.js';
import { num } from '../format.js';
import type { PredictResponse } from '../types.js';

interface PredictOptions {
  project: string;
  rows?: string;
  file?: string;
  csv?: string;
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict with a deployment; give rows as JSON (--rows, --file) or as a CSV file (--csv)')
    .argument('<deployment>', 'deployment name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--rows <json>', 'a JSON array of row objects, or one row object')
    .option('--file <rows.json>', 'a JSON file holding such rows (or {"rows": [...]})')
    .option('--csv <file>', 'a CSV file with a header row; every row is sent')
    .action(async (deployment: string, opts: PredictOptions, cmd: Command) => {
      const ctx = context(cmd);
      const given = [opts.rows, opts.file, opts.csv].filter((v) => v !== undefined).length;
      if (given !== 1)
        throw new CliError('give the rows with exactly one of --rows JSON, --file rows.json or --csv FILE');
      const rows =
        opts.rows !== undefined
          ? rowsFromJson(opts.rows, '--rows')
          : opts.file !== undefined
            ? rowsFromJson(await read(opts.file), opts.file)
            : rowsFromCsv(await read(opts.csv!), opts.csv!);
      const res = await ctx.client.request<PredictResponse>(
        'POST',
        path`/v1/projects/${opts.project}/deployments/${deployment}/predict`,
        { json: { rows } },
      );
      ctx.show(res, () => res.predictions.map((p, i) => `${i}: ${describe(p)}\n`).join(''));
    });
}

function describe(p: PredictResponse['predictions'][number]): string {
  if ('value' in p) return num(p.value);
  const top = p.probabilities[String(p.label)] ?? Math.max(...Object.values(p.probabilities));
  return `${p.label} (p=${top.toFixed(3)})`;
}

async function read(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

/** A JSON array of row objects, one row object, or `{"rows": [...]}` (the request body itself). */
export function rowsFromJson(text: string, source: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(value)) return value;
  if (typeof value === 'object' && value !== null) {
    const rows = (value as { rows?: unknown }).rows;
    return Array.isArray(rows) && Object.keys(value).length === 1 ? rows : [value];
  }
  throw new CliError(`${source} must be a JSON array of row objects or one row object`);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** CSV with a header row → row objects: numbers become numbers and empty cells null (a missing value). */
export function rowsFromCsv(text: string, source: string): Record<string, unknown>[] {
  let rows: Record<string, unknown>[];
  try {
    rows = parse(text, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      cast: (value: string) => (value === '' ? null : NUMBER.test(value) ? Number(value) : value),
    }) as Record<string, unknown>[];
  } catch (error) {
    throw new CliError(`${source} is not a valid CSV file: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw new CliError(`${source} has a header but no rows`);
  return rows;
}
