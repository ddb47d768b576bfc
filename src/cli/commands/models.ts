import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt } from '../context.js';
import { bytes, date, fields, mainMetrics, num, table, type Cell } from '../format.js';
import type { Items, Model, ModelVersion, ModelWithVersions } from '../types.js';
import { indent } from '../wait.js';

export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .alias('model')
    .description('the model registry: list, inspect and export models');

  models
    .command('list')
    .description('models of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<Model>>('GET', path`/v1/projects/${opts.project}/models`);
      ctx.show(res, () =>
        res.items.length === 0
          ? `No models in project ${opts.project}. Train one with: mass train --project ${opts.project} --dataset D --target T\n`
          : table(
              ['name', 'task', 'latest', 'created'],
              res.items.map((m) => [m.name, m.task, m.latestVersion, date(m.createdAt)]),
            ),
      );
    });

  models
    .command('show')
    .description('a model and its versions, or one version in detail with --version')
    .argument('<name>', 'model name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'model version', positiveInt)
    .action(async (name: string, opts: { project: string; version?: number }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.version !== undefined) {
        const v = await ctx.client.request<ModelVersion>(
          'GET',
          path`/v1/projects/${opts.project}/models/${name}/versions/${opts.version}`,
        );
        ctx.show(v, () => describeVersion(v));
        return;
      }
      const m = await ctx.client.request<ModelWithVersions>(
        'GET',
        path`/v1/projects/${opts.project}/models/${name}`,
      );
      ctx.show(m, () => {
        const head = fields([
          ['model', m.name],
          ['task', m.task],
          ['latest', m.latestVersion],
          ['created', date(m.createdAt)],
        ]);
        const metricNames = m.versions[0] ? mainMetrics(m.versions[0].metrics).map(([k]) => k) : [];
        const rows = m.versions.map((v): Cell[] => [
          v.version,
          v.algorithm,
          ...metricNames.map((k) => v.metrics[k] as Cell),
          date(v.createdAt),
        ]);
        return `${head}\n${table(['version', 'algorithm', ...metricNames, 'created'], rows)}`;
      });
    });

  models
    .command('export')
    .description('download the ONNX file of a model version')
    .argument('<name>', 'model name')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('--version <version>', 'model version', positiveInt)
    .option('-o, --out <file>', 'where to write it (default: <name>-v<version>.onnx)')
    .action(async (name: string, opts: { project: string; version: number; out?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const out = opts.out ?? `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-v${opts.version}.onnx`;
      const response = await ctx.client.send(
        'GET',
        path`/v1/projects/${opts.project}/models/${name}/versions/${opts.version}/artifact`,
        {
          headers: { accept: 'application/octet-stream, application/problem+json' },
        },
      );
      if (!response.body) throw new CliError('the server sent an empty artifact');
      // A temp file beside the target, renamed at the end: an interrupted download never looks complete.
      const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
      try {
        await pipeline(
          Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
          createWriteStream(tmp, { flags: 'wx' }),
        );
        await rename(tmp, out);
      } catch (error) {
        await rm(tmp, { force: true });
        const e = error as NodeJS.ErrnoException;
        throw new CliError(`cannot write ${out}: ${e.code === 'ENOENT' ? 'no such folder' : e.message}`);
      }
      const size = (await stat(out)).size;
      ctx.show(
        { model: name, version: opts.version, file: out, sizeBytes: size },
        () => `Wrote ${out} (${bytes(size)}): model ${name} version ${opts.version} as ONNX\n`,
      );
    });
}

function describeVersion(v: ModelVersion): string {
  const sig = v.signature;
  let out = fields([
    ['model', `${v.model} version ${v.version}`],
    ['id', v.id],
    ['algorithm', v.algorithm],
    ['task', sig.task],
    ['target', sig.target],
    ...(sig.labels ? [['labels', sig.labels.join(', ')] as [string, Cell]] : []),
    ['size', bytes(v.sizeBytes)],
    ['dataset', v.datasetVersionId],
    ['job', v.jobId],
    ['code', v.codeVersion],
    ['created', date(v.createdAt)],
  ]);
  const numeric = Object.entries(v.metrics).filter((e): e is [string, number] => typeof e[1] === 'number');
  if (numeric.length > 0) out += `metrics:\n${indent(fields(numeric.map(([k, x]) => [k, num(x)])))}`;
  out += `inputs:\n${indent(
    table(
      ['column', 'type'],
      sig.inputs.map((i) => [i.name, i.type]),
    ),
  )}`;
  return out;
}
