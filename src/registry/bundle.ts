/**
 * The bundle of a model version: one zip with the ONNX file, its signature and a model card,
 * so the model can be run and understood anywhere without Mass.
 */
import { zipSync, strToU8 } from 'fflate';
import { OnnxFormatError, inspectOnnx, type OnnxModelInfo } from '../onnx/inspect.js';
import { tensorsFromInspect } from './import.js';
import type { ModelVersion, Signature } from './service.js';

export const BUNDLE_FILES = ['model.onnx', 'signature.json', 'model-card.json'] as const;

/** Metadata values in the card are cut to this length (a card is for reading). */
const MAX_CARD_METADATA = 4096;

export interface ModelCard {
  readonly name: string;
  readonly version: number;
  readonly task: string;
  readonly description?: string;
  readonly algorithm: string;
  readonly created: string;
  readonly format: 'onnx';
  readonly file: 'model.onnx';
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly metrics: Record<string, unknown>;
  readonly lineage: {
    readonly source: string;
    readonly datasetVersionId: string | null;
    readonly jobId: string | null;
    readonly codeVersion: string;
    readonly uploadedBy?: string;
  };
  readonly target?: string;
  readonly labels?: readonly (string | number)[];
  /** Columns of rows-by-column requests (models trained by Mass). */
  readonly columns: Signature['inputs'];
  readonly inputs: NonNullable<Signature['tensors']>['inputs'];
  readonly outputs: NonNullable<Signature['tensors']>['outputs'];
  readonly producer: { readonly name: string; readonly version: string };
  readonly irVersion: number | null;
  readonly opsets: Record<string, number>;
  /** The file's own metadata_props (Mass's `mass.*` keys included). */
  readonly metadata: Record<string, string>;
}

/** The signature with its tensors, read from the file when the stored signature predates them. */
export function fullSignature(version: ModelVersion, info: OnnxModelInfo | undefined): Signature {
  if (version.signature.tensors || !info) return version.signature;
  return { ...version.signature, tensors: tensorsFromInspect(info) };
}

/** The file's facts, or undefined for a stored file this reader cannot read (the card says less). */
function tryInspect(onnx: Uint8Array): OnnxModelInfo | undefined {
  try {
    return inspectOnnx(onnx);
  } catch (error) {
    if (error instanceof OnnxFormatError) return undefined;
    throw error;
  }
}

export function modelCard(
  version: ModelVersion,
  onnx: Uint8Array,
  info: OnnxModelInfo | undefined = tryInspect(onnx),
): ModelCard {
  const signature = fullSignature(version, info);
  const params = version.params;
  const description = typeof params.description === 'string' ? params.description : undefined;
  const uploadedBy = typeof params.uploadedBy === 'string' ? params.uploadedBy : undefined;
  const metadata: Record<string, string> = {};
  for (const [k, v] of info?.metadata ?? [])
    metadata[k] = v.length > MAX_CARD_METADATA ? `${v.slice(0, MAX_CARD_METADATA)}…` : v;
  return {
    name: version.model,
    version: version.version,
    task: signature.task,
    ...(description !== undefined ? { description } : {}),
    algorithm: version.algorithm,
    created: version.createdAt,
    format: 'onnx',
    file: 'model.onnx',
    sha256: version.artifactHash,
    sizeBytes: version.sizeBytes,
    metrics: version.metrics,
    lineage: {
      source: typeof params.source === 'string' ? params.source : version.jobId ? 'training' : 'unknown',
      datasetVersionId: version.datasetVersionId,
      jobId: version.jobId,
      codeVersion: version.codeVersion,
      ...(uploadedBy !== undefined ? { uploadedBy } : {}),
    },
    ...(signature.target !== undefined ? { target: signature.target } : {}),
    ...(signature.labels !== undefined ? { labels: signature.labels } : {}),
    columns: signature.inputs,
    inputs: signature.tensors?.inputs ?? [],
    outputs: signature.tensors?.outputs ?? [],
    producer: { name: info?.producerName ?? '', version: info?.producerVersion ?? '' },
    irVersion: info?.irVersion ?? null,
    opsets: Object.fromEntries((info?.opsetImports ?? []).map((o) => [o.domain || 'ai.onnx', o.version])),
    metadata,
  };
}

/**
 * The zip: `model.onnx` stored as is (weights hardly compress), `signature.json` and
 * `model-card.json` deflated. Entries are dated with the version's creation time, so the same
 * version always gives the same bytes.
 */
export function buildBundle(version: ModelVersion, onnx: Uint8Array): Uint8Array {
  const info = tryInspect(onnx);
  const created = new Date(version.createdAt);
  const mtime =
    Number.isNaN(created.getTime()) || created.getFullYear() < 1980 ? new Date(1980, 0, 1) : created;
  const json = (v: unknown) => strToU8(`${JSON.stringify(v, null, 2)}\n`);
  return zipSync(
    {
      'model.onnx': [onnx, { level: 0 }],
      'signature.json': [json(fullSignature(version, info)), { level: 6 }],
      'model-card.json': [json(modelCard(version, onnx, info)), { level: 6 }],
    },
    { mtime },
  );
}
