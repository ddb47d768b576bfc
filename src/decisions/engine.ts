import type { Evaluation } from '../rules/index.js';
import { AppError, invalid } from '../errors/index.js';
import type { ModelRegistry } from '../registry/service.js';
import { tensorsToPredictions } from '../serving/codec.js';
import type { DataPlane } from '../serving/dataplane.js';
import type { LoadedModel } from '../serving/model.js';
import { newId, nowIso } from '../store/metadata.js';
import { castFact, checkInputs, inputFacts, modelOutputValue, textFacts, type ModelOutput } from './facts.js';
import {
  toEntry,
  type DecisionRecord,
  type DecisionRow,
  type FiredEntry,
  type ModelVersionUsed,
} from './record.js';
import type { LoadedVersion, RuleSetService } from './rulesets.js';
import type { BoundService, DecisionServices } from './services.js';
import { rulesModule } from './lazy.js';

export interface DecisionRequest {
  readonly inputs: Record<string, unknown>;
  readonly businessKey?: string | undefined;
}

export interface Caller {
  readonly userId: string | null;
  readonly keyId: string | null;
  readonly requestId: string;
}

export interface DecisionAnswer {
  readonly decisionId: string;
  readonly service: string;
  readonly outcome: string;
  readonly reasons: string[];
  readonly fired: FiredEntry[];
  readonly modelOutputs: Record<string, ModelOutput>;
  readonly facts: Record<string, unknown>;
  readonly versions: {
    readonly ruleset: { readonly name: string; readonly version: number };
    readonly models: readonly Omit<ModelVersionUsed, 'modelVersionId'>[];
  };
  readonly businessKey: string | null;
  readonly createdAt: string;
}

export interface ReplayAnswer {
  readonly decisionId: string;
  readonly outcome: string;
  readonly recordedOutcome: string | null;
  readonly matches: boolean;
  /** The models answered what they answered then (numbers within 1e-6). */
  readonly modelOutputsMatch: boolean;
  readonly reasons: string[];
  readonly fired: FiredEntry[];
  readonly modelOutputs: Record<string, ModelOutput>;
  readonly versions: DecisionAnswer['versions'];
}

/**
 * Makes decisions: resolves the service's rule set version (pinned, or active now), checks the
 * inputs the rules read, calls every bound deployment concurrently through the data plane, maps
 * the answers to model facts, computes text facts, evaluates, and records the decision in one
 * insert before answering. A failure after the inputs were accepted is recorded as a failed
 * decision, whole, and the request fails.
 */
export class DecisionEngine {
  constructor(
    private readonly rulesets: RuleSetService,
    private readonly services: DecisionServices,
    private readonly serving: DataPlane,
    private readonly registry: ModelRegistry,
    private readonly record: DecisionRecord,
  ) {}

  async version(projectId: string, service: BoundService): Promise<LoadedVersion> {
    if (service.rulesetVersion !== null)
      return this.rulesets.loadByNumber(projectId, service.ruleset, service.rulesetVersion);
    const id = await this.rulesets.activeVersionId(service.rulesetId);
    if (!id)
      throw new AppError(
        'STATE_CONFLICT',
        `rule set ${JSON.stringify(service.ruleset)} of decision service ${JSON.stringify(service.name)} has no active version`,
      );
    return this.rulesets.load(projectId, id);
  }

  async decide(
    projectId: string,
    name: string,
    request: DecisionRequest,
    caller: Caller,
  ): Promise<DecisionAnswer> {
    const started = performance.now();
    const service = await this.services.bound(projectId, name);
    const version = await this.version(projectId, service);
    const inputs = request.inputs;
    checkInputs(version.def, inputs);
    this.services.checkModels(
      projectId,
      version,
      service.deployments,
      `/decision-services/${name}/deployments`,
    );
    // The models' own columns, checked before any is called: a missing one is the caller's 400.
    const plans = await Promise.all(service.deployments.map((d) => this.plan(projectId, d, inputs)));

    const base = {
      project_id: projectId,
      service_id: service.id,
      service: service.name,
      business_key: request.businessKey ?? null,
      input_json: JSON.stringify(inputs),
      ruleset_version_id: version.id,
      ruleset: version.ruleset,
      ruleset_version: version.version,
      caller_user_id: caller.userId,
      caller_key_id: caller.keyId,
      request_id: caller.requestId,
    };
    const id = newId('dec');
    const used: ModelVersionUsed[] = [];
    const outputs: Record<string, ModelOutput> = {};
    let facts: Record<string, unknown> = {};
    let evaluation: Evaluation;
    try {
      const results = await Promise.all(
        plans.map(async ({ deployment, row }) => {
          const result = await this.serving.infer(
            projectId,
            deployment,
            undefined,
            { kind: 'records', rows: [row], path: `/inputs` },
            { requestId: caller.requestId, protocol: 'decision' },
          );
          return { deployment, result, answer: this.serving.predictions(result)[0] as ModelOutput };
        }),
      );
      for (const { deployment, result, answer } of results) {
        outputs[deployment] = answer;
        const v = result.target.version;
        used.push({ deployment, model: v.model, version: v.version, modelVersionId: v.id });
      }
      facts = await this.facts(version, inputs, (d) => {
        const r = results.find((x) => x.deployment === d);
        return r ? { answer: r.answer, signature: r.result.model.version.signature } : undefined;
      });
      evaluation = await evaluate(version, facts);
    } catch (error) {
      const e = asAppError(error);
      await this.record.append({
        ...base,
        id,
        facts_json: JSON.stringify(facts),
        model_outputs_json: JSON.stringify(outputs),
        model_versions_json: JSON.stringify(used),
        fired_json: '[]',
        outcome: null,
        status: 'failed',
        error: `${e.code}: ${e.message}`,
        latency_us: Math.round((performance.now() - started) * 1000),
        created_at: nowIso(),
      });
      throw new AppError(e.code, `${e.message} (recorded as failed decision ${id})`, e.errors, {
        cause: error,
      });
    }
    const fired = evaluation.fired.map(firedEntry);
    const createdAt = nowIso();
    await this.record.append({
      ...base,
      id,
      facts_json: JSON.stringify(evaluation.facts),
      model_outputs_json: JSON.stringify(outputs),
      model_versions_json: JSON.stringify(used),
      fired_json: JSON.stringify(fired),
      outcome: evaluation.outcome,
      status: 'ok',
      error: null,
      latency_us: Math.round((performance.now() - started) * 1000),
      created_at: createdAt,
    });
    return {
      decisionId: id,
      service: service.name,
      outcome: evaluation.outcome,
      reasons: fired.map((f) => f.reason),
      fired,
      modelOutputs: outputs,
      facts: evaluation.facts,
      versions: {
        ruleset: { name: version.ruleset, version: version.version },
        models: used.map(({ deployment, model, version: v }) => ({ deployment, model, version: v })),
      },
      businessKey: request.businessKey ?? null,
      createdAt,
    };
  }

  /** The deployment's model columns picked from the inputs; a missing column is a 400 naming it. */
  private async plan(
    projectId: string,
    deployment: string,
    inputs: Record<string, unknown>,
  ): Promise<{ deployment: string; row: Record<string, unknown> }> {
    const { target } = this.serving.resolve(projectId, deployment);
    const model = await this.serving.model(target);
    return { deployment, row: pickColumns(model, deployment, inputs) };
  }

  /** Input, model and text facts (derived facts are the rules module's job). */
  private async facts(
    version: LoadedVersion,
    inputs: Record<string, unknown>,
    answerOf: (
      deployment: string,
    ) => { answer: ModelOutput; signature: LoadedModel['version']['signature'] } | undefined,
  ): Promise<Record<string, unknown>> {
    const facts: Record<string, unknown> = {
      ...inputFacts(version.def, inputs),
      ...(await textFacts(version.def, inputs)),
    };
    for (const m of version.needs.models) {
      const got = answerOf(m.deployment);
      const decl = version.def.facts.find((f) => f.name === m.fact)!;
      const raw = got ? modelOutputValue(got.signature, got.answer, m.output) : undefined;
      const value = castFact(decl, raw);
      if (value === undefined) {
        if (decl.required === false) continue;
        throw new AppError(
          'RULES_EVALUATION_FAILED',
          `model fact ${JSON.stringify(m.fact)}: deployment ${JSON.stringify(m.deployment)} gave no ${decl.type} for output ${JSON.stringify(m.output)}`,
          [{ path: `/facts/${m.fact}`, message: `no ${decl.type} in output ${m.output} of ${m.deployment}` }],
        );
      }
      facts[m.fact] = value;
    }
    return facts;
  }

  /**
   * Re-evaluates a recorded decision with the rule set version and the model versions it used,
   * loading those versions through the model cache even when no deployment serves them any more.
   */
  async replay(projectId: string, id: string): Promise<ReplayAnswer> {
    const row = await this.record.get(projectId, id);
    if (row.status !== 'ok' || row.ruleset_version_id === null)
      throw new AppError('STATE_CONFLICT', `decision ${id} failed: it has no outcome to replay`);
    const version = await this.rulesets.load(projectId, row.ruleset_version_id);
    const inputs = JSON.parse(row.input_json) as Record<string, unknown>;
    const used = JSON.parse(row.model_versions_json) as ModelVersionUsed[];
    const recorded = JSON.parse(row.model_outputs_json) as Record<string, ModelOutput>;
    const outputs: Record<string, ModelOutput> = {};
    const signatures = new Map<string, LoadedModel['version']['signature']>();
    for (const u of used) {
      const mv = await this.registry.getVersionById(projectId, u.modelVersionId);
      const cache = this.serving.deployments.cache;
      const model = await cache.acquire(mv);
      cache.hold(mv.id, 1);
      try {
        const encoder = model.rows;
        if (!encoder)
          throw new AppError('STATE_CONFLICT', `model ${mv.model} v${mv.version} takes tensors, not rows`);
        const feeds = encoder.encodeRecords([pickColumns(model, u.deployment, inputs)], '/inputs');
        const out = model.runtime.run(feeds);
        outputs[u.deployment] = tensorsToPredictions(mv.signature, out, 1)[0] as ModelOutput;
        signatures.set(u.deployment, mv.signature);
      } finally {
        cache.hold(mv.id, -1);
      }
    }
    const facts = await this.facts(version, inputs, (d) => {
      const answer = outputs[d];
      const signature = signatures.get(d);
      return answer && signature ? { answer, signature } : undefined;
    });
    const evaluation = await evaluate(version, facts);
    const fired = evaluation.fired.map(firedEntry);
    return {
      decisionId: id,
      outcome: evaluation.outcome,
      recordedOutcome: row.outcome,
      matches: evaluation.outcome === row.outcome,
      modelOutputsMatch: sameJson(outputs, recorded),
      reasons: fired.map((f) => f.reason),
      fired,
      modelOutputs: outputs,
      versions: {
        ruleset: { name: version.ruleset, version: version.version },
        models: used.map(({ deployment, model, version: v }) => ({ deployment, model, version: v })),
      },
    };
  }

  entry(row: DecisionRow) {
    return toEntry(row);
  }
}

export async function evaluate(version: LoadedVersion, facts: Record<string, unknown>): Promise<Evaluation> {
  const { evaluateRuleSet, RulesError } = await rulesModule();
  try {
    return await evaluateRuleSet(version.compiled, facts);
  } catch (error) {
    if (error instanceof RulesError)
      throw new AppError(
        'RULES_EVALUATION_FAILED',
        `rule set ${version.ruleset} v${version.version}: ${error.message}`,
        error.issues.map((i) => ({
          path: i.path,
          message: i.rule ? `rule ${i.rule}: ${i.message}` : i.message,
        })),
      );
    throw error;
  }
}

export function firedEntry(f: Evaluation['fired'][number]): FiredEntry {
  // "rule" first: the record's search by rule relies on this key order.
  return {
    rule: f.rule,
    outcome: f.outcome,
    reason: f.reason,
    priority: f.priority,
    ...(f.table !== undefined ? { table: f.table } : {}),
  };
}

function pickColumns(
  model: LoadedModel,
  deployment: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const names = model.rows?.names;
  if (!names)
    throw new AppError(
      'STATE_CONFLICT',
      `deployment ${JSON.stringify(deployment)} serves a model that takes tensors: a decision service needs a model with column inputs`,
    );
  const row: Record<string, unknown> = {};
  for (const n of names) {
    if (!Object.hasOwn(inputs, n))
      throw invalid(
        `/inputs/${n}`,
        `is an input of model ${model.version.model} (deployment ${deployment}); send null for an unknown value`,
      );
    row[n] = inputs[n];
  }
  return row;
}

function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('INTERNAL', 'the decision failed: an internal error occurred', [], { cause: error });
}

function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
