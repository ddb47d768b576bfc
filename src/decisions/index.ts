import type { JobQueue } from '../jobs/queue.js';
import type { ModelRegistry } from '../registry/service.js';
import type { DataPlane } from '../serving/dataplane.js';
import type { MetadataStore } from '../store/metadata.js';
import { AppError } from '../errors/index.js';
import { Backtests, type BatchScorer, type DatasetRows } from './backtest.js';
import { DecisionEngine } from './engine.js';
import { DecisionRecord } from './record.js';
import { RuleSetService } from './rulesets.js';
import { DecisionServices } from './services.js';

export { BACKTEST_JOB } from './backtest.js';

/** The decisions module, wired once in the composition root: rule sets, services, the engine, the record, backtests. */
export class Decisions {
  readonly rulesets: RuleSetService;
  readonly services: DecisionServices;
  readonly record: DecisionRecord;
  readonly engine: DecisionEngine;
  readonly backtests: Backtests;

  constructor(
    store: MetadataStore,
    serving: DataPlane,
    registry: ModelRegistry,
    jobs: JobQueue,
    datasets?: DatasetRows,
  ) {
    this.rulesets = new RuleSetService(store);
    this.services = new DecisionServices(store, this.rulesets, serving.deployments);
    this.record = new DecisionRecord(store);
    this.engine = new DecisionEngine(this.rulesets, this.services, serving, registry, this.record);
    this.backtests = new Backtests(this.rulesets, this.record, jobs, datasets, scorer(serving));
  }

  /** Activation refuses a version that a service bound to "active" could not feed (a model fact's deployment unbound). */
  async activate(projectId: string, name: string, version: number, userId: string, at?: string) {
    return this.rulesets.activate(projectId, name, version, userId, at, async (loaded) => {
      for (const s of await this.services.boundToActive(projectId, loaded.rulesetId)) {
        try {
          this.services.checkModels(projectId, loaded, s.deployments, '/version');
        } catch (error) {
          if (error instanceof AppError)
            throw new AppError(
              'STATE_CONFLICT',
              `decision service ${JSON.stringify(s.name)} uses the active version of this rule set and cannot run version ${version}: ${error.message}`,
              error.errors,
            );
          throw error;
        }
      }
    });
  }
}

/** Dataset backtests score rows with a deployment's current model through the data plane, each model on its own columns. */
function scorer(serving: DataPlane): BatchScorer {
  return {
    async score(projectId, deployment, rows, requestId) {
      const { target } = serving.resolve(projectId, deployment);
      const model = await serving.model(target);
      const names = model.rows?.names;
      if (!names) throw new Error(`deployment ${deployment} serves a model that takes tensors, not columns`);
      const missing = names.filter((n) => rows.length > 0 && !Object.hasOwn(rows[0]!, n));
      if (missing.length > 0)
        throw new Error(`the dataset has no column ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
      const projected = rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n] ?? null])));
      const result = await serving.infer(
        projectId,
        deployment,
        undefined,
        { kind: 'records', rows: projected, path: '/rows' },
        { requestId, protocol: 'backtest' },
      );
      return {
        answers: serving.predictions(result) as Record<string, unknown>[],
        signature: result.model.version.signature,
      };
    },
  };
}
