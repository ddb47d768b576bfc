import { invalid } from '../errors/index.js';
import type { ParamValue, Params, Trainer } from './trainer.js';

/**
 * Checks user parameters against a trainer's ParamSpecs and fills in the defaults. Unknown names,
 * wrong types and values out of range are refused with the path of the field (`params/<name>`).
 */
export function resolveParams(trainer: Trainer, raw: Readonly<Record<string, unknown>> = {}): Params {
  const out: Record<string, ParamValue> = {};
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(trainer.params, name)) {
      const known = Object.keys(trainer.params).join(', ') || 'none';
      throw invalid(`params/${name}`, `${trainer.name} has no parameter ${name}; it takes: ${known}`);
    }
  }
  for (const [name, spec] of Object.entries(trainer.params)) {
    const path = `params/${name}`;
    const value = raw[name];
    if (value === undefined) {
      out[name] = spec.default;
      continue;
    }
    const range = (n: number) => {
      if ('min' in spec && spec.min !== undefined && n < spec.min)
        throw invalid(path, `must be ≥ ${spec.min}`);
      if ('max' in spec && spec.max !== undefined && n > spec.max)
        throw invalid(path, `must be ≤ ${spec.max}`);
    };
    switch (spec.type) {
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw invalid(path, 'must be a finite number');
        range(value);
        out[name] = value;
        break;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value))
          throw invalid(path, 'must be a whole number');
        range(value);
        out[name] = value;
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw invalid(path, 'must be true or false');
        out[name] = value;
        break;
      case 'enum':
        if (typeof value !== 'string' || !spec.values.includes(value))
          throw invalid(path, `must be one of ${spec.values.join(', ')}`);
        out[name] = value;
        break;
      case 'integers':
        if (!Array.isArray(value) || value.length === 0 || !value.every((v) => Number.isInteger(v))) {
          throw invalid(path, 'must be a non-empty list of whole numbers');
        }
        (value as number[]).forEach(range);
        out[name] = [...(value as number[])];
        break;
    }
  }
  return out;
}
