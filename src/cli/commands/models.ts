import { createReadStream, createWriteStream } from 'node:fs';
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
    .description('the model registry: list, inspect, import and export models');

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
    .command('import')
    .description(
      'upload an ONNX file as a new version of a model (checked by ONNX Runtime before it is stored)',
    )
    .argument('<file>', 'the .onnx file')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-n, --name <name>', 'model name (a new version if the model exists)')
    .option(
      '--task <task>',
      'classification, regression or custom (default: custom, or classification with --labels)',
    )
    .option('--labels <labels>', 'class labels, comma separated, in the order of the probability columns')
    .option(
      '--output <output>',
      'the output holding the probabilities (classification) or the value (regression)',
    )
    .option('--description <text>', 'a short description for the model card')
    .action(
      async (
        file: string,
        opts: {
          project: string;
          name: string;
          task?: string;
          labels?: string;
          output?: string;
          description?: string;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
          throw new CliError(
            `cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
          );
        });
        if (!info.isFile()) throw new CliError(`${file} is not a file`);
        // Options go as JSON in a header: labels may hold commas, and the query string stays short.
        const options = {
          ...(opts.task !== undefined ? { task: opts.task } : {}),
          ...(opts.labels !== undefined ? { labels: opts.labels.split(',').map((l) => l.trim()) } : {}),
          ...(opts.output !== undefined ? { output: opts.output } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
        };
        const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
        const response = await ctx.client.send(
          'POST',
          path`/v1/projects/${opts.project}/models/${opts.name}/versions`,
          {
            body: body as globalThis.ReadableStream<Uint8Array>,
            headers: {
              'content-type': 'application/octet-stream',
              'content-length': String(info.size),
              // Header values are Latin-1: anything beyond ASCII travels as a JSON \u escape.
              'x-mass-import-options': JSON.stringify(options).replace(
                /[\u007f-\uffff]/g,
                (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
              ),
            },
          },
        );
        const v = (await response.json()) as ModelVersion;
        ctx.show(v, () => {
          const tensors = v.signature.tensors;
          const list = (ts: readonly { name: string; datatype: string; shape: number[] }[] | undefined) =>
            (ts ?? []).map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`).join(', ');
          return (
            `Imported ${file} as model ${v.model} version ${v.version} (${v.signature.task}, ${bytes(v.sizeBytes)})\n` +
            `  inputs:  ${list(tensors?.inputs)}\n  outputs: ${list(tensors?.outputs)}\n` +
            (v.signature.labels ? `  labels:  ${v.signature.labels.join(', ')}\n` : '')
          );
        });
      },
    );

  models
    .command('export')
    .description(
      'download the ONNX file of a model version, or with --zip a bundle with its signature and model card',
    )
    .argument('<name>', 'model name')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('--version <version>', 'model version', positiveInt)
    .option('--zip', 'a zip of model.onnx, signature.json and model-card.json')
    .option('-o, --out <file>', 'where to write it (default: <name>-v<version>.onnx, or .zip)')
    .action(
      async (
        name: string,
        opts: { project: string; version: number; zip?: boolean; out?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const ext = opts.zip ? 'zip' : 'onnx';
        const out = opts.out ?? `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-v${opts.version}.${ext}`;
        const response = await ctx.client.send(
          'GET',
          path`/v1/projects/${opts.project}/models/${name}/versions/${opts.version}/artifact`,
          {
            ...(opts.zip ? { query: { format: 'zip' } } : {}),
            headers: { accept: `application/${opts.zip ? 'zip' : 'octet-stream'}, application/problem+json` },
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
          { model: name, version: opts.version, file: out, sizeBytes: size, format: ext },
          () =>
            `Wrote ${out} (${bytes(size)}): model ${name} version ${opts.version} as ${
              opts.zip ? 'a zip of model.onnx, signature.json and model-card.json' : 'ONNX'
            }\n`,
        );
      },
    );
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
  if (sig.inputs.length > 0 || !sig.tensors)
    out += `inputs:\n${indent(
      table(
        ['column', 'type'],
        sig.inputs.map((i) => [i.name, i.type]),
      ),
    )}`;
  if (sig.tensors) {
    const rows = (kind: string, ts: readonly { name: string; datatype: string; shape: number[] }[]) =>
      ts.map((t): Cell[] => [kind, t.name, t.datatype, `[${t.shape.join(',')}]`]);
    out += `tensors:\n${indent(
      table(
        ['', 'name', 'datatype', 'shape'],
        [...rows('in', sig.tensors.inputs), ...rows('out', sig.tensors.outputs)],
      ),
    )}`;
  }
  return out;
}
