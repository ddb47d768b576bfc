/**
 * Loosely shaped inputs (MLflow `instances` / `inputs`, `/api/predict`'s `input_parameters`):
 * rows when the model takes columns, tensors when it takes tensors. One codec, chosen per model.
 */
import { AppError } from '../errors/index.js';
import type { Signature } from '../registry/service.js';
import { outputFor, rowValue, tensorsToPredictions } from './codec.js';
import type { LoadedModel } from './model.js';
import type { Tensors } from './tensors.js';
import type { WireInput } from './v2.js';

function bad(path: string, message: string): AppError {
  return new AppError('PREDICTION_INPUT_INVALID', `${path} ${message}`, [{ path, message }]);
}

/** The shape of a nested JSON array, read along its first elements (the decoder checks the count). */
export function shapeOf(value: unknown): number[] {
  const dims: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    dims.push(v.length);
    v = v[0];
  }
  return dims;
}

function tensor(model: LoadedModel, name: string, value: unknown): WireInput {
  const slot = model.layout.slots.get(name);
  return {
    name,
    datatype: slot?.spec.datatype,
    shape: shapeOf(value),
    data: Array.isArray(value) ? value : [value],
  };
}

/** `instances` / `inputs` for a model that takes tensors. */
export function instancesToTensors(model: LoadedModel, value: unknown, path: string): WireInput[] {
  const names = [...model.layout.slots.keys()];
  if (Array.isArray(value)) {
    if (value.length === 0) throw bad(path, 'must hold at least one instance');
    const first = value[0];
    if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
      // Row format: one object per instance, {input: value of this instance}; stacked per input.
      const stacked: Record<string, unknown[]> = {};
      value.forEach((instance, i) => {
        if (typeof instance !== 'object' || instance === null || Array.isArray(instance))
          throw bad(`${path}/${i}`, 'must be an object of input name to value, like the first instance');
        for (const [k, v] of Object.entries(instance as Record<string, unknown>)) (stacked[k] ??= []).push(v);
      });
      return Object.entries(stacked).map(([k, v]) => tensor(model, k, v));
    }
    if (names.length !== 1)
      throw bad(
        path,
        `this model takes ${names.length} inputs (${names.join(', ')}): send an object of input name to values`,
      );
    return [tensor(model, names[0]!, value)];
  }
  if (typeof value === 'object' && value !== null)
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => tensor(model, k, v));
  throw bad(path, 'must be an array of instances or an object of input name to values');
}

/** MLflow's answer: labels (classification), values (regression), or the outputs (other models). */
export function mlflowPredictions(signature: Signature, outputs: Tensors, rows: number): unknown {
  if (signature.task === 'classification' || signature.task === 'regression') {
    // The label (or value) output alone, without building every row's probabilities.
    const out = outputs[outputFor(signature, signature.task === 'classification' ? 'label' : 'value')];
    if (out) return Array.from({ length: rows }, (_v, i) => rowValue(out, i));
    const predictions = tensorsToPredictions(signature, outputs, rows);
    return predictions.map((p) => ('label' in p ? p.label : (p as { value: number }).value));
  }
  const names = Object.keys(outputs);
  const column = (name: string) => Array.from({ length: rows }, (_v, i) => rowValue(outputs[name]!, i));
  if (names.length === 1) return column(names[0]!);
  return Object.fromEntries(names.map((n) => [n, column(n)]));
}

/** The targets `/api/predict` can answer for a model: its target column, its outputs, class labels. */
export function predictTargets(model: LoadedModel): string[] {
  const s = model.version.signature;
  const out = new Set<string>();
  if (s.target !== undefined) out.add(s.target);
  for (const o of model.outputs) out.add(o.name);
  if (s.task === 'classification') for (const l of s.labels ?? []) out.add(String(l));
  return [...out];
}

/** One row's answer for an `output_target` (`/api/predict`). */
export function predictTarget(model: LoadedModel, outputs: Tensors, target: string | undefined): unknown {
  const s = model.version.signature;
  if (target === undefined || target === s.target) {
    const [p] = tensorsToPredictions(s, outputs, 1);
    if (s.task === 'classification') return (p as { label: unknown }).label;
    if (s.task === 'regression') return (p as { value: number }).value;
    return p;
  }
  if (outputs[target]) return rowValue(outputs[target], 0);
  if (s.task === 'classification') {
    const [p] = tensorsToPredictions(s, outputs, 1) as { probabilities: Record<string, number> }[];
    if (p && Object.hasOwn(p.probabilities, target)) return p.probabilities[target];
    if (target === outputFor(s, 'probabilities') || target === 'probabilities') return p?.probabilities;
  }
  throw new AppError(
    'VALIDATION_FAILED',
    `output_target ${JSON.stringify(target)} is not something this model predicts; use one of ${predictTargets(
      model,
    )
      .map((t) => JSON.stringify(t))
      .join(', ')}`,
    [{ path: '/output_target', message: 'unknown target' }],
  );
}
