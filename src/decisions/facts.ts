import type * as Nlp from '../nlp/index.js';
import type { Signature } from '../registry/service.js';
import type { FactDecl, RuleSetDef } from '../rules/index.js';
import { AppError, type FieldIssue } from '../errors/index.js';

/** One model's answer for the decision's row, as the native predict API gives it. */
export type ModelOutput = Record<string, unknown>;

type Analysis = ReturnType<(typeof Nlp)['analyzeText']>;
interface Analyzer {
  readonly analyze: (text: string) => Analysis;
  readonly tokenize: (text: string) => string[];
}
let nlp: Promise<Analyzer> | undefined;

/** The nlp module, loaded on the first text fact (wink-nlp's model is not needed before). */
export function textAnalyzer(): Promise<Analyzer> {
  nlp ??= import('../nlp/index.js').then((m) => ({ analyze: m.analyzeText, tokenize: m.tokenize }));
  return nlp;
}

/** Text features whose value is a list of strings. */
const LIST_FEATURES = new Set(['keywords', 'entities', 'tokens']);

/**
 * The value a model fact reads from a model's answer, by the fact's `model.output`:
 * - `label`: the predicted class (classification);
 * - `value`: the predicted number (regression);
 * - `score`: regression: the value; binary classification: the probability of the second class
 *   in the signature's labels (the positive one: 1, true, yes); more classes: the top probability;
 * - `probability_<class>` (or `probability:<class>`): the probability of that class;
 * - anything else: the output of that name (custom and imported models), a one-element array read as its element.
 * Undefined when the answer has no such output.
 */
export function modelOutputValue(signature: Signature, answer: ModelOutput, output: string): unknown {
  const probabilities = answer.probabilities as Record<string, number> | undefined;
  if (output === 'label') return answer.label;
  if (output === 'value') return answer.value;
  if (output === 'score') {
    if (typeof answer.value === 'number') return answer.value;
    if (probabilities) {
      const labels = signature.labels ?? Object.keys(probabilities);
      if (labels.length === 2) return probabilities[String(labels[1])];
      return Math.max(...Object.values(probabilities));
    }
    return undefined;
  }
  const m = /^probability[_:](.+)$/.exec(output);
  if (m && probabilities) return probabilities[m[1]!];
  const v = answer[output];
  if (Array.isArray(v) && v.length === 1) return v[0];
  return v;
}

/** Whether a signature can give `output` at all: checked when a service is bound, before any decision. */
export function signatureGives(signature: Signature, output: string): boolean {
  const task = signature.task;
  if (output === 'label') return task === 'classification';
  if (output === 'value') return task === 'regression';
  if (output === 'score') return task === 'classification' || task === 'regression';
  const m = /^probability[_:](.+)$/.exec(output);
  if (m) return task === 'classification' && (signature.labels ?? []).map(String).includes(m[1]!);
  if (task === 'classification' || task === 'regression') return false;
  const outputs = signature.tensors?.outputs;
  return outputs === undefined || outputs.some((o) => o.name === output);
}

/** Casts a model's value to the fact's declared type; undefined when it cannot be. */
export function castFact(decl: FactDecl, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (decl.type === 'number') {
    const n = typeof value === 'bigint' ? Number(value) : typeof value === 'boolean' ? Number(value) : value;
    return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
  }
  if (decl.type === 'string') return typeof value === 'object' ? undefined : String(value);
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === '1' || value === 'true' || value === 1n) return true;
  if (value === 0 || value === '0' || value === 'false' || value === 0n) return false;
  return undefined;
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/**
 * Checks the request's inputs against the facts the rule set reads from them (input facts and the
 * text fields of text facts), before any model is called: every problem is a 400 naming the field.
 */
export function checkInputs(def: RuleSetDef, inputs: Record<string, unknown>, path = '/inputs'): void {
  const issues: FieldIssue[] = [];
  for (const f of def.facts) {
    if (f.source === 'input') {
      const v = inputs[f.name];
      if (v === undefined || v === null) {
        if (f.required !== false)
          issues.push({ path: `${path}/${f.name}`, message: 'is required by the rules' });
        continue;
      }
      const ok =
        (f.type === 'number' && typeof v === 'number' && Number.isFinite(v)) ||
        (f.type === 'string' && typeof v === 'string') ||
        (f.type === 'boolean' && typeof v === 'boolean');
      if (!ok) issues.push({ path: `${path}/${f.name}`, message: `must be a ${f.type}, got ${typeName(v)}` });
    } else if (f.source === 'text' && f.text) {
      const v = inputs[f.text.field];
      if (v === undefined || v === null) {
        if (f.required !== false)
          issues.push({
            path: `${path}/${f.text.field}`,
            message: `is required by the rules (text fact ${f.name})`,
          });
      } else if (typeof v !== 'string')
        issues.push({
          path: `${path}/${f.text.field}`,
          message: `must be a string (text), got ${typeName(v)}`,
        });
    }
  }
  if (issues.length > 0) {
    const unique = [...new Map(issues.map((i) => [i.path, i])).values()];
    throw new AppError('VALIDATION_FAILED', `${unique[0]!.path} ${unique[0]!.message}`, unique);
  }
}

/** The input facts' values (the declared ones only). */
export function inputFacts(def: RuleSetDef, inputs: Record<string, unknown>): Record<string, unknown> {
  const facts: Record<string, unknown> = {};
  for (const f of def.facts)
    if (f.source === 'input' && inputs[f.name] !== undefined) facts[f.name] = inputs[f.name];
  return facts;
}

/**
 * Text facts from the nlp module, one analysis per text field: `language` (ISO 639-1 code),
 * `sentiment` (a number, negative to positive), `keywords` and `tokens` (lists of lowercase
 * strings), `entities` (the list of entity types found, e.g. ["EMAIL", "MONEY"]) and
 * `has_entity` (a boolean: an entity of the type named by `entity` was found).
 */
export async function textFacts(
  def: RuleSetDef,
  inputs: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const facts: Record<string, unknown> = {};
  if (!def.facts.some((f) => f.source === 'text')) return facts;
  const analyzer = await textAnalyzer();
  const analyses = new Map<string, Analysis>();
  for (const f of def.facts) {
    if (f.source !== 'text' || !f.text) continue;
    const text = inputs[f.text.field];
    if (typeof text !== 'string') continue;
    let a = analyses.get(f.text.field);
    if (!a) {
      a = analyzer.analyze(text);
      analyses.set(f.text.field, a);
    }
    facts[f.name] = textFeature(a, text, f.text.feature, f.text.entity, analyzer);
  }
  return facts;
}

function textFeature(
  a: Analysis,
  text: string,
  feature: string,
  entity: string | undefined,
  analyzer: Analyzer,
): unknown {
  const entities = a.entities;
  switch (feature) {
    case 'language':
      return a.language;
    case 'sentiment':
      return a.sentiment;
    case 'keywords':
      return [...a.keywords];
    case 'entities':
      return [...new Set(entities.map((e) => e.type))];
    case 'has_entity':
      return entities.some((e) => entity === undefined || e.type.toLowerCase() === entity.toLowerCase());
    case 'tokens':
      return analyzer.tokenize(text).map((t) => t.toLowerCase());
    default:
      return LIST_FEATURES.has(feature) ? [] : null;
  }
}
