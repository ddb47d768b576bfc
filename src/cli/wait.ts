import { setTimeout as sleep } from 'node:timers/promises';
import { Presets, SingleBar } from 'cli-progress';
import { CliError, ConnectionError, path, type ApiClient } from './client.js';
import { fields, mainMetrics, num, type Cell } from './format.js';
import type { Context } from './context.js';
import type { Job, TrainResult } from './types.js';

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);
/** A server restart or a dropped connection while polling is retried for about this long. */
const MAX_CONSECUTIVE_FAILURES = 20;

export interface WaitOptions {
  readonly intervalMs?: number;
  readonly stream?: NodeJS.WriteStream;
}

/**
 * Polls a job until it ends. On a terminal the progress is a bar on stderr; elsewhere (a log, a
 * pipe, CI) one status line is written whenever the job's message changes.
 */
export async function waitForJob(
  client: ApiClient,
  project: string,
  id: string,
  options: WaitOptions = {},
): Promise<Job> {
  const intervalMs = options.intervalMs ?? 300;
  const stream = options.stream ?? process.stderr;
  const route = path`/v1/projects/${project}/jobs/${id}`;
  let bar: SingleBar | undefined;
  let lastLine = '';
  let failures = 0;

  // Ctrl-C stops the waiting, not the job.
  const onInterrupt = () => {
    bar?.stop();
    stream.write(
      `\nstopped waiting; job ${id} keeps running. Follow it with: mass jobs wait ${id} --project ${project}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      let job: Job;
      try {
        job = await client.request<Job>('GET', route);
        failures = 0;
      } catch (error) {
        if (error instanceof ConnectionError && ++failures < MAX_CONSECUTIVE_FAILURES) {
          await sleep(intervalMs);
          continue;
        }
        throw error;
      }
      const percent = Math.round(job.progress * 100);
      const message = job.message || job.status;
      if (stream.isTTY) {
        if (!bar) {
          bar = new SingleBar(
            {
              stream,
              format: `${id} [{bar}] {percentage}% | {status}: {message}`,
              hideCursor: true,
              barsize: 30,
              forceRedraw: true,
            },
            Presets.shades_classic,
          );
          bar.start(100, percent, { status: job.status, message: clip(message, stream) });
        }
        bar.update(job.status === 'succeeded' ? 100 : percent, {
          status: job.status,
          message: clip(message, stream),
        });
      } else {
        const line = `${job.status}: ${message}`;
        if (line !== lastLine) {
          stream.write(`[${String(percent).padStart(3)}%] ${line}\n`);
          lastLine = line;
        }
      }
      if (TERMINAL.has(job.status)) return job;
      await sleep(intervalMs);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    bar?.stop();
  }
}

/** Keeps the bar on one line: the message is cut to what is left of the terminal's width. */
function clip(message: string, stream: NodeJS.WriteStream): string {
  const room = Math.max(10, (stream.columns ?? 80) - 70);
  return message.length > room ? `${message.slice(0, room - 1)}…` : message;
}

/**
 * Reports a finished job: the raw job with --json, else a summary (the model and its main metrics
 * for training). A failed or cancelled job is an error, so the command exits 1.
 */
export function reportJob(ctx: Context, job: Job): void {
  if (ctx.json) ctx.out(`${JSON.stringify(job, null, 2)}\n`);
  if (job.status === 'failed') throw new CliError(`job ${job.id} failed: ${job.error ?? 'no reason given'}`);
  if (job.status === 'cancelled')
    throw new CliError(`job ${job.id} was cancelled${job.error ? `: ${job.error}` : ''}`);
  if (ctx.json) return;
  if (job.status !== 'succeeded') {
    ctx.out(`Job ${job.id} is ${job.status} (${Math.round(job.progress * 100)}%): ${job.message}\n`);
    return;
  }
  const result = job.result as Partial<TrainResult> | null;
  if (result && typeof result.model === 'string') {
    const ms = result.durationMs;
    const seconds =
      typeof ms === 'number'
        ? ms < 1000
          ? ` in ${Math.round(ms)} ms`
          : ` in ${(ms / 1000).toFixed(1)} s`
        : '';
    ctx.out(`Trained model ${result.model} version ${result.version ?? '?'}${seconds} (job ${job.id})\n`);
    const metrics = result.metrics ?? {};
    const rows: [string, Cell][] = mainMetrics(metrics).map(([k, v]) => [k, num(v)]);
    if (typeof metrics.trainRows === 'number')
      rows.push(['train rows', metrics.trainRows], ['test rows', metrics.testRows as Cell]);
    if (rows.length > 0) ctx.out(indent(fields(rows)));
    return;
  }
  ctx.out(`Job ${job.id} succeeded: ${job.message}\n`);
}

export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => (line ? by + line : line))
    .join('\n');
}
