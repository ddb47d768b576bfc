/**
 * Batch scoring: a job that reads a CSV (a dataset version, or an uploaded file) in chunks,
 * scores each chunk with a model version in one ONNX Runtime call, and streams a CSV result to
 * the artifact store: the input columns, then the predictions. Progress is reported per chunk;
 * the event loop is yielded between chunks so that online serving keeps answering.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { AppError } from '../errors/index.js';
import {
  PermanentJobError,
  type Job,
  type JobContext,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
} from '../jobs/queue.js';
import type { ModelRegistry, ModelVersion } from '../registry/service.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { outputFor } from './codec.js';
import type { LoadedModel } from './model.js';
import { fromHalf, type NamedTensor, type Tensors } from './tensors.js';

export const BATCH_PREDICT_JOB = 'batch_predict';
const CHUNK_ROWS = 4096;

export interface BatchPredictPayload {
  readonly projectId: string;
  readonly modelVersionId: string;
  /** The CSV to score, by content hash; `rowCount` when known (dataset versions). */
  readonly input: { readonly hash: string; readonly rowCount: number | null; readonly label: string };
}

export interface BatchPredictResult {
  readonly model: string;
  readonly version: number;
  readonly input: string;
  readonly rows: number;
  readonly columns: readonly string[];
  readonly artifactHash: string;
  readonly sizeBytes: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function numberCell(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

function value(raw: string): unknown {
  const t = raw.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d|\.\d)/.test(t) ? n : raw;
}

function element(t: NamedTensor, i: number): string {
  const v = t.data[i];
  if (typeof v === 'string') return csvCell(v);
  if (typeof v === 'bigint') return v.toString();
  if (t.type === 'bool') return v === 1 ? 'true' : 'false';
  if (t.type === 'float16') return numberCell(fromHalf(v as number));
  return numberCell(v as number);
}

/** The prediction columns a model adds to each row, and how to fill them from the outputs. */
function predictionColumns(model: LoadedModel): {
  names: string[];
  write: (out: Tensors, i: number) => string;
} {
  const s = model.version.signature;
  if (s.task === 'regression') {
    const name = outputFor(s, 'value');
    return { names: ['prediction'], write: (out, i) => element(out[name]!, i) };
  }
  if (s.task === 'classification') {
    const labels = s.labels ?? [];
    const p = outputFor(s, 'probabilities');
    const l = outputFor(s, 'label');
    return {
      names: ['prediction', ...labels.map((c) => `probability_${c}`)],
      write: (out, i) => {
        const P = out[p]!;
        const C = P.dims[1] ?? labels.length;
        let line = out[l] ? element(out[l], i) : '';
        for (let c = 0; c < C; c++) line += `,${element(P, i * C + c)}`;
        return line;
      },
    };
  }
  const specs = model.outputs;
  const names: string[] = [];
  for (const o of specs) {
    const width = o.shape.slice(1).reduce((a, b) => a * Math.max(b, 1), 1);
    if (width === 1) names.push(o.name);
    else for (let j = 0; j < width; j++) names.push(`${o.name}_${j}`);
  }
  return {
    names,
    write: (out, i) =>
      specs
        .map((o) => {
          const t = out[o.name]!;
          const width = t.dims.slice(1).reduce((a, b) => a * b, 1);
          const cells: string[] = [];
          for (let j = 0; j < width; j++) cells.push(element(t, i * width + j));
          return cells.join(',');
        })
        .join(','),
  };
}

/** Submits batch scoring jobs and runs them (the job handler). */
export class BatchScoring {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly artifacts: ArtifactStore,
    private readonly jobs: JobQueue,
    private readonly load: (version: ModelVersion) => Promise<LoadedModel>,
  ) {}

  /** Checks that the model can score rows before a job is queued. */
  async submit(
    projectId: string,
    model: ModelVersion,
    input: BatchPredictPayload['input'],
    createdBy: string,
  ): Promise<Job> {
    if (model.signature.inputs.length === 0 && !columnShaped(model))
      throw new AppError(
        'VALIDATION_FAILED',
        `model ${model.model} version ${model.version} takes tensors, not CSV columns: batch scoring needs a model with column inputs`,
        [{ path: 'model', message: 'takes tensors, not columns' }],
      );
    const payload: BatchPredictPayload = { projectId, modelVersionId: model.id, input };
    return this.jobs.enqueue({ projectId, type: BATCH_PREDICT_JOB, payload, createdBy, maxAttempts: 2 });
  }

  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const { projectId, modelVersionId, input } = job.payload as BatchPredictPayload;
    const version = await this.registry.getVersionById(projectId, modelVersionId);
    const model = await this.load(version);
    try {
      const result = await this.score(model, input, ctx);
      return { result };
    } finally {
      model.runtime.unload();
    }
  };

  private async score(
    model: LoadedModel,
    input: BatchPredictPayload['input'],
    ctx: JobContext,
  ): Promise<BatchPredictResult> {
    const encoder = model.rows;
    if (!encoder) throw new PermanentJobError('the model takes tensors, not CSV columns');
    const started = performance.now();
    const path = await this.artifacts.localPath(input.hash);
    const fileBytes = (await stat(path)).size;
    const source = createReadStream(path);
    let bytesRead = 0;
    source.on('data', (chunk) => (bytesRead += chunk.length));
    const parser = source.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: false }));
    const predictions = predictionColumns(model);
    const writer = await this.artifacts.begin();
    let header: string[] | undefined;
    let picks: number[] = [];
    let rows = 0;
    let chunk: string[][] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const matrix = chunk.map((r) => picks.map((k) => value(r[k]!)));
      let feeds: Tensors;
      try {
        feeds = encoder.encodeTable(undefined, matrix, '/rows');
      } catch (error) {
        const first = error instanceof AppError ? error.errors[0] : undefined;
        const at = first ? /^\/rows\/(\d+)\/(\d+) \((.*)\)$/.exec(first.path) : null;
        const where = at ? `row ${rows + Number(at[1]) + 1}, column ${at[3]}` : 'a row';
        throw new PermanentJobError(`${where}: ${first?.message ?? (error as Error).message}`);
      }
      const out = model.runtime.run(feeds);
      let text = '';
      for (let i = 0; i < chunk.length; i++)
        text += `${chunk[i]!.map(csvCell).join(',')},${predictions.write(out, i)}\n`;
      await writer.write(Buffer.from(text));
      rows += chunk.length;
      chunk = [];
      const fraction = input.rowCount ? rows / input.rowCount : bytesRead / Math.max(fileBytes, 1);
      ctx.progress(Math.min(0.99, fraction), `${rows} rows scored`, {
        rows,
        rowsPerSecond: Math.round(rows / ((performance.now() - started) / 1000)),
      });
      // Let online requests in between chunks.
      await new Promise((resolve) => setImmediate(resolve));
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
    };
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        if (!header) {
          header = record.map((h) => h.trim());
          const names = encoder.names;
          const missing = names.filter((n) => !header!.includes(n));
          if (missing.length > 0)
            throw new PermanentJobError(
              `the CSV has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (the model's inputs: ${names.join(', ')})`,
            );
          picks = names.map((n) => header!.indexOf(n));
          await writer.write(Buffer.from(`${[...header, ...predictions.names].map(csvCell).join(',')}\n`));
          continue;
        }
        chunk.push(record);
        if (chunk.length >= CHUNK_ROWS) await flush();
      }
      await flush();
      if (!header) throw new PermanentJobError('the CSV is empty');
      const ref = await writer.commit();
      const seconds = (performance.now() - started) / 1000;
      return {
        model: model.version.model,
        version: model.version.version,
        input: input.label,
        rows,
        columns: [...header, ...predictions.names],
        artifactHash: ref.hash,
        sizeBytes: ref.size,
        seconds: Math.round(seconds * 1000) / 1000,
        rowsPerSecond: Math.round(rows / Math.max(seconds, 1e-6)),
      };
    } catch (error) {
      await writer.abort();
      source.destroy();
      const e = error as { code?: string; message?: string };
      if (typeof e.code === 'string' && e.code.startsWith('CSV_'))
        throw new PermanentJobError(`the CSV cannot be read: ${e.message}`);
      throw error;
    }
  }
}

function columnShaped(model: ModelVersion): boolean {
  const inputs = model.signature.tensors?.inputs;
  return (
    inputs !== undefined &&
    inputs.length > 0 &&
    inputs.every(
      (t) => (t.shape.length === 1 && t.shape[0] === -1) || (t.shape.length === 2 && t.shape[1] === 1),
    )
  );
}
