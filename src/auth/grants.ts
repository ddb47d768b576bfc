import { invalid, notFound } from '../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import type { AuthService, Principal } from './service.js';

export const GRANT_KINDS = ['dataset_version', 'model_version'] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

export interface Grant {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly kind: GrantKind;
  /** The shared object, named in the granting project. */
  readonly name: string;
  readonly version: number;
  readonly objectId: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/**
 * Read access to ONE dataset version or ONE model version of a project, granted to another
 * project and revocable. Visible to both projects; the receiving project reads the object
 * through the grant's id only, so nothing else of the granting project becomes reachable.
 */
export class Grants {
  constructor(
    private readonly store: MetadataStore,
    private readonly auth: AuthService,
  ) {}

  async create(
    principal: Principal,
    fromName: string,
    input: { to: string; kind: GrantKind; name: string; version: number },
  ): Promise<Grant> {
    const from = await this.auth.authorizeProject(principal, fromName, 'share:manage');
    const to = await this.auth.findProject(input.to);
    if (!to) throw notFound('project', input.to);
    if (to.id === from.id) throw invalid('to', 'a project already sees its own objects');
    const objectId = await this.findObject(from.id, input.kind, input.name, input.version);
    const row = {
      id: newId('grt'),
      from_project_id: from.id,
      to_project_id: to.id,
      kind: input.kind,
      object_id: objectId,
      created_by: principal.userId,
      created_at: nowIso(),
      revoked_at: null,
    };
    await this.store.db.insertInto('grants').values(row).execute();
    return {
      id: row.id,
      from: from.name,
      to: to.name,
      kind: input.kind,
      name: input.name,
      version: input.version,
      objectId,
      createdAt: row.created_at,
      revokedAt: null,
    };
  }

  /** Grants given by and given to a project. */
  async list(principal: Principal, projectName: string): Promise<{ given: Grant[]; received: Grant[] }> {
    const project = await this.auth.authorizeProject(principal, projectName, 'project:read');
    const rows = await this.store.db
      .selectFrom('grants')
      .selectAll()
      .where((eb) => eb.or([eb('from_project_id', '=', project.id), eb('to_project_id', '=', project.id)]))
      .orderBy('created_at')
      .execute();
    const grants = await Promise.all(rows.map((r) => this.describe(r)));
    return {
      given: grants.filter((g, i) => rows[i]!.from_project_id === project.id),
      received: grants.filter((g, i) => rows[i]!.to_project_id === project.id),
    };
  }

  async revoke(principal: Principal, projectName: string, grantId: string): Promise<void> {
    const project = await this.auth.authorizeProject(principal, projectName, 'share:manage');
    const r = await this.store.db
      .updateTable('grants')
      .set({ revoked_at: nowIso() })
      .where('id', '=', grantId)
      .where('from_project_id', '=', project.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound('grant', grantId);
  }

  /** A live grant to `projectName`, checked for the caller's right to read in that project. */
  async resolve(
    principal: Principal,
    projectName: string,
    grantId: string,
  ): Promise<Grant & { fromProjectId: string }> {
    const project = await this.auth.authorizeProject(principal, projectName, 'project:read');
    const row = await this.store.db
      .selectFrom('grants')
      .selectAll()
      .where('id', '=', grantId)
      .where('to_project_id', '=', project.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw notFound('grant', grantId);
    await this.auth.authorizeProject(
      principal,
      projectName,
      row.kind === 'dataset_version' ? 'dataset:read' : 'model:read',
    );
    return { ...(await this.describe(row)), fromProjectId: row.from_project_id };
  }

  private async findObject(
    projectId: string,
    kind: GrantKind,
    name: string,
    version: number,
  ): Promise<string> {
    const row =
      kind === 'dataset_version'
        ? await this.store.db
            .selectFrom('dataset_versions')
            .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id')
            .select('dataset_versions.id')
            .where('datasets.project_id', '=', projectId)
            .where('datasets.name', '=', name)
            .where('dataset_versions.version', '=', version)
            .executeTakeFirst()
        : await this.store.db
            .selectFrom('model_versions')
            .innerJoin('models', 'models.id', 'model_versions.model_id')
            .select('model_versions.id')
            .where('models.project_id', '=', projectId)
            .where('models.name', '=', name)
            .where('model_versions.version', '=', version)
            .executeTakeFirst();
    if (!row) throw notFound(kind.replace('_', ' '), `${name}@${version}`);
    return row.id;
  }

  private async describe(r: {
    id: string;
    from_project_id: string;
    to_project_id: string;
    kind: string;
    object_id: string;
    created_at: string;
    revoked_at: string | null;
  }): Promise<Grant> {
    const names = await this.store.db
      .selectFrom('projects')
      .select(['id', 'name'])
      .where('id', 'in', [r.from_project_id, r.to_project_id])
      .execute();
    const nameOf = (id: string) => names.find((p) => p.id === id)?.name ?? id;
    const object =
      r.kind === 'dataset_version'
        ? await this.store.db
            .selectFrom('dataset_versions')
            .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id')
            .select(['datasets.name', 'dataset_versions.version'])
            .where('dataset_versions.id', '=', r.object_id)
            .executeTakeFirst()
        : await this.store.db
            .selectFrom('model_versions')
            .innerJoin('models', 'models.id', 'model_versions.model_id')
            .select(['models.name', 'model_versions.version'])
            .where('model_versions.id', '=', r.object_id)
            .executeTakeFirst();
    return {
      id: r.id,
      from: nameOf(r.from_project_id),
      to: nameOf(r.to_project_id),
      kind: r.kind as GrantKind,
      name: object?.name ?? '(deleted)',
      version: Number(object?.version ?? 0),
      objectId: r.object_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    };
  }
}
