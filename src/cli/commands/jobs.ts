import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, integer, list, number, positiveInt } from '../context.js';
import { date, fields, mainMetrics, num, table, type Cell } from '../format.js';
import type { Items, Job, TrainResult } from '../types.js';
import { indent, reportJob, waitForJob } from '../wait.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

interface TrainOptions {
  project: string;
  dataset: string;
  target: string;
  model?: string;
  algorithm?: string;
  features?: string[];
  l2?: number;
  maxIter?: number;
  testFraction?: number;
  seed?: number;
  datasetVersion?: number;
  timeBudget?: number;
  searchFile?: string;
  wait: boolean;
}

/** The `search` object of a training request, read from a JSON file. */
function readSearchFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model on a dataset and wait for it (progress on stderr)')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-d, --dataset <dataset>', 'dataset name')
    .requiredOption('-t, --target <column>', 'the column to predict')
    .option('-m, --model <name>', 'model name (default: <dataset>-<target>)')
    .option(
      '--algorithm <algorithm>',
      'a name from GET /v1/algorithms, or auto: try several within --time-budget (default: logistic regression for classes, linear for numbers)',
    )
    .option('--time-budget <seconds>', 'with --algorithm auto: seconds to try algorithms; default 60', number)
    .option(
      '--search-file <file>',
      'JSON file with a hyperparameter search: {"strategy", "space", "budget", "folds", "metric"}',
    )
    .option('--features <columns>', 'comma-separated feature columns (default: every usable column)', list)
    .option('--l2 <penalty>', 'L2 penalty (1/C); default 1', number)
    .option('--max-iter <n>', 'most optimiser iterations; default 300', positiveInt)
    .option('--test-fraction <f>', 'held-out share of the rows; default 0.2', number)
    .option('--seed <n>', 'split seed; default 42', integer)
    .option('--dataset-version <v>', 'dataset version (default: the latest)', positiveInt)
    .option('--no-wait', 'print the queued job and return at once')
    .action(async (opts: TrainOptions, cmd: Command) => {
      const ctx = context(cmd);
      const params =
        opts.l2 !== undefined || opts.maxIter !== undefined
          ? { l2: opts.l2, maxIter: opts.maxIter }
          : undefined;
      const job = await ctx.client.request<Job>('POST', path`/v1/projects/${opts.project}/training-jobs`, {
        json: {
          dataset: opts.dataset,
          datasetVersion: opts.datasetVersion,
          target: opts.target,
          model: opts.model,
          algorithm: opts.algorithm,
          features: opts.features,
          params,
          testFraction: opts.testFraction,
          seed: opts.seed,
          timeBudgetSeconds: opts.timeBudget,
          search: opts.searchFile !== undefined ? readSearchFile(opts.searchFile) : undefined,
        },
      });
      if (!opts.wait) {
        ctx.show(
          job,
          () =>
            `Queued training job ${job.id}. Follow it with: mass jobs wait ${job.id} --project ${opts.project}\n`,
        );
        return;
      }
      if (!ctx.json) process.stderr.write(`Training job ${job.id} queued\n`);
      reportJob(ctx, await waitForJob(ctx.client, opts.project, job.id));
    });
}

export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').alias('job').description('follow, inspect and cancel jobs');

  jobs
    .command('list')
    .description('jobs of a project, newest first')
    .requiredOption('-p, --project <project>', 'project name')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(STATUSES))
    .option('--limit <n>', 'most jobs to list (default 50)', positiveInt)
    .action(async (opts: { project: string; status?: string; limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<Job> & { next: string | null }>(
        'GET',
        path`/v1/projects/${opts.project}/jobs`,
        {
          query: { status: opts.status, limit: opts.limit },
        },
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No jobs${opts.status ? ` with status ${opts.status}` : ''} in project ${opts.project}.\n`
          : table(
              ['id', 'type', 'status', 'progress', 'created', 'message'],
              res.items.map((j) => [
                j.id,
                j.type,
                j.status,
                `${Math.round(j.progress * 100)}%`,
                date(j.createdAt),
                j.error ?? j.message,
              ]),
            ),
      );
    });

  jobs
    .command('show')
    .description('one job with its progress, metrics and result')
    .argument('<id>', 'job id')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (id: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const job = await ctx.client.request<Job>('GET', path`/v1/projects/${opts.project}/jobs/${id}`);
      ctx.show(job, () => describeJob(job));
    });

  jobs
    .command('wait')
    .description('wait for a job to end, with a progress bar; exits 1 if it failed or was cancelled')
    .argument('<id>', 'job id')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (id: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      reportJob(ctx, await waitForJob(ctx.client, opts.project, id));
    });

  jobs
    .command('cancel')
    .description('cancel a queued or running job')
    .argument('<id>', 'job id')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (id: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const job = await ctx.client.request<Job>('POST', path`/v1/projects/${opts.project}/jobs/${id}/cancel`);
      ctx.show(job, () =>
        job.status === 'cancelled'
          ? `Cancelled job ${job.id}\n`
          : `Cancel requested for job ${job.id} (now ${job.status}); it stops at its next checkpoint\n`,
      );
    });
}

function describeJob(j: Job): string {
  const rows: [string, Cell][] = [
    ['id', j.id],
    ['type', j.type],
    ['status', j.status + (j.cancelRequested && j.status === 'running' ? ' (cancel requested)' : '')],
    ['progress', `${Math.round(j.progress * 100)}%`],
    ['message', j.message || '-'],
    ['attempts', `${j.attempts} of ${j.maxAttempts}`],
    ['created', date(j.createdAt)],
    ['started', date(j.startedAt)],
    ['finished', date(j.finishedAt)],
  ];
  if (j.error) rows.push(['error', j.error]);
  const result = j.result as Partial<TrainResult> | null | undefined;
  const trained = result && typeof result.model === 'string' ? result : undefined;
  if (trained) rows.push(['model', `${trained.model} version ${trained.version ?? '?'}`]);
  let out = fields(rows);
  const metrics = Object.entries(j.metrics);
  if (metrics.length > 0) out += `progress metrics:\n${indent(fields(metrics.map(([k, v]) => [k, num(v)])))}`;
  if (trained) {
    const main = mainMetrics(trained.metrics ?? {});
    if (main.length > 0) out += `test metrics:\n${indent(fields(main.map(([k, v]) => [k, num(v)])))}`;
  } else if (result !== null && result !== undefined) {
    out += `result:\n${indent(JSON.stringify(result, null, 2))}\n`;
  }
  return out;
}
