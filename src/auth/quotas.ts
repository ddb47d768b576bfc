import { AppError } from '../errors/index.js';
import type { MetadataStore } from '../store/metadata.js';

/**
 * Per-project quotas: jobs queued or running at once, and bytes of stored datasets and models.
 * A project's own setting wins over the server default; 0 or null means unlimited.
 */
export class Quotas {
  constructor(
    private readonly store: MetadataStore,
    private readonly defaults: { readonly maxConcurrentJobs: number; readonly storageQuotaBytes: number },
  ) {}

  async checkJobs(projectId: string): Promise<void> {
    const project = await this.store.db
      .selectFrom('projects')
      .select('max_concurrent_jobs')
      .where('id', '=', projectId)
      .executeTakeFirst();
    const limit = project?.max_concurrent_jobs ?? this.defaults.maxConcurrentJobs;
    if (!limit) return;
    const row = await this.store.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('project_id', '=', projectId)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (Number(row?.n ?? 0) >= limit) {
      throw new AppError(
        'QUOTA_EXCEEDED',
        `the project may have ${limit} jobs queued or running at once; wait for one to finish`,
      );
    }
  }

  /** Refuses an upload of `adding` bytes that would take the project over its storage quota. */
  async checkStorage(projectId: string, adding: number): Promise<void> {
    const project = await this.store.db
      .selectFrom('projects')
      .select('storage_quota_bytes')
      .where('id', '=', projectId)
      .executeTakeFirst();
    const limit = project?.storage_quota_bytes ?? this.defaults.storageQuotaBytes;
    if (!limit) return;
    const used = await this.usage(projectId);
    if (used + adding > limit) {
      throw new AppError(
        'STORAGE_QUOTA_EXCEEDED',
        `the project stores ${used} of its ${limit} bytes; this upload needs ${adding} more`,
      );
    }
  }

  async usage(projectId: string): Promise<number> {
    const data = await this.store.db
      .selectFrom('dataset_versions')
      .select((eb) => eb.fn.sum<number>('size_bytes').as('b'))
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    const models = await this.store.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.sum<number>('size_bytes').as('b'))
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(data?.b ?? 0) + Number(models?.b ?? 0);
  }

  async set(
    projectId: string,
    input: { maxConcurrentJobs?: number | null | undefined; storageQuotaBytes?: number | null | undefined },
  ): Promise<void> {
    const set: { max_concurrent_jobs?: number | null; storage_quota_bytes?: number | null } = {};
    if (input.maxConcurrentJobs !== undefined) set.max_concurrent_jobs = input.maxConcurrentJobs;
    if (input.storageQuotaBytes !== undefined) set.storage_quota_bytes = input.storageQuotaBytes;
    if (Object.keys(set).length > 0)
      await this.store.db.updateTable('projects').set(set).where('id', '=', projectId).execute();
  }
}
