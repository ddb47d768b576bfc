import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { CompiledRuleSet, RuleSetDef, factsNeeded } from '../rules/index.js';
import { AppError, invalid, notFound } from '../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import type { RulesetActivationTable, RulesetVersionTable } from '../store/tables/decisions.js';
import { canonical } from './canonical.js';
import { rulesModule } from './lazy.js';

export const RULESET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** What is stored per version; `active`, `scheduled` and `superseded` come from the activations. */
export type StoredStatus = 'draft' | 'submitted' | 'approved';
export type VersionState = StoredStatus | 'active' | 'scheduled' | 'superseded';

export interface RuleSetVersion {
  readonly id: string;
  readonly ruleset: string;
  readonly version: number;
  readonly status: VersionState;
  readonly definition: RuleSetDef;
  readonly definitionHash: string;
  readonly comment: string;
  readonly author: string;
  readonly createdAt: string;
  readonly submittedBy: string | null;
  readonly submittedAt: string | null;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  /** When this version became (or becomes) active, if it has an activation. */
  readonly effectiveFrom: string | null;
}

export interface Activation {
  readonly version: number;
  readonly effectiveFrom: string;
  readonly kind: 'activate' | 'rollback';
  readonly by: string;
  readonly at: string;
  readonly cancelledAt: string | null;
}

export interface RuleSet {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly latestVersion: number | null;
  /** The version active now, or null. */
  readonly activeVersion: number | null;
  readonly versions: readonly Omit<RuleSetVersion, 'definition'>[];
  readonly activations: readonly Activation[];
}

/** A version ready to evaluate: the definition compiled once, kept while the process lives (versions never change). */
export interface LoadedVersion {
  readonly id: string;
  readonly rulesetId: string;
  readonly ruleset: string;
  readonly version: number;
  readonly status: StoredStatus;
  readonly def: RuleSetDef;
  readonly compiled: CompiledRuleSet;
  readonly needs: ReturnType<typeof factsNeeded>;
}

type VersionRow = Selectable<RulesetVersionTable>;
type ActivationRow = Selectable<RulesetActivationTable>;

const ACTIVATION_CACHE_MS = 1_000;
const MAX_COMPILED = 1_000;

/**
 * Rule sets of a project and their immutable versions, with the four-eyes lifecycle
 * draft → submitted → approved → active. Activations are appended rows: the version active at a
 * time is the latest activation effective at or before it, so a scheduled activation needs no
 * timer and every replica reading the same rows agrees.
 */
export class RuleSetService {
  private readonly compiledCache = new Map<string, LoadedVersion>();
  private readonly activationCache = new Map<string, { rows: ActivationRow[]; at: number }>();

  constructor(private readonly store: MetadataStore) {}

  async create(
    projectId: string,
    input: { name: string; description?: string | undefined },
    userId: string,
  ): Promise<RuleSet> {
    if (!RULESET_NAME.test(input.name))
      throw invalid(
        '/name',
        'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
      );
    try {
      await this.store.db
        .insertInto('rulesets')
        .values({
          id: newId('rls'),
          project_id: projectId,
          name: input.name,
          description: input.description ?? '',
          created_by: userId,
          created_at: nowIso(),
        })
        .execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `rule set ${JSON.stringify(input.name)} already exists`);
      throw error;
    }
    return this.get(projectId, input.name);
  }

  async list(projectId: string): Promise<RuleSet[]> {
    const rows = await this.store.db
      .selectFrom('rulesets')
      .select('name')
      .where('project_id', '=', projectId)
      .orderBy('name')
      .execute();
    return Promise.all(rows.map((r) => this.get(projectId, r.name)));
  }

  private async row(projectId: string, name: string) {
    const row = await this.store.db
      .selectFrom('rulesets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw notFound('rule set', name);
    return row;
  }

  async get(projectId: string, name: string): Promise<RuleSet> {
    const rs = await this.row(projectId, name);
    const versions = await this.store.db
      .selectFrom('ruleset_versions')
      .selectAll()
      .where('ruleset_id', '=', rs.id)
      .orderBy('version')
      .execute();
    const activations = await this.activationRows(rs.id, true);
    const names = await this.userNames([
      rs.created_by,
      ...versions.flatMap((v) => [v.author_id, v.submitted_by, v.approved_by]),
      ...activations.map((a) => a.created_by),
    ]);
    const byId = new Map(versions.map((v) => [v.id, v.version]));
    const active = activeAt(activations, nowIso());
    return {
      id: rs.id,
      name: rs.name,
      description: rs.description,
      createdBy: names.get(rs.created_by) ?? rs.created_by,
      createdAt: rs.created_at,
      latestVersion: versions.at(-1)?.version ?? null,
      activeVersion: active ? (byId.get(active.version_id) ?? null) : null,
      versions: versions.map((v) => {
        const { definition: _d, ...rest } = this.describe(rs.name, v, activations, names);
        return rest;
      }),
      activations: activations.map((a) => ({
        version: byId.get(a.version_id) ?? 0,
        effectiveFrom: a.effective_at,
        kind: a.kind as Activation['kind'],
        by: names.get(a.created_by) ?? a.created_by,
        at: a.created_at,
        cancelledAt: a.cancelled_at,
      })),
    };
  }

  async getVersion(projectId: string, name: string, version: number): Promise<RuleSetVersion> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    const activations = await this.activationRows(rs.id, true);
    const names = await this.userNames([v.author_id, v.submitted_by, v.approved_by]);
    return this.describe(rs.name, v, activations, names);
  }

  private async versionRow(rulesetId: string, name: string, version: number): Promise<VersionRow> {
    const v = await this.store.db
      .selectFrom('ruleset_versions')
      .selectAll()
      .where('ruleset_id', '=', rulesetId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!v) throw notFound('rule set version', `${name}/${version}`);
    return v;
  }

  /** Validates a definition: the issues name the path and the rule; nothing is stored. */
  async validate(definition: unknown): Promise<RuleSetDef> {
    const { validateRuleSet, compileRuleSet } = await rulesModule();
    let result: ReturnType<typeof validateRuleSet>;
    try {
      result = validateRuleSet(definition);
    } catch (error) {
      throw new AppError('RULESET_INVALID', `the rule set cannot be read: ${(error as Error).message}`, [
        { path: '', message: (error as Error).message },
      ]);
    }
    if (result.issues.length > 0) {
      const issues = result.issues.map((i) => ({
        path: i.path,
        message: i.rule !== undefined ? `rule ${JSON.stringify(i.rule)}: ${i.message}` : i.message,
      }));
      const first = issues[0]!;
      throw new AppError(
        'RULESET_INVALID',
        `the rule set has ${issues.length} problem${issues.length === 1 ? '' : 's'}; first: ${first.path} ${first.message}`,
        issues,
      );
    }
    // Compiling must succeed too (a regular expression the engine refuses, say), before anything is stored.
    try {
      compileRuleSet(result.def);
    } catch (error) {
      throw new AppError('RULESET_INVALID', `the rule set does not compile: ${(error as Error).message}`, [
        { path: '', message: (error as Error).message },
      ]);
    }
    return result.def;
  }

  /** A new draft version (the next number), validated first; a version's definition never changes after. */
  async addVersion(
    projectId: string,
    name: string,
    definition: unknown,
    userId: string,
    comment = '',
  ): Promise<RuleSetVersion> {
    const rs = await this.row(projectId, name);
    const def = await this.validate(definition);
    const json = JSON.stringify(def);
    const hash = createHash('sha256').update(canonical(def)).digest('hex');
    for (let attempt = 0; ; attempt++) {
      try {
        const version = await this.store.transaction(async (trx) => {
          // The counter's row lock orders concurrent authors (PostgreSQL); SQLite has one writer anyway.
          await trx
            .updateTable('rulesets')
            .set((eb) => ({ last_version: eb('last_version', '+', 1) }))
            .where('id', '=', rs.id)
            .execute();
          const last = await trx
            .selectFrom('rulesets')
            .select('last_version')
            .where('id', '=', rs.id)
            .executeTakeFirstOrThrow();
          const next = Number(last.last_version);
          await trx
            .insertInto('ruleset_versions')
            .values({
              id: newId('rsv'),
              ruleset_id: rs.id,
              project_id: projectId,
              version: next,
              definition_json: json,
              definition_hash: hash,
              status: 'draft',
              comment,
              author_id: userId,
              created_at: nowIso(),
            })
            .execute();
          return next;
        });
        return this.getVersion(projectId, name, version);
      } catch (error) {
        // Two authors adding a version at once: the loser takes the next number.
        if (this.store.dialect.isUniqueViolation(error) && attempt < 5) continue;
        throw error;
      }
    }
  }

  /** Drafts that no decision and no service uses may be deleted; nothing else ever is. */
  async deleteVersion(projectId: string, name: string, version: number): Promise<void> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    if (v.status !== 'draft')
      throw new AppError(
        'STATE_CONFLICT',
        `version ${version} of rule set ${JSON.stringify(name)} is ${v.status}: only drafts can be deleted`,
      );
    await this.store.transaction(async (trx) => {
      const used = await trx
        .selectFrom('decisions')
        .select('id')
        .where('ruleset_version_id', '=', v.id)
        .limit(1)
        .executeTakeFirst();
      if (used)
        throw new AppError(
          'STATE_CONFLICT',
          `version ${version} of rule set ${JSON.stringify(name)} was used by a decision and cannot be deleted`,
        );
      const pinned = await trx
        .selectFrom('decision_services')
        .select('name')
        .where('ruleset_id', '=', rs.id)
        .where('ruleset_version', '=', version)
        .executeTakeFirst();
      if (pinned)
        throw new AppError(
          'STATE_CONFLICT',
          `decision service ${JSON.stringify(pinned.name)} uses version ${version}: it cannot be deleted`,
        );
      const deleted = await trx
        .deleteFrom('ruleset_versions')
        .where('id', '=', v.id)
        .where('status', '=', 'draft')
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1)
        throw new AppError('STATE_CONFLICT', `version ${version} is no longer a draft`);
    });
    this.compiledCache.delete(v.id);
  }

  async submit(projectId: string, name: string, version: number, userId: string): Promise<RuleSetVersion> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    if (v.status !== 'draft')
      throw new AppError(
        'STATE_CONFLICT',
        `version ${version} is ${v.status}: only a draft can be submitted`,
      );
    const done = await this.store.db
      .updateTable('ruleset_versions')
      .set({ status: 'submitted', submitted_by: userId, submitted_at: nowIso() })
      .where('id', '=', v.id)
      .where('status', '=', 'draft')
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1)
      throw new AppError('STATE_CONFLICT', `version ${version} is no longer a draft`);
    return this.getVersion(projectId, name, version);
  }

  /** Four-eyes: the approver is neither the author nor the submitter. */
  async approve(projectId: string, name: string, version: number, userId: string): Promise<RuleSetVersion> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    const approver = await this.store.db
      .selectFrom('users')
      .select('kind')
      .where('id', '=', userId)
      .executeTakeFirst();
    if (approver?.kind === 'service')
      throw new AppError(
        'FOUR_EYES_REQUIRED',
        'a service account cannot approve a rule set: approval is the act of a person',
      );
    if (v.author_id === userId || v.submitted_by === userId)
      throw new AppError(
        'FOUR_EYES_REQUIRED',
        `version ${version} of rule set ${JSON.stringify(name)} was ${v.author_id === userId ? 'written' : 'submitted'} by you: another person must approve it`,
      );
    if (v.status !== 'submitted')
      throw new AppError(
        'STATE_CONFLICT',
        `version ${version} is ${v.status}: only a submitted version can be approved`,
      );
    const done = await this.store.db
      .updateTable('ruleset_versions')
      .set({ status: 'approved', approved_by: userId, approved_at: nowIso() })
      .where('id', '=', v.id)
      .where('status', '=', 'submitted')
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1)
      throw new AppError('STATE_CONFLICT', `version ${version} is no longer submitted`);
    return this.getVersion(projectId, name, version);
  }

  /**
   * Activates an approved version now, or from `at` (scheduled). `check` is given the version so
   * that the decision services bound to the active version can refuse one their models cannot feed.
   */
  async activate(
    projectId: string,
    name: string,
    version: number,
    userId: string,
    at: string | undefined,
    check?: (loaded: LoadedVersion) => Promise<void>,
  ): Promise<RuleSet> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    if (v.status !== 'approved')
      throw new AppError(
        'STATE_CONFLICT',
        `version ${version} of rule set ${JSON.stringify(name)} is ${v.status}: only an approved version can be activated`,
      );
    let effective = nowIso();
    if (at !== undefined) {
      const t = Date.parse(at);
      if (!Number.isFinite(t) || !/^\d{4}-\d\d-\d\dT/.test(at))
        throw invalid('/at', 'must be an ISO-8601 date and time, e.g. 2030-01-01T00:00:00Z');
      if (t > Date.now()) effective = new Date(t).toISOString();
    }
    if (check) await check(await this.loadRow(name, v));
    await this.appendActivation(rs.id, projectId, v.id, effective, 'activate', userId);
    return this.get(projectId, name);
  }

  /** Re-activates, at once, the version that was active before the current one; pending scheduled activations are cancelled. */
  async rollback(projectId: string, name: string, userId: string): Promise<RuleSet> {
    const rs = await this.row(projectId, name);
    const now = nowIso();
    const rows = await this.activationRows(rs.id, true);
    // The history as a stack: an activation pushes its version, a rollback pops the top.
    const stack: string[] = [];
    for (const a of rows) {
      if (a.cancelled_at !== null || a.effective_at > now) continue;
      if (a.kind === 'rollback') stack.pop();
      else if (stack.at(-1) !== a.version_id) stack.push(a.version_id);
    }
    if (stack.length < 2)
      throw new AppError(
        'STATE_CONFLICT',
        `rule set ${JSON.stringify(name)} has no previous active version to roll back to`,
      );
    const previous = stack[stack.length - 2]!;
    await this.store.transaction(async (trx) => {
      await trx
        .updateTable('ruleset_activations')
        .set({ cancelled_at: now })
        .where('ruleset_id', '=', rs.id)
        .where('effective_at', '>', now)
        .where('cancelled_at', 'is', null)
        .execute();
    });
    await this.appendActivation(rs.id, projectId, previous, now, 'rollback', userId);
    return this.get(projectId, name);
  }

  private async appendActivation(
    rulesetId: string,
    projectId: string,
    versionId: string,
    effective: string,
    kind: 'activate' | 'rollback',
    userId: string,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.transaction(async (trx) => {
          const last = await trx
            .selectFrom('ruleset_activations')
            .select((eb) => eb.fn.max('seq').as('s'))
            .where('ruleset_id', '=', rulesetId)
            .executeTakeFirst();
          await trx
            .insertInto('ruleset_activations')
            .values({
              id: newId('rsa'),
              ruleset_id: rulesetId,
              project_id: projectId,
              seq: Number(last?.s ?? 0) + 1,
              version_id: versionId,
              effective_at: effective,
              kind,
              created_by: userId,
              created_at: nowIso(),
            })
            .execute();
        });
        this.activationCache.delete(rulesetId);
        return;
      } catch (error) {
        if (this.store.dialect.isUniqueViolation(error) && attempt < 5) continue;
        throw error;
      }
    }
  }

  /** Activations in order (effective time, then sequence); cached for a second on the decision path. */
  private async activationRows(rulesetId: string, fresh = false): Promise<ActivationRow[]> {
    const cached = this.activationCache.get(rulesetId);
    if (!fresh && cached && Date.now() - cached.at < ACTIVATION_CACHE_MS) return cached.rows;
    const rows = await this.store.db
      .selectFrom('ruleset_activations')
      .selectAll()
      .where('ruleset_id', '=', rulesetId)
      .orderBy('effective_at')
      .orderBy('seq')
      .execute();
    this.activationCache.set(rulesetId, { rows, at: Date.now() });
    return rows;
  }

  /** The version of a rule set active at `at` (default now), or undefined. */
  async activeVersionId(rulesetId: string, at = nowIso()): Promise<string | undefined> {
    return activeAt(await this.activationRows(rulesetId), at)?.version_id;
  }

  async rulesetId(projectId: string, name: string): Promise<string> {
    return (await this.row(projectId, name)).id;
  }

  /** A version by id, compiled (cached: versions are immutable). */
  async load(projectId: string, versionId: string): Promise<LoadedVersion> {
    const hit = this.compiledCache.get(versionId);
    if (hit) {
      // Status may have moved on (submitted, approved); the definition cannot have.
      return hit;
    }
    const v = await this.store.db
      .selectFrom('ruleset_versions')
      .innerJoin('rulesets', 'rulesets.id', 'ruleset_versions.ruleset_id')
      .selectAll('ruleset_versions')
      .select('rulesets.name as ruleset_name')
      .where('ruleset_versions.id', '=', versionId)
      .where('ruleset_versions.project_id', '=', projectId)
      .executeTakeFirst();
    if (!v) throw notFound('rule set version', versionId);
    return this.loadRow(v.ruleset_name, v);
  }

  async loadByNumber(projectId: string, name: string, version: number): Promise<LoadedVersion> {
    const rs = await this.row(projectId, name);
    const v = await this.versionRow(rs.id, name, version);
    return this.loadRow(name, v);
  }

  private async loadRow(name: string, v: VersionRow): Promise<LoadedVersion> {
    const hit = this.compiledCache.get(v.id);
    if (hit && hit.status === v.status) return hit;
    const { compileRuleSet, factsNeeded } = await rulesModule();
    const def = JSON.parse(v.definition_json) as RuleSetDef;
    const loaded: LoadedVersion = {
      id: v.id,
      rulesetId: v.ruleset_id,
      ruleset: name,
      version: v.version,
      status: v.status as StoredStatus,
      def,
      compiled: hit?.compiled ?? compileRuleSet(def),
      needs: hit?.needs ?? factsNeeded(def),
    };
    if (this.compiledCache.size >= MAX_COMPILED) this.compiledCache.clear();
    this.compiledCache.set(v.id, loaded);
    return loaded;
  }

  private describe(
    name: string,
    v: VersionRow,
    activations: readonly ActivationRow[],
    names: ReadonlyMap<string, string>,
  ): RuleSetVersion {
    const now = nowIso();
    const active = activeAt(activations, now);
    const mine = activations.filter((a) => a.version_id === v.id && a.cancelled_at === null);
    const pending = mine.find((a) => a.effective_at > now);
    const past = mine.filter((a) => a.effective_at <= now).at(-1);
    let status: VersionState = v.status as StoredStatus;
    let effectiveFrom: string | null = null;
    if (active?.version_id === v.id) {
      status = 'active';
      effectiveFrom = active.effective_at;
    } else if (pending) {
      status = 'scheduled';
      effectiveFrom = pending.effective_at;
    } else if (past) {
      status = 'superseded';
      effectiveFrom = past.effective_at;
    }
    const who = (id: string | null) => (id === null ? null : (names.get(id) ?? id));
    return {
      id: v.id,
      ruleset: name,
      version: v.version,
      status,
      definition: JSON.parse(v.definition_json) as RuleSetDef,
      definitionHash: v.definition_hash,
      comment: v.comment,
      author: who(v.author_id)!,
      createdAt: v.created_at,
      submittedBy: who(v.submitted_by),
      submittedAt: v.submitted_at,
      approvedBy: who(v.approved_by),
      approvedAt: v.approved_at,
      effectiveFrom,
    };
  }

  private async userNames(ids: readonly (string | null)[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((i): i is string => i !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await this.store.db
      .selectFrom('users')
      .select(['id', 'name'])
      .where('id', 'in', wanted)
      .execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}

/** The activation in force at `at`: the latest (by effective time, then sequence) not cancelled and already effective. */
function activeAt(rows: readonly ActivationRow[], at: string): ActivationRow | undefined {
  let found: ActivationRow | undefined;
  for (const a of rows) {
    if (a.cancelled_at !== null || a.effective_at > at) continue;
    found = a;
  }
  return found;
}
