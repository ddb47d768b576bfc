import type { Selectable } from 'kysely';
import { AppError, invalid, notFound, type FieldIssue } from '../errors/index.js';
import type { DeploymentService } from '../serving/deployments.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import type { DecisionServiceTable } from '../store/tables/decisions.js';
import { signatureGives } from './facts.js';
import type { LoadedVersion, RuleSetService } from './rulesets.js';

export const SERVICE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface DecisionServiceInfo {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly ruleset: string;
  /** A pinned version, or "active": the version active at decision time. */
  readonly rulesetVersion: number | 'active';
  readonly deployments: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DecisionServiceInput {
  readonly name: string;
  readonly ruleset: string;
  readonly rulesetVersion?: number | 'active' | undefined;
  readonly deployments: readonly string[];
  readonly description?: string | undefined;
}

/** What a decision needs of its service, cached on the hot path. */
export interface BoundService {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
  readonly rulesetId: string;
  readonly ruleset: string;
  readonly rulesetVersion: number | null;
  readonly deployments: readonly string[];
}

type Row = Selectable<DecisionServiceTable>;

const CACHE_MS = 1_000;

/** Decision services: a rule set (pinned version or "active") bound to deployments. */
export class DecisionServices {
  private readonly cache = new Map<string, { bound: BoundService; at: number }>();

  constructor(
    private readonly store: MetadataStore,
    private readonly rulesets: RuleSetService,
    private readonly deployments: DeploymentService,
  ) {}

  async create(projectId: string, input: DecisionServiceInput, userId: string): Promise<DecisionServiceInfo> {
    if (!SERVICE_NAME.test(input.name))
      throw invalid(
        '/name',
        'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
      );
    const rulesetId = await this.rulesets.rulesetId(projectId, input.ruleset).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND')
        throw invalid('/ruleset', `rule set ${JSON.stringify(input.ruleset)} does not exist`);
      throw error;
    });
    const pinned =
      input.rulesetVersion === undefined || input.rulesetVersion === 'active' ? null : input.rulesetVersion;
    await this.check(projectId, input.ruleset, rulesetId, pinned, input.deployments);
    const now = nowIso();
    try {
      await this.store.db
        .insertInto('decision_services')
        .values({
          id: newId('dsv'),
          project_id: projectId,
          name: input.name,
          ruleset_id: rulesetId,
          ruleset_version: pinned,
          deployments_json: JSON.stringify(input.deployments),
          description: input.description ?? '',
          created_by: userId,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `decision service ${JSON.stringify(input.name)} already exists`);
      throw error;
    }
    return this.get(projectId, input.name);
  }

  async update(
    projectId: string,
    name: string,
    patch: Partial<Omit<DecisionServiceInput, 'name'>>,
  ): Promise<DecisionServiceInfo> {
    const current = await this.get(projectId, name);
    const rulesetName = patch.ruleset ?? current.ruleset;
    const rulesetId = await this.rulesets.rulesetId(projectId, rulesetName).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND')
        throw invalid('/ruleset', `rule set ${JSON.stringify(rulesetName)} does not exist`);
      throw error;
    });
    const version = patch.rulesetVersion ?? (patch.ruleset !== undefined ? 'active' : current.rulesetVersion);
    const pinned = version === 'active' ? null : version;
    const deployments = patch.deployments ?? current.deployments;
    await this.check(projectId, rulesetName, rulesetId, pinned, deployments);
    await this.store.db
      .updateTable('decision_services')
      .set({
        ruleset_id: rulesetId,
        ruleset_version: pinned,
        deployments_json: JSON.stringify(deployments),
        description: patch.description ?? current.description,
        updated_at: nowIso(),
      })
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .execute();
    this.cache.delete(`${projectId}/${name}`);
    return this.get(projectId, name);
  }

  async remove(projectId: string, name: string): Promise<void> {
    const done = await this.store.db
      .deleteFrom('decision_services')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(done.numDeletedRows) === 0) throw notFound('decision service', name);
    this.cache.delete(`${projectId}/${name}`);
  }

  async list(projectId: string): Promise<DecisionServiceInfo[]> {
    const rows = await this.query(projectId).orderBy('decision_services.name').execute();
    return rows.map(describe);
  }

  async get(projectId: string, name: string): Promise<DecisionServiceInfo> {
    const row = await this.query(projectId).where('decision_services.name', '=', name).executeTakeFirst();
    if (!row) throw notFound('decision service', name);
    return describe(row);
  }

  /** The service a decision runs, cached for a second (an update on this replica is seen at once). */
  async bound(projectId: string, name: string): Promise<BoundService> {
    const key = `${projectId}/${name}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.bound;
    const row = await this.query(projectId).where('decision_services.name', '=', name).executeTakeFirst();
    if (!row) throw notFound('decision service', name);
    const bound: BoundService = {
      id: row.id,
      name: row.name,
      projectId,
      rulesetId: row.ruleset_id,
      ruleset: row.ruleset_name,
      rulesetVersion: row.ruleset_version,
      deployments: JSON.parse(row.deployments_json) as string[],
    };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { bound, at: Date.now() });
    return bound;
  }

  /** Services bound to the active version of a rule set: activation checks they can feed it. */
  async boundToActive(
    projectId: string,
    rulesetId: string,
  ): Promise<{ name: string; deployments: string[] }[]> {
    const rows = await this.store.db
      .selectFrom('decision_services')
      .select(['name', 'deployments_json'])
      .where('project_id', '=', projectId)
      .where('ruleset_id', '=', rulesetId)
      .where('ruleset_version', 'is', null)
      .execute();
    return rows.map((r) => ({ name: r.name, deployments: JSON.parse(r.deployments_json) as string[] }));
  }

  private query(projectId: string) {
    return this.store.db
      .selectFrom('decision_services')
      .innerJoin('rulesets', 'rulesets.id', 'decision_services.ruleset_id')
      .selectAll('decision_services')
      .select('rulesets.name as ruleset_name')
      .where('decision_services.project_id', '=', projectId);
  }

  /**
   * A binding is refused unless every deployment exists, a pinned version is approved (or was
   * active), and every model fact of the rule set (pinned, or active now) reads a bound deployment
   * whose model gives that output.
   */
  private async check(
    projectId: string,
    rulesetName: string,
    rulesetId: string,
    pinned: number | null,
    deployments: readonly string[],
  ): Promise<void> {
    const issues: FieldIssue[] = [];
    const seen = new Set<string>();
    deployments.forEach((d, i) => {
      if (seen.has(d))
        issues.push({ path: `/deployments/${i}`, message: `names ${JSON.stringify(d)} twice` });
      seen.add(d);
      if (!this.deployments.routing(projectId, d))
        issues.push({ path: `/deployments/${i}`, message: `deployment ${JSON.stringify(d)} does not exist` });
    });
    if (issues.length > 0)
      throw new AppError('VALIDATION_FAILED', `${issues[0]!.path} ${issues[0]!.message}`, issues);
    let version: LoadedVersion | undefined;
    if (pinned !== null) {
      version = await this.rulesets.loadByNumber(projectId, rulesetName, pinned).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'NOT_FOUND')
          throw invalid(
            '/rulesetVersion',
            `rule set ${JSON.stringify(rulesetName)} has no version ${pinned}`,
          );
        throw error;
      });
      if (version.status !== 'approved')
        throw new AppError(
          'STATE_CONFLICT',
          `version ${pinned} of rule set ${JSON.stringify(rulesetName)} is ${version.status}: a service may only pin an approved version`,
        );
    } else {
      const id = await this.rulesets.activeVersionId(rulesetId);
      if (id) version = await this.rulesets.load(projectId, id);
    }
    if (version) this.checkModels(projectId, version, deployments, '/deployments');
  }

  /** Every model fact reads a bound deployment whose current model can give the output. */
  checkModels(projectId: string, version: LoadedVersion, deployments: readonly string[], path: string): void {
    const issues: FieldIssue[] = [];
    for (const m of version.needs.models) {
      if (!deployments.includes(m.deployment)) {
        issues.push({
          path,
          message: `model fact ${JSON.stringify(m.fact)} of rule set ${version.ruleset} v${version.version} reads deployment ${JSON.stringify(m.deployment)}, which is not bound`,
        });
        continue;
      }
      const routing = this.deployments.routing(projectId, m.deployment);
      const signature = routing?.primary.version.signature;
      if (signature && !signatureGives(signature, m.output))
        issues.push({
          path,
          message: `deployment ${JSON.stringify(m.deployment)} (model ${routing!.primary.version.model}, ${signature.task}) gives no output ${JSON.stringify(m.output)} for fact ${JSON.stringify(m.fact)}`,
        });
    }
    if (issues.length > 0) throw new AppError('VALIDATION_FAILED', issues[0]!.message, issues);
  }
}

function describe(row: Row & { ruleset_name: string }): DecisionServiceInfo {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ruleset: row.ruleset_name,
    rulesetVersion: row.ruleset_version ?? 'active',
    deployments: JSON.parse(row.deployments_json) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
