import { AppError, type FieldIssue } from '../errors/index.js';
import type { Signature } from '../registry/service.js';
import type { NamedTensor } from './runtime.js';

/** One prediction as returned to callers. */
export type Prediction =
  | { readonly label: string | number; readonly probabilities: Record<string, number> }
  | { readonly value: number };

const MAX_ISSUES = 20;

/**
 * Rows by column name → one [N,1] tensor per input, checked against the signature: a missing,
 * extra or mistyped column is refused with its path. `null` is a missing value (imputed as in training).
 */
export function rowsToTensors(signature: Signature, rows: readonly unknown[]): Record<string, NamedTensor> {
  const n = rows.length;
  const issues: FieldIssue[] = [];
  const report = (path: string, message: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ path, message });
  };
  const known = new Set(signature.inputs.map((i) => i.name));
  const numeric = new Map<string, Float32Array>();
  const strings = new Map<string, string[]>();
  for (const input of signature.inputs) {
    if (input.type === 'numeric') numeric.set(input.name, new Float32Array(n));
    else strings.set(input.name, new Array<string>(n));
  }
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      report(`/rows/${i}`, 'must be an object of column name to value');
      continue;
    }
    const record = row as Record<string, unknown>;
    for (const key of Object.keys(record))
      if (!known.has(key)) report(`/rows/${i}/${key}`, 'is not an input of this model');
    for (const input of signature.inputs) {
      const path = `/rows/${i}/${input.name}`;
      if (!Object.hasOwn(record, input.name)) {
        report(path, 'is missing (send null for an unknown value)');
        continue;
      }
      const v = record[input.name];
      if (input.type === 'numeric') {
        if (v === null) numeric.get(input.name)![i] = NaN;
        else if (typeof v === 'number' && Number.isFinite(v)) numeric.get(input.name)![i] = v;
        else report(path, `must be a number or null, got ${describe(v)}`);
      } else if (v === null) {
        strings.get(input.name)![i] = '';
      } else if (typeof v === 'string') {
        strings.get(input.name)![i] = input.type === 'boolean' ? normaliseBoolean(v) : v.trim();
      } else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
        strings.get(input.name)![i] = String(v);
      } else {
        report(path, `must be a string or null, got ${describe(v)}`);
      }
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new AppError(
      'PREDICTION_INPUT_INVALID',
      `${first.path} ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
      issues,
    );
  }
  const feeds: Record<string, NamedTensor> = {};
  for (const [name, data] of numeric) feeds[name] = { type: 'float32', data, dims: [n, 1] };
  for (const [name, data] of strings) feeds[name] = { type: 'string', data, dims: [n, 1] };
  return feeds;
}

function normaliseBoolean(v: string): string {
  const s = v.trim().toLowerCase();
  return s === 'true' || s === 'yes' ? 'true' : s === 'false' || s === 'no' ? 'false' : s;
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** ONNX outputs → one prediction per row. */
export function tensorsToPredictions(
  signature: Signature,
  outputs: Record<string, NamedTensor>,
  n: number,
): Prediction[] {
  const out: Prediction[] = new Array(n);
  if (signature.task === 'regression') {
    const values = outputs.value?.data as Float32Array | undefined;
    if (!values) throw new Error('the model has no value output');
    for (let i = 0; i < n; i++) out[i] = { value: values[i]! };
    return out;
  }
  const labels = signature.labels ?? [];
  const P = outputs.probabilities?.data as Float32Array | undefined;
  const L = outputs.label?.data as BigInt64Array | string[] | undefined;
  if (!P || !L) throw new Error('the model has no label or probabilities output');
  const C = labels.length;
  for (let i = 0; i < n; i++) {
    const probabilities: Record<string, number> = {};
    for (let c = 0; c < C; c++) probabilities[String(labels[c])] = P[i * C + c]!;
    const raw = L[i]!;
    out[i] = { label: typeof raw === 'bigint' ? Number(raw) : raw, probabilities };
  }
  return out;
}
