import {
  PermanentJobError,
  type Job,
  type JobContext,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
} from '../jobs/queue.js';
import { AppError, invalid } from '../errors/index.js';
import type { Signature } from '../registry/service.js';
import { castFact, checkInputs, inputFacts, modelOutputValue, textFacts, type ModelOutput } from './facts.js';
import type { DecisionRecord, DecisionRow } from './record.js';
import type { LoadedVersion, RuleSetService } from './rulesets.js';
import { rulesModule } from './lazy.js';

export const BACKTEST_JOB = 'ruleset-backtest';
/** Flipped cases listed in a result; the total is always given. */
export const MAX_FLIPS = 1_000;
export const MAX_BACKTEST_DECISIONS = 1_000_000;

export type BacktestAgainst =
  | { readonly decisions: { readonly last: number; readonly service?: string | undefined } }
  | {
      readonly dataset: {
        readonly name: string;
        readonly version?: number | undefined;
        /** The column holding the true outcome: precision and recall per outcome. */
        readonly outcomeColumn?: string | undefined;
      };
    };

/** What a dataset backtest needs of the data module (its rows as objects by column name, in pages). */
export interface DatasetRows {
  getVersion(
    projectId: string,
    name: string,
    version?: number,
  ): Promise<{
    readonly id: string;
    readonly version: number;
    readonly rowCount: number;
    readonly schema: { readonly columns: readonly { readonly name: string }[] };
  }>;
  rows(version: never, limit: number, offset: number): Promise<{ readonly rows: Record<string, unknown>[] }>;
}

/** What a dataset backtest needs of serving: the current model of a deployment, on a batch of rows. */
export interface BatchScorer {
  score(
    projectId: string,
    deployment: string,
    rows: Record<string, unknown>[],
    requestId: string,
  ): Promise<{
    answers: ModelOutput[];
    signature: Signature;
  }>;
}

export interface BacktestPayload {
  readonly projectId: string;
  readonly rulesetVersionId: string;
  readonly against: BacktestAgainst;
}

export interface Flip {
  /** The recorded decision (decision backtests), or null. */
  readonly decisionId: string | null;
  /** The dataset row, from 0 (dataset backtests). */
  readonly row?: number;
  readonly businessKey: string | null;
  readonly before: string;
  readonly after: string;
  /** The rules of the candidate that fired for this case. */
  readonly rules: string[];
}

export interface BacktestResult {
  readonly ruleset: string;
  readonly version: number;
  readonly against: BacktestAgainst;
  /** Decisions read. */
  readonly cases: number;
  /** Cases the candidate could be evaluated on. */
  readonly evaluated: number;
  /** Cases it could not (a fact it reads was not recorded), with up to 20 examples. */
  readonly skipped: { readonly count: number; readonly examples: { decisionId: string; reason: string }[] };
  /** Outcome counts as recorded and as the candidate decides, over the evaluated cases. */
  readonly before: Record<string, number>;
  readonly after: Record<string, number>;
  /** Counts per "before → after" pair where they differ. */
  readonly transitions: Record<string, number>;
  readonly flips: { readonly total: number; readonly items: Flip[]; readonly capped: boolean };
  /** Dataset backtests with an outcome column: per outcome, precision and recall of the candidate (and of the version active now). */
  readonly metrics?: {
    readonly after: Record<string, { precision: number | null; recall: number | null; support: number }>;
    readonly before?: Record<string, { precision: number | null; recall: number | null; support: number }>;
  };
  /** Dataset backtests: the version "before" is, and where model facts came from. */
  readonly baseline?: { readonly version: number | null };
  readonly modelFacts?: Record<string, 'column' | 'deployment'>;
  readonly seconds: number;
}

/**
 * Runs a rule set version (a draft too) against recorded decisions: the facts of each case are
 * rebuilt from the record (the request's inputs, the models' recorded answers, text facts from the
 * recorded text), so no model is called and the result is what the candidate would have decided
 * on exactly the same evidence.
 */
export class Backtests {
  constructor(
    private readonly rulesets: RuleSetService,
    private readonly record: DecisionRecord,
    private readonly jobs: JobQueue,
    private readonly datasets?: DatasetRows,
    private readonly scorer?: BatchScorer,
  ) {}

  async submit(
    projectId: string,
    version: LoadedVersion,
    against: BacktestAgainst,
    createdBy: string,
  ): Promise<Job> {
    if ('dataset' in against) {
      if (!this.datasets)
        throw new AppError('STATE_CONFLICT', 'dataset backtests are not available on this server');
      const { name, version: number, outcomeColumn } = against.dataset;
      const dv = await this.datasets.getVersion(projectId, name, number).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'NOT_FOUND')
          throw invalid(
            '/against/dataset/name',
            `dataset ${JSON.stringify(name)}${number ? ` version ${number}` : ''} does not exist`,
          );
        throw error;
      });
      if (outcomeColumn !== undefined && !dv.schema.columns.some((c) => c.name === outcomeColumn))
        throw invalid(
          '/against/dataset/outcomeColumn',
          `dataset ${name} v${dv.version} has no column ${JSON.stringify(outcomeColumn)}`,
        );
    }
    const payload: BacktestPayload = { projectId, rulesetVersionId: version.id, against };
    return this.jobs.enqueue({ projectId, type: BACKTEST_JOB, payload, createdBy, maxAttempts: 1 });
  }

  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const { projectId, rulesetVersionId, against } = job.payload as BacktestPayload;
    const version = await this.rulesets.load(projectId, rulesetVersionId).catch((error: unknown) => {
      throw new PermanentJobError((error as Error).message);
    });
    return { result: await this.run(projectId, version, against, ctx) };
  };

  async run(
    projectId: string,
    version: LoadedVersion,
    against: BacktestAgainst,
    ctx?: Pick<JobContext, 'progress' | 'signal'>,
  ): Promise<BacktestResult> {
    if ('dataset' in against) return this.runDataset(projectId, version, against, ctx);
    const started = performance.now();
    const last = Math.min(against.decisions.last, MAX_BACKTEST_DECISIONS);
    const before: Record<string, number> = {};
    const after: Record<string, number> = {};
    const transitions: Record<string, number> = {};
    const flips: Flip[] = [];
    let flipTotal = 0;
    let cases = 0;
    let evaluated = 0;
    let skipped = 0;
    const examples: { decisionId: string; reason: string }[] = [];
    const { evaluateRuleSet } = await rulesModule();
    const filter = { status: 'ok' as const, service: against.decisions.service };
    for await (const row of this.record.scan(projectId, filter, last, 2_000)) {
      cases++;
      let facts: Record<string, unknown>;
      try {
        facts = await factsFromRecord(version, row);
      } catch (error) {
        skipped++;
        if (examples.length < 20) examples.push({ decisionId: row.id, reason: (error as Error).message });
        continue;
      }
      let outcome: string;
      let rules: string[];
      try {
        const e = await evaluateRuleSet(version.compiled, facts);
        outcome = e.outcome;
        rules = e.fired.map((f) => f.rule);
      } catch (error) {
        skipped++;
        if (examples.length < 20) examples.push({ decisionId: row.id, reason: (error as Error).message });
        continue;
      }
      evaluated++;
      const was = row.outcome ?? '';
      before[was] = (before[was] ?? 0) + 1;
      after[outcome] = (after[outcome] ?? 0) + 1;
      if (was !== outcome) {
        flipTotal++;
        const key = `${was} → ${outcome}`;
        transitions[key] = (transitions[key] ?? 0) + 1;
        if (flips.length < MAX_FLIPS)
          flips.push({
            decisionId: row.id,
            businessKey: row.business_key,
            before: was,
            after: outcome,
            rules,
          });
      }
      if (ctx && cases % 5_000 === 0) {
        ctx.progress(cases / last, `${cases} decisions`, { cases, flips: flipTotal });
        await new Promise((resolve) => setImmediate(resolve));
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      }
    }
    return {
      ruleset: version.ruleset,
      version: version.version,
      against,
      cases,
      evaluated,
      skipped: { count: skipped, examples },
      before,
      after,
      transitions,
      flips: { total: flipTotal, items: flips, capped: flipTotal > flips.length },
      seconds: Math.round(performance.now() - started) / 1000,
    };
  }

  /**
   * A version against the rows of a dataset version: input facts from the columns of their names,
   * model facts from a column named as the fact when there is one (a scored dataset), otherwise
   * from the bound deployment's current model, called in batches through the data plane; text facts
   * from the text columns. "Before" is the version of the same rule set active now.
   */
  private async runDataset(
    projectId: string,
    version: LoadedVersion,
    against: Extract<BacktestAgainst, { dataset: unknown }>,
    ctx?: Pick<JobContext, 'progress' | 'signal'>,
  ): Promise<BacktestResult> {
    if (!this.datasets || !this.scorer)
      throw new PermanentJobError('dataset backtests are not available here');
    const started = performance.now();
    const { evaluateRuleSet } = await rulesModule();
    const spec = against.dataset;
    const dv = await this.datasets.getVersion(projectId, spec.name, spec.version);
    const columns = new Set(dv.schema.columns.map((c) => c.name));
    if (spec.outcomeColumn !== undefined && !columns.has(spec.outcomeColumn))
      throw new PermanentJobError(
        `dataset ${spec.name} v${dv.version} has no column ${JSON.stringify(spec.outcomeColumn)}`,
      );
    const activeId = await this.rulesets.activeVersionId(version.rulesetId);
    const baseline =
      activeId && activeId !== version.id ? await this.rulesets.load(projectId, activeId) : undefined;
    const modelFacts: Record<string, 'column' | 'deployment'> = {};
    for (const v of [version, baseline])
      for (const m of v?.needs.models ?? [])
        modelFacts[m.fact] = columns.has(m.fact) ? 'column' : 'deployment';
    const before: Record<string, number> = {};
    const after: Record<string, number> = {};
    const transitions: Record<string, number> = {};
    const flips: Flip[] = [];
    const truth: (string | null)[] = [];
    const predicted: string[] = [];
    const predictedBefore: string[] = [];
    const examples: { decisionId: string; reason: string }[] = [];
    let flipTotal = 0;
    let skipped = 0;
    let cases = 0;
    const PAGE = 256;
    for (let offset = 0; offset < dv.rowCount; offset += PAGE) {
      const { rows } = await this.datasets.rows(dv as never, PAGE, offset);
      // Each needed deployment once per page, on the rows' own columns.
      const scored = new Map<string, { answers: ModelOutput[]; signature: Signature }>();
      for (const v of [version, baseline]) {
        for (const m of v?.needs.models ?? []) {
          if (modelFacts[m.fact] === 'column' || scored.has(m.deployment)) continue;
          try {
            scored.set(
              m.deployment,
              await this.scorer.score(projectId, m.deployment, rows, `backtest-${offset}`),
            );
          } catch (error) {
            throw new PermanentJobError(
              `deployment ${m.deployment} could not score rows ${offset}..: ${(error as Error).message}`,
            );
          }
        }
      }
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const at = offset + i;
        cases++;
        const factsFor = async (v: LoadedVersion) => {
          checkInputs(v.def, row, `/rows/${at}`);
          const facts: Record<string, unknown> = {
            ...inputFacts(v.def, row),
            ...(await textFacts(v.def, row)),
          };
          for (const m of v.needs.models) {
            const decl = v.def.facts.find((f) => f.name === m.fact)!;
            const s = scored.get(m.deployment);
            const raw =
              modelFacts[m.fact] === 'column'
                ? row[m.fact]
                : s
                  ? modelOutputValue(s.signature, s.answers[i]!, m.output)
                  : undefined;
            const value = castFact(decl, raw);
            if (value === undefined) {
              if (decl.required === false) continue;
              throw new Error(`row ${at}: no ${decl.type} for model fact ${m.fact}`);
            }
            facts[m.fact] = value;
          }
          return facts;
        };
        let outcome: string;
        let rules: string[];
        let was: string;
        try {
          const e = await evaluateRuleSet(version.compiled, await factsFor(version));
          outcome = e.outcome;
          rules = e.fired.map((f) => f.rule);
          was = baseline
            ? (await evaluateRuleSet(baseline.compiled, await factsFor(baseline))).outcome
            : outcome;
        } catch (error) {
          skipped++;
          if (examples.length < 20)
            examples.push({ decisionId: `row ${at}`, reason: (error as Error).message });
          continue;
        }
        before[was] = (before[was] ?? 0) + 1;
        after[outcome] = (after[outcome] ?? 0) + 1;
        predicted.push(outcome);
        predictedBefore.push(was);
        truth.push(
          spec.outcomeColumn === undefined
            ? null
            : row[spec.outcomeColumn] == null
              ? null
              : String(row[spec.outcomeColumn]),
        );
        if (was !== outcome) {
          flipTotal++;
          const key = `${was} → ${outcome}`;
          transitions[key] = (transitions[key] ?? 0) + 1;
          if (flips.length < MAX_FLIPS)
            flips.push({ decisionId: null, row: at, businessKey: null, before: was, after: outcome, rules });
        }
      }
      if (ctx) {
        ctx.progress(Math.min(0.99, (offset + rows.length) / Math.max(1, dv.rowCount)), `${cases} rows`, {
          cases,
          flips: flipTotal,
        });
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      }
      if (rows.length < PAGE) break;
    }
    return {
      ruleset: version.ruleset,
      version: version.version,
      against,
      cases,
      evaluated: cases - skipped,
      skipped: { count: skipped, examples },
      before,
      after,
      transitions,
      flips: { total: flipTotal, items: flips, capped: flipTotal > flips.length },
      ...(spec.outcomeColumn !== undefined
        ? {
            metrics: {
              after: precisionRecall(predicted, truth),
              ...(baseline ? { before: precisionRecall(predictedBefore, truth) } : {}),
            },
          }
        : {}),
      baseline: { version: baseline?.version ?? null },
      modelFacts,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  }
}

/** The facts a version reads, rebuilt from a recorded decision; throws naming what is missing. */
export async function factsFromRecord(
  version: LoadedVersion,
  row: DecisionRow,
): Promise<Record<string, unknown>> {
  const inputs = JSON.parse(row.input_json) as Record<string, unknown>;
  checkInputs(version.def, inputs);
  const outputs = JSON.parse(row.model_outputs_json) as Record<string, ModelOutput>;
  const facts: Record<string, unknown> = { ...inputFacts(version.def, inputs) };
  if (version.needs.texts.length > 0) Object.assign(facts, await textFacts(version.def, inputs));
  for (const m of version.needs.models) {
    const answer = outputs[m.deployment];
    const decl = version.def.facts.find((f) => f.name === m.fact)!;
    const value = answer
      ? castFact(decl, modelOutputValue(signatureOf(answer), answer, m.output))
      : undefined;
    if (value === undefined) {
      if (decl.required === false) continue;
      throw new Error(`no recorded ${m.output} of deployment ${m.deployment} for fact ${m.fact}`);
    }
    facts[m.fact] = value;
  }
  return facts;
}

/** What a recorded answer says about its model: enough to read `score` and `probability_<class>`. */
function signatureOf(answer: ModelOutput): Signature {
  if (typeof answer.value === 'number') return { task: 'regression', inputs: [] };
  const p = answer.probabilities as Record<string, number> | undefined;
  if (p) return { task: 'classification', inputs: [], labels: Object.keys(p) };
  return { task: 'custom', inputs: [] };
}

/** Per outcome: precision (of the cases given that outcome, the share truly so) and recall (of the cases truly so, the share found). */
export function precisionRecall(
  predicted: readonly string[],
  truth: readonly (string | null)[],
): Record<string, { precision: number | null; recall: number | null; support: number }> {
  const outcomes = new Set<string>([...predicted, ...truth.filter((t): t is string => t !== null)]);
  const out: Record<string, { precision: number | null; recall: number | null; support: number }> = {};
  for (const o of outcomes) {
    let tp = 0;
    let given = 0;
    let real = 0;
    for (let i = 0; i < predicted.length; i++) {
      if (truth[i] === null) continue;
      if (predicted[i] === o) given++;
      if (truth[i] === o) real++;
      if (predicted[i] === o && truth[i] === o) tp++;
    }
    out[o] = { precision: given > 0 ? tp / given : null, recall: real > 0 ? tp / real : null, support: real };
  }
  return out;
}
