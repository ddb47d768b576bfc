import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from './client.js';
import { json } from './format.js';

/** The options every command sees: where the server is, the key, and the output mode. */
export interface GlobalOptions {
  readonly url: string;
  readonly key?: string | undefined;
  readonly json?: boolean | undefined;
}

/** What a command action works with; the client is made on first use so that `serve` needs no key. */
export class Context {
  private cached: ApiClient | undefined;

  constructor(readonly options: GlobalOptions) {}

  get client(): ApiClient {
    this.cached ??= new ApiClient(this.options.url, this.options.key);
    return this.cached;
  }

  get json(): boolean {
    return this.options.json === true;
  }

  out(text: string): void {
    process.stdout.write(text);
  }

  /** Prints the raw response with --json, the human summary otherwise. */
  show(data: unknown, human: () => string): void {
    this.out(this.json ? json(data) : human());
  }
}

export function context(command: Command): Context {
  return new Context(command.optsWithGlobals<GlobalOptions>());
}

// Argument parsers for commander: a bad value is a usage error naming the option.

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number ≥ 1.');
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a whole number.');
  return n;
}

export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number.');
  return n;
}

export function list(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('must name at least one column (a,b,c).');
  return items;
}
