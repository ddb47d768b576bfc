import type { Transaction } from 'kysely';
import type { Database } from '../store/metadata.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface Job {
  readonly id: string;
  readonly projectId: string;
  readonly type: string;
  readonly payload: unknown;
  readonly status: JobStatus;
  /** 0..1 */
  readonly progress: number;
  readonly message: string;
  /** The latest figures the job reported (iteration, loss, validation metric, ...). */
  readonly metrics: Record<string, number>;
  readonly result: unknown;
  readonly error: string | null;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly cancelRequested: boolean;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly updatedAt: string;
}

export interface JobContext {
  /** Aborted when the job is cancelled or its lease is lost. */
  readonly signal: AbortSignal;
  readonly attempt: number;
  /** Reports progress; writes are throttled, so call it as often as convenient. */
  progress(fraction: number, message?: string, metrics?: Record<string, number>): void;
}

/** What a handler returns: a JSON-able result and, optionally, writes committed atomically with the job's completion. */
export interface JobOutcome {
  readonly result: unknown;
  readonly commit?: (trx: Transaction<Database>) => Promise<void>;
  /**
   * The handler recorded its work itself before returning (a dataset version): a cancel that
   * arrives after that cannot undo it, so the job succeeds (and `commit` runs). Without it, a
   * cancel that arrived while the handler finished wins: nothing is committed.
   */
  readonly recorded?: boolean;
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<JobOutcome>;

/** A failure that retrying cannot fix (bad parameters, bad data): the job fails at once. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/**
 * Jobs persisted in the metadata store. Claiming sets a lease and an owner token; completion is
 * accepted only from the current owner, so a worker that lost its lease changes nothing.
 */
export interface JobQueue {
  enqueue(
    input: { projectId: string; type: string; payload: unknown; createdBy: string; maxAttempts?: number },
    trx?: Transaction<Database>,
  ): Promise<Job>;
  get(projectId: string, id: string): Promise<Job>;
  list(projectId: string, options?: { limit?: number; before?: string; status?: JobStatus }): Promise<Job[]>;
  cancel(projectId: string, id: string): Promise<Job>;
  /** Starts claiming and running jobs with the given handlers. */
  start(handlers: Readonly<Record<string, JobHandler>>): Promise<void>;
  /** Stops claiming; waits for running jobs up to `graceMs`, then abandons them to lease recovery. */
  stop(graceMs?: number): Promise<void>;
}
