import { AppError, invalid } from '../../errors/index.js';
import type { Job, JobContext, JobHandler, JobOutcome, JobQueue } from '../../jobs/queue.js';
import type { ArtifactStore } from '../../store/artifacts.js';
import type { DatasetService } from '../service.js';
import { imageTensor, type ImageService } from './images.js';

export const IMAGE_PREDICT_JOB = 'image_predict';
const CHUNK = 256;

/** A loaded model as image scoring needs it; the composition root adapts the serving runtime to it. */
export interface ImageModelRuntime {
  readonly inputs: readonly {
    readonly name: string;
    readonly datatype: string;
    readonly shape: readonly number[];
  }[];
  run(
    feeds: Record<string, { type: 'float32'; data: Float32Array; dims: readonly number[] }>,
  ): Record<string, { readonly data: ArrayLike<unknown>; readonly dims: readonly number[] }>;
  close(): void;
}

/** How image scoring finds models without importing the registry or serving (data/ imports neither). */
export interface ImageModels {
  /** The version a deployment answers with by default, or a model's version (latest when none). */
  resolve(
    projectId: string,
    ref: { deployment?: string | undefined; model?: string | undefined; version?: number | undefined },
  ): Promise<{ id: string; model: string; version: number }>;
  open(projectId: string, modelVersionId: string): Promise<ImageModelRuntime>;
}

export interface ImageScoringRequest {
  readonly deployment?: string | undefined;
  readonly model?: string | undefined;
  readonly modelVersion?: number | undefined;
}

interface Payload {
  readonly projectId: string;
  readonly datasetVersionId: string;
  readonly modelVersionId: string;
  readonly label: string;
}

/**
 * Scores every image of an image dataset version with an image model (one float32 input shaped
 * [N, 1 or 3, H, W]): the images are resized to H×W and scaled to 0..1 by imageTensor, in chunks,
 * and the result is a CSV in the artifact store: file, label, sha256, prediction, score.
 */
export class ImageScoring {
  constructor(
    private readonly datasets: DatasetService,
    private readonly images: ImageService,
    private readonly models: ImageModels,
    private readonly artifacts: ArtifactStore,
    private readonly jobs: JobQueue,
  ) {}

  async submit(
    projectId: string,
    dataset: string,
    datasetVersion: number,
    request: ImageScoringRequest,
    createdBy: string,
  ): Promise<Job> {
    if ((request.deployment === undefined) === (request.model === undefined))
      throw invalid('deployment', 'give either a deployment or a model');
    if (request.deployment !== undefined && request.modelVersion !== undefined)
      throw invalid('modelVersion', 'only with a model; a deployment answers with its own version');
    const version = await this.datasets.getVersion(projectId, dataset, datasetVersion);
    if (version.sourceInfo?.kind !== 'images')
      throw invalid('dataset', `${dataset}@${datasetVersion} is not an image dataset`);
    const model = await this.models.resolve(projectId, {
      deployment: request.deployment,
      model: request.model,
      version: request.modelVersion,
    });
    const payload: Payload = {
      projectId,
      datasetVersionId: version.id,
      modelVersionId: model.id,
      label: `${model.model}@${model.version}`,
    };
    return this.jobs.enqueue({ projectId, type: IMAGE_PREDICT_JOB, payload, createdBy, maxAttempts: 2 });
  }

  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const p = job.payload as Payload;
    const version = await this.datasets.getVersionById(p.projectId, p.datasetVersionId);
    const rows = await this.images.list(version);
    const runtime = await this.models.open(p.projectId, p.modelVersionId);
    const writer = await this.artifacts.begin();
    try {
      const input = runtime.inputs.length === 1 ? runtime.inputs[0]! : undefined;
      const [, C, H, W] = input?.shape ?? [];
      if (
        !input ||
        input.shape.length !== 4 ||
        (C !== 1 && C !== 3) ||
        !(H! > 0) ||
        !(W! > 0) ||
        input.datatype !== 'FP32'
      )
        throw new AppError(
          'VALIDATION_FAILED',
          `the model must take one FP32 input shaped [N, 1 or 3, H, W]; it takes ${runtime.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ')}`,
        );
      await writer.write(Buffer.from('file,label,sha256,prediction,score\n'));
      let correct = 0;
      let labelled = 0;
      for (let start = 0; start < rows.length; start += CHUNK) {
        ctx.signal.throwIfAborted();
        const chunk = rows.slice(start, start + CHUNK);
        const bytes = await Promise.all(chunk.map((r) => this.artifacts.get(r.sha256)));
        const { data, dims } = imageTensor(
          bytes,
          { height: H!, width: W!, channels: C },
          this.images.maxImagePixels,
        );
        const outputs = runtime.run({ [input.name]: { type: 'float32', data, dims } });
        const scores = Object.values(outputs).find((o) => o.dims.length === 2 && o.dims[0] === chunk.length);
        if (!scores)
          throw new AppError(
            'VALIDATION_FAILED',
            'the model returns no [N, classes] output to pick a class from',
          );
        const K = scores.dims[1]!;
        const lines: string[] = [];
        chunk.forEach((row, n) => {
          let best = 0;
          for (let k = 1; k < K; k++)
            if (Number(scores.data[n * K + k]) > Number(scores.data[n * K + best])) best = k;
          if (/^\d+$/.test(row.label)) {
            labelled++;
            if (Number(row.label) === best) correct++;
          }
          lines.push(
            [csv(row.file), csv(row.label), row.sha256, best, Number(scores.data[n * K + best])].join(','),
          );
        });
        await writer.write(Buffer.from(`${lines.join('\n')}\n`));
        ctx.progress(
          (start + chunk.length) / rows.length,
          `${start + chunk.length} of ${rows.length} images scored`,
        );
        // Let the event loop serve requests between chunks.
        await new Promise((r) => setImmediate(r));
      }
      const ref = await writer.commit();
      return {
        result: {
          model: p.label,
          dataset: `${version.dataset}@${version.version}`,
          rows: rows.length,
          ...(labelled > 0 ? { accuracy: correct / labelled } : {}),
          artifactHash: ref.hash,
          sizeBytes: ref.size,
        },
      };
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      runtime.close();
    }
  };
}

/**
 * One CSV field. Fields a spreadsheet would run as a formula (starting with = + - @, tab or CR)
 * get a leading apostrophe, as OWASP advises against CSV injection; then quoting as RFC 4180.
 */
export function csv(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
