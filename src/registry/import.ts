/**
 * Importing an ONNX file as a new model version.
 *
 * The upload streams into the artifact store's writer (the size limit is enforced while
 * reading), then the bytes are checked in three steps before anything becomes visible:
 *   1. `inspectOnnx` — a defensive protobuf reader — refuses what is not ONNX, truncated or
 *      broken, and tensors kept in external files;
 *   2. ONNX Runtime loads the model once, in a child process with an empty environment
 *      (`onnx-probe.ts`), with the options serving uses: an operator it cannot run or an
 *      invalid graph is refused with its own reason, and a crash takes only the child down;
 *   3. the signature is derived from ONNX Runtime's view of the inputs and outputs plus the
 *      caller's options (task, labels, description), or restored from the `mass.signature`
 *      metadata of a model Mass exported itself.
 * Only then is the blob committed and the version registered, in one transaction. Any failure
 * aborts the writer: no blob, no temp file, no model, no version.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, invalid } from '../errors/index.js';
import {
  OnnxFormatError,
  inspectOnnx,
  type OnnxModelInfo,
  type OnnxType,
  type OnnxValueInfo,
} from '../onnx/inspect.js';
import type { ArtifactStore } from '../store/artifacts.js';
import type { MetadataStore } from '../store/metadata.js';
import type { ProbeReply, ProbeTensor } from './onnx-probe.js';
import {
  MODEL_NAME,
  TASKS,
  type Datatype,
  type ModelRegistry,
  type ModelVersion,
  type Signature,
  type SignatureInput,
  type Task,
  type TensorSpec,
} from './service.js';

/** Tasks a caller may give an imported model. */
export const IMPORT_TASKS = ['classification', 'regression', 'custom'] as const;
export type ImportTask = (typeof IMPORT_TASKS)[number];

/** What the caller may say about an uploaded model (query parameters or a JSON header). */
export interface ImportOptions {
  /** Default: restored from `mass.signature`, else `classification` when labels are given, else `custom`. */
  readonly task?: ImportTask | undefined;
  /** Class labels, in the order of the columns of the probabilities output (classification). */
  readonly labels?: readonly (string | number)[] | undefined;
  /**
   * The output holding the class probabilities (classification) or the predicted value
   * (regression), when the file does not make it plain (an output named `probabilities` or
   * `value`, or the only float output).
   */
  readonly output?: string | undefined;
  readonly description?: string | undefined;
}

export interface ImportRequest {
  readonly projectId: string;
  readonly model: string;
  readonly body: AsyncIterable<Uint8Array | string>;
  readonly maxBytes: number;
  readonly options: ImportOptions;
  /** The API key that uploaded the file, recorded in the version's params. */
  readonly uploadedBy?: string | undefined;
}

/** Loads a model in ONNX Runtime and reports its inputs and outputs, or ONNX Runtime's reason to refuse it. */
export type OnnxProbe = (bytes: Uint8Array) => Promise<ProbeReply>;

export const MASS_SIGNATURE_KEY = 'mass.signature';
export const MASS_METRICS_KEY = 'mass.metrics';
const MAX_LABELS = 10_000;
const MAX_LABEL_LENGTH = 256;
const MAX_DESCRIPTION = 2_000;
/** Metadata values longer than this are not parsed as Mass's own JSON. */
const MAX_METADATA_JSON = 1024 * 1024;

export class ModelImporter {
  constructor(
    private readonly store: MetadataStore,
    private readonly artifacts: ArtifactStore,
    private readonly registry: ModelRegistry,
    private readonly codeVersion: string,
    private readonly probe: OnnxProbe = probeInChildProcess,
  ) {}

  async import(request: ImportRequest): Promise<ModelVersion> {
    const { projectId, model } = request;
    if (!MODEL_NAME.test(model))
      throw invalid(
        'model',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    const options = checkOptions(request.options);

    const writer = await this.artifacts.begin();
    let committed = false;
    try {
      const chunks: Buffer[] = [];
      for await (const piece of request.body) {
        const chunk =
          typeof piece === 'string'
            ? Buffer.from(piece)
            : Buffer.isBuffer(piece)
              ? piece
              : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        if (writer.size + chunk.byteLength > request.maxBytes) {
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `the model file is larger than the limit of ${request.maxBytes} bytes`,
          );
        }
        await writer.write(chunk);
        chunks.push(chunk);
      }
      const bytes = Buffer.concat(chunks);
      chunks.length = 0;
      if (bytes.length === 0)
        throw new AppError('MODEL_INVALID', 'the body is empty: send the .onnx file as the request body');

      let info: OnnxModelInfo;
      try {
        info = inspectOnnx(bytes);
      } catch (error) {
        if (!(error instanceof OnnxFormatError)) throw error;
        throw new AppError('MODEL_INVALID', `the file is not a valid ONNX model: ${error.message}`);
      }
      const loaded = await this.probe(bytes);
      if (!loaded.ok)
        throw new AppError('MODEL_UNSUPPORTED', `ONNX Runtime cannot load the model: ${loaded.message}`);
      const derived = deriveSignature(info, loaded, options);

      return await this.store.transaction(async (trx) => {
        // Checked before the blob is committed, so a refused version leaves nothing behind.
        const existing = await this.registry.modelTask(trx, projectId, model);
        if (existing !== undefined && existing !== derived.signature.task) {
          throw new AppError(
            'STATE_CONFLICT',
            `model ${model} is a ${existing} model; this file would be a ${derived.signature.task} version (pass task=${existing}${existing === 'classification' ? ' and labels' : ''}, or import under another name)`,
          );
        }
        const ref = await writer.commit();
        committed = true;
        return this.registry.addVersion(trx, {
          projectId,
          model,
          task: derived.signature.task,
          artifactHash: ref.hash,
          sizeBytes: ref.size,
          algorithm: 'imported',
          params: {
            source: 'upload',
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(request.uploadedBy ? { uploadedBy: request.uploadedBy } : {}),
            producer: { name: info.producerName, version: info.producerVersion },
            irVersion: info.irVersion,
            opsets: Object.fromEntries(info.opsetImports.map((o) => [o.domain || 'ai.onnx', o.version])),
            graph: info.graph.name,
            signatureRestored: derived.restored,
            ...(derived.warnings.length > 0 ? { warnings: derived.warnings } : {}),
          },
          metrics: derived.metrics,
          signature: derived.signature,
          datasetVersionId: null,
          jobId: null,
          codeVersion: this.codeVersion,
        });
      });
    } catch (error) {
      if (!committed) await writer.abort().catch(() => undefined);
      throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function checkOptions(o: ImportOptions): ImportOptions {
  if (o.task !== undefined && !(IMPORT_TASKS as readonly string[]).includes(o.task))
    throw invalid('task', `must be one of ${IMPORT_TASKS.join(', ')}`);
  if (o.labels !== undefined) {
    if (!Array.isArray(o.labels) || o.labels.length === 0)
      throw invalid('labels', 'must name at least one label');
    if (o.labels.length > MAX_LABELS) throw invalid('labels', `at most ${MAX_LABELS} labels`);
    for (const [i, l] of o.labels.entries()) {
      if (typeof l === 'number' ? !Number.isFinite(l) : typeof l !== 'string' || l === '')
        throw invalid(`labels/${i}`, 'must be a non-empty string or a finite number');
      if (String(l).length > MAX_LABEL_LENGTH)
        throw invalid(`labels/${i}`, `must be at most ${MAX_LABEL_LENGTH} characters`);
    }
    if (new Set(o.labels.map(String)).size !== o.labels.length)
      throw invalid('labels', 'a label is given twice');
    if (o.task !== undefined && o.task !== 'classification')
      throw invalid('labels', `labels name the classes of a classifier; the task is ${o.task}`);
  }
  if (
    o.description !== undefined &&
    (typeof o.description !== 'string' || o.description.length > MAX_DESCRIPTION)
  )
    throw invalid('description', `must be text of at most ${MAX_DESCRIPTION} characters`);
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output === ''))
    throw invalid('output', 'must name an output of the model');
  return o;
}

/**
 * Import options from query-string values: `labels` is comma separated (numbers stay strings:
 * `labels=0,1` names the classes "0" and "1"; use the JSON header for numeric labels).
 */
export function optionsFromQuery(q: {
  task?: string | undefined;
  labels?: string | undefined;
  output?: string | undefined;
  description?: string | undefined;
}): ImportOptions {
  return {
    task: q.task as ImportTask | undefined,
    labels: q.labels === undefined ? undefined : q.labels.split(',').map((s) => s.trim()),
    output: q.output,
    description: q.description,
  };
}

/**
 * Import options from the JSON of a header (`{"task", "labels", "output", "description"}`),
 * for labels that hold commas or are numbers. `where` names the header in errors.
 */
export function optionsFromJson(raw: string, where: string): ImportOptions {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalid(where, 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(where, 'must be a JSON object');
  const o = value as Record<string, unknown>;
  const known = ['task', 'labels', 'output', 'description'];
  for (const key of Object.keys(o))
    if (!known.includes(key)) throw invalid(`${where}/${key}`, 'is not an option');
  const str = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalid(`${where}/${key}`, 'must be a string');
    return v;
  };
  if (o.labels !== undefined && !Array.isArray(o.labels))
    throw invalid(`${where}/labels`, 'must be an array');
  return {
    task: str('task') as ImportTask | undefined,
    labels: o.labels as (string | number)[] | undefined,
    output: str('output'),
    description: str('description'),
  };
}

/** Header options first, then the query string's, which win where both say something. */
export function mergeOptions(a: ImportOptions, b: ImportOptions): ImportOptions {
  return {
    task: b.task ?? a.task,
    labels: b.labels ?? a.labels,
    output: b.output ?? a.output,
    description: b.description ?? a.description,
  };
}

// ---------------------------------------------------------------------------------------------
// Signature

/** ONNX Runtime's element type names → Open Inference Protocol datatypes; others cannot be served. */
const ORT_TO_DATATYPE: Readonly<Record<string, Datatype>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  uint8: 'UINT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  string: 'BYTES',
};

/** ONNX TensorProto element type names (inspect.ts) → datatypes. */
const ONNX_TO_DATATYPE: Readonly<Record<string, Datatype>> = {
  float: 'FP32',
  double: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  uint8: 'UINT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  string: 'BYTES',
};

const FLOATS: readonly Datatype[] = ['FP32', 'FP64', 'FP16'];

function describeType(t: OnnxType | undefined): string {
  if (!t) return 'not a tensor';
  switch (t.kind) {
    case 'tensor':
      return `a ${t.elemTypeName} tensor`;
    case 'sparse_tensor':
      return 'a sparse tensor';
    case 'sequence':
      return t.elem?.kind === 'map' ? 'a sequence of maps' : 'a sequence';
    case 'map':
      return 'a map';
    case 'optional':
      return 'an optional value';
    default:
      return 'of unknown type';
  }
}

function toSpec(t: ProbeTensor, kind: 'input' | 'output', declared: OnnxValueInfo | undefined): TensorSpec {
  if (!t.isTensor) {
    const what = describeType(declared?.type);
    const hint =
      what === 'a sequence of maps'
        ? " (scikit-learn's ZipMap: convert with options={id(model): {'zipmap': False}})"
        : '';
    throw new AppError(
      'MODEL_UNSUPPORTED',
      `the ${kind} ${JSON.stringify(t.name)} is ${what}${hint}; Mass serves models whose inputs and outputs are tensors`,
    );
  }
  const datatype = ORT_TO_DATATYPE[t.type];
  if (!datatype)
    throw new AppError(
      'MODEL_UNSUPPORTED',
      `the ${kind} ${JSON.stringify(t.name)} is a ${t.type} tensor; Mass serves ${Object.keys(ORT_TO_DATATYPE).join(', ')} tensors`,
    );
  return {
    name: t.name,
    datatype,
    shape: t.shape.map((d) => (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? d : -1)),
  };
}

/** The tensors of a graph as inspect.ts reads them (for models stored before tensors were recorded). */
export function tensorsFromInspect(info: OnnxModelInfo): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const spec = (v: OnnxValueInfo): TensorSpec | undefined => {
    if (v.type.kind !== 'tensor') return undefined;
    const datatype = ONNX_TO_DATATYPE[v.type.elemTypeName];
    if (!datatype) return undefined;
    return {
      name: v.name,
      datatype,
      shape: (v.type.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)),
    };
  };
  return {
    inputs: info.graph.inputs.map(spec).filter((s): s is TensorSpec => s !== undefined),
    outputs: info.graph.outputs.map(spec).filter((s): s is TensorSpec => s !== undefined),
  };
}

interface Derived {
  readonly signature: Signature;
  readonly metrics: Record<string, unknown>;
  readonly restored: boolean;
  readonly warnings: string[];
}

const PROBABILITY_NAMES = ['probabilities', 'output_probability', 'probability', 'probs', 'scores'];
const LABEL_NAMES = ['label', 'output_label', 'labels', 'predicted_label'];
const VALUE_NAMES = ['value', 'variable', 'predictions', 'prediction', 'output'];

export function deriveSignature(
  info: OnnxModelInfo,
  probe: { inputs: readonly ProbeTensor[]; outputs: readonly ProbeTensor[] },
  options: ImportOptions,
): Derived {
  const declaredIn = new Map(info.graph.inputs.map((v) => [v.name, v]));
  const declaredOut = new Map(info.graph.outputs.map((v) => [v.name, v]));
  const tensors = {
    inputs: probe.inputs.map((t) => toSpec(t, 'input', declaredIn.get(t.name))),
    outputs: probe.outputs.map((t) => toSpec(t, 'output', declaredOut.get(t.name))),
  };
  if (tensors.outputs.length === 0) throw new AppError('MODEL_UNSUPPORTED', 'the model has no outputs');
  const warnings: string[] = [];

  // A model Mass exported itself: rows by column again, as it was trained.
  const restored = restoreMassSignature(info, tensors.inputs, warnings);
  const task: Task =
    options.task ?? restored?.task ?? (options.labels !== undefined ? 'classification' : 'custom');
  if (options.labels !== undefined && task !== 'classification')
    throw invalid('labels', `labels name the classes of a classifier; this model is a ${task} model`);
  const useRestored = restored !== undefined && restored.task === task;
  const metrics = useRestored ? restoreMetrics(info) : {};
  const base = {
    task,
    ...(useRestored && restored.target !== undefined ? { target: restored.target } : {}),
    inputs: useRestored ? restored.inputs : ([] as SignatureInput[]),
    tensors,
  };
  if (task === 'classification') {
    const probabilities = pickOutput(
      tensors.outputs,
      options.output,
      PROBABILITY_NAMES,
      (t) => FLOATS.includes(t.datatype) && t.shape.length === 2,
      'the class probabilities (a float [N,C] output)',
    );
    const columns = probabilities.shape[1];
    const fixed = columns !== undefined && columns > 0 ? columns : undefined;
    const labels =
      options.labels ??
      (useRestored ? restored.labels : undefined) ??
      (fixed !== undefined ? Array.from({ length: fixed }, (_, c) => c) : undefined);
    if (labels === undefined)
      throw invalid(
        'labels',
        `the output ${JSON.stringify(probabilities.name)} has a dynamic number of columns; name the classes with labels`,
      );
    if (fixed !== undefined && labels.length !== fixed)
      throw invalid(
        'labels',
        `the output ${JSON.stringify(probabilities.name)} has ${fixed} columns (classes); ${labels.length} labels were given`,
      );
    const label = tensors.outputs.find(
      (t) =>
        LABEL_NAMES.includes(t.name) &&
        (t.datatype === 'INT64' || t.datatype === 'BYTES' || t.datatype === 'INT32') &&
        t.shape.length <= 2,
    );
    return {
      signature: {
        ...base,
        labels,
        outputRoles: { probabilities: probabilities.name, ...(label ? { label: label.name } : {}) },
      },
      metrics,
      restored: useRestored,
      warnings,
    };
  }
  if (task === 'regression') {
    const value = pickOutput(
      tensors.outputs,
      options.output,
      VALUE_NAMES,
      (t) => FLOATS.includes(t.datatype),
      'the predicted value (a float output)',
    );
    return {
      signature: { ...base, outputRoles: { value: value.name } },
      metrics,
      restored: useRestored,
      warnings,
    };
  }
  if (options.output !== undefined)
    throw invalid('output', 'names the probabilities or value output of a classification or regression');
  return { signature: base, metrics, restored: useRestored, warnings };
}

/** The output given by name, else one with a conventional name, else the only one that fits. */
function pickOutput(
  outputs: readonly TensorSpec[],
  given: string | undefined,
  names: readonly string[],
  fits: (t: TensorSpec) => boolean,
  what: string,
): TensorSpec {
  const list = outputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`).join(', ');
  if (given !== undefined) {
    const t = outputs.find((o) => o.name === given);
    if (!t) throw invalid('output', `the model has no output ${JSON.stringify(given)}; its outputs: ${list}`);
    if (!fits(t)) throw invalid('output', `the output ${JSON.stringify(given)} cannot hold ${what}`);
    return t;
  }
  for (const name of names) {
    const t = outputs.find((o) => o.name === name && fits(o));
    if (t) return t;
  }
  const candidates = outputs.filter(fits);
  if (candidates.length === 1) return candidates[0]!;
  throw invalid(
    'output',
    candidates.length === 0
      ? `no output of the model can hold ${what}; its outputs: ${list}`
      : `several outputs could hold ${what} (${candidates.map((t) => t.name).join(', ')}); name one with output=NAME`,
  );
}

/**
 * The rows-by-column signature a Mass export carries in `mass.signature`, if it is well formed
 * and agrees with the graph: one input per column, [N,1], float for numeric columns and string
 * for the others. Anything else is ignored (with a warning): the model is then served by tensors.
 */
function restoreMassSignature(
  info: OnnxModelInfo,
  inputs: readonly TensorSpec[],
  warnings: string[],
): { task: Task; target?: string; inputs: SignatureInput[]; labels?: (string | number)[] } | undefined {
  const raw = info.metadata.get(MASS_SIGNATURE_KEY);
  if (raw === undefined) return undefined;
  const ignore = (why: string) => {
    warnings.push(`the ${MASS_SIGNATURE_KEY} metadata was ignored: ${why}`);
    return undefined;
  };
  if (raw.length > MAX_METADATA_JSON) return ignore('it is too long');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return ignore('it is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ignore('not an object');
  const s = value as Record<string, unknown>;
  if (typeof s.task !== 'string' || !(TASKS as readonly string[]).includes(s.task))
    return ignore('no known task');
  if (s.target !== undefined && typeof s.target !== 'string') return ignore('the target is not a string');
  if (!Array.isArray(s.inputs) || s.inputs.length === 0) return ignore('no inputs');
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const columns: SignatureInput[] = [];
  for (const item of s.inputs as unknown[]) {
    const c = item as { name?: unknown; type?: unknown } | null;
    if (
      typeof c !== 'object' ||
      c === null ||
      typeof c.name !== 'string' ||
      !['numeric', 'categorical', 'boolean'].includes(String(c.type))
    )
      return ignore('an input is malformed');
    const t = byName.get(c.name);
    if (!t) return ignore(`the graph has no input ${JSON.stringify(c.name)}`);
    const wanted = c.type === 'numeric' ? 'FP32' : 'BYTES';
    if (t.datatype !== wanted || t.shape.length !== 2 || t.shape[1] !== 1)
      return ignore(`the input ${JSON.stringify(c.name)} is not a ${wanted} [N,1] tensor`);
    columns.push({ name: c.name, type: c.type as SignatureInput['type'] });
  }
  if (new Set(columns.map((c) => c.name)).size !== columns.length || columns.length !== inputs.length)
    return ignore('its inputs do not match the graph inputs one to one');
  let labels: (string | number)[] | undefined;
  if (s.labels !== undefined) {
    if (
      !Array.isArray(s.labels) ||
      !s.labels.every((l) => typeof l === 'string' || (typeof l === 'number' && Number.isFinite(l)))
    )
      return ignore('the labels are malformed');
    labels = s.labels as (string | number)[];
  }
  return {
    task: s.task as Task,
    ...(typeof s.target === 'string' ? { target: s.target } : {}),
    inputs: columns,
    ...(labels ? { labels } : {}),
  };
}

/** The metrics a Mass export records (`mass.metrics`), when they are a JSON object. */
function restoreMetrics(info: OnnxModelInfo): Record<string, unknown> {
  const raw = info.metadata.get(MASS_METRICS_KEY);
  if (raw === undefined || raw.length > MAX_METADATA_JSON) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX Runtime, out of process

const PROBE_SCRIPT = fileURLToPath(new URL('./onnx-probe.js', import.meta.url));
const PROBE_TIMEOUT_MS = 60_000;
const MAX_PROBE_OUTPUT = 4 * 1024 * 1024;

/** Loads at once; further uploads wait their turn, so a burst of uploads cannot exhaust memory. */
const MAX_CONCURRENT_PROBES = 2;
let probesRunning = 0;
const probesWaiting: (() => void)[] = [];

async function probeSlot(): Promise<() => void> {
  if (probesRunning >= MAX_CONCURRENT_PROBES)
    await new Promise<void>((resolve) => probesWaiting.push(resolve));
  else probesRunning++;
  return () => {
    const next = probesWaiting.shift();
    if (next) next();
    else probesRunning--;
  };
}

/**
 * Loads the model in a child process (`onnx-probe.ts`) with an empty environment, in an empty
 * temporary folder, and returns what ONNX Runtime says. The child is killed after a minute.
 */
export async function probeInChildProcess(bytes: Uint8Array): Promise<ProbeReply> {
  const release = await probeSlot();
  const cwd = await mkdtemp(join(tmpdir(), 'mass-probe-')).catch((error: unknown) => {
    release();
    throw error;
  });
  try {
    return await new Promise<ProbeReply>((resolve, reject) => {
      const child = spawn(process.execPath, [PROBE_SCRIPT], {
        cwd,
        env: {},
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(() =>
          resolve({ ok: false, message: `loading took longer than ${PROBE_TIMEOUT_MS / 1000} s` }),
        );
      }, PROBE_TIMEOUT_MS);
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        if (out.length < MAX_PROBE_OUTPUT) out += d;
      });
      child.stderr.on('data', (d: string) => {
        if (err.length < 4096) err += d;
      });
      child.on('error', (error) => finish(() => reject(error)));
      child.on('close', (code, signal) =>
        finish(() => {
          const line = out.trim().split('\n').pop() ?? '';
          if (code === 0 && line) {
            try {
              resolve(JSON.parse(line) as ProbeReply);
              return;
            } catch {
              /* fall through */
            }
          }
          if (signal)
            resolve({ ok: false, message: `ONNX Runtime crashed while loading the model (${signal})` });
          else reject(new Error(`the ONNX probe exited with code ${code}: ${err.trim().slice(0, 500)}`));
        }),
      );
      // The child may exit (or crash) before reading everything: that is reported by 'close'.
      child.stdin.on('error', () => undefined);
      child.stdin.end(bytes);
    });
  } finally {
    release();
    await rm(cwd, { recursive: true, force: true });
  }
}
