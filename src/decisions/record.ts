import { createHash } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { invalid, notFound } from '../errors/index.js';
import type { MetadataStore } from '../store/metadata.js';
import type { DecisionTable } from '../store/tables/decisions.js';
import { canonical } from './canonical.js';

export interface ModelVersionUsed {
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  readonly modelVersionId: string;
}

export interface FiredEntry {
  readonly rule: string;
  readonly outcome: string;
  readonly reason: string;
  readonly priority: number;
  readonly table?: string;
}

/** One recorded decision, as the API shows it. */
export interface DecisionEntry {
  readonly id: string;
  readonly service: string;
  readonly businessKey: string | null;
  readonly status: 'ok' | 'failed';
  readonly outcome: string | null;
  readonly reasons: string[];
  readonly error: string | null;
  readonly inputs: Record<string, unknown>;
  readonly facts: Record<string, unknown>;
  readonly modelOutputs: Record<string, unknown>;
  readonly fired: FiredEntry[];
  readonly versions: {
    readonly ruleset: { readonly name: string; readonly version: number | null; readonly id: string | null };
    readonly models: readonly ModelVersionUsed[];
  };
  readonly caller: { readonly userId: string | null; readonly keyId: string | null };
  readonly requestId: string;
  readonly latencyMs: number;
  readonly createdAt: string;
  readonly hash: string;
}

export type DecisionRow = Selectable<DecisionTable>;
export type NewDecision = Omit<DecisionRow, 'hash'>;

export interface DecisionFilter {
  readonly outcome?: string | undefined;
  readonly status?: 'ok' | 'failed' | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly rule?: string | undefined;
  readonly businessKey?: string | undefined;
  readonly service?: string | undefined;
}

/** The hash of a row's content (every column but the hash), in canonical JSON. */
export function rowHash(row: NewDecision): string {
  return createHash('sha256').update(canonical(row)).digest('hex');
}

/** Decisions committed together at most; rows per INSERT statement (24 columns: within every driver's parameter limit). */
const MAX_GROUP = 256;
const ROWS_PER_INSERT = 32;

function iso(path: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw invalid(path, 'must be an ISO-8601 date or date and time');
  return new Date(t).toISOString();
}

function encodeCursor(row: { created_at: string; id: string }): string {
  return Buffer.from(`${row.created_at}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar < 0 || !Number.isFinite(Date.parse(text.slice(0, bar))))
    throw invalid('/cursor', 'is not a cursor this server gave');
  return { at: text.slice(0, bar), id: text.slice(bar + 1) };
}

/**
 * The decision record: append-only. `append` is the only write and there is no update or delete
 * path; each row carries the SHA-256 of its canonical content so that an edited row is detectable
 * (`verify`). Rows are read newest first, paged by a cursor over (created_at, id).
 */
export class DecisionRecord {
  private pending: { row: DecisionRow; done: (error?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly store: MetadataStore) {}

  /**
   * Appends a decision and resolves once it is committed: the decision is durable before its
   * answer leaves. Group commit: while one write is in flight, the decisions arriving meanwhile
   * wait and go in together in the next transaction, so concurrent decisions share commits and a
   * lone decision pays exactly one insert (no timer, no added wait).
   */
  append(row: NewDecision): Promise<DecisionRow> {
    const full: DecisionRow = { ...row, hash: rowHash(row) };
    return new Promise((resolve, reject) => {
      this.pending.push({
        row: full,
        done: (error) => (error === undefined ? resolve(full) : reject(error)),
      });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_GROUP);
        try {
          if (batch.length === 1) await this.store.db.insertInto('decisions').values(batch[0]!.row).execute();
          else
            await this.store.transaction(async (trx) => {
              for (let i = 0; i < batch.length; i += ROWS_PER_INSERT)
                await trx
                  .insertInto('decisions')
                  .values(batch.slice(i, i + ROWS_PER_INSERT).map((b) => b.row))
                  .execute();
            });
          for (const b of batch) b.done();
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.done(error);
            continue;
          }
          // One bad row must not fail the others: write them one by one, each its own answer.
          for (const b of batch) {
            try {
              await this.store.db.insertInto('decisions').values(b.row).execute();
              b.done();
            } catch (e) {
              b.done(e);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async get(projectId: string, id: string): Promise<DecisionRow> {
    const row = await this.store.db
      .selectFrom('decisions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('decision', id);
    return row;
  }

  /** A page of decisions, newest first. */
  async search(
    projectId: string,
    filter: DecisionFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ rows: DecisionRow[]; nextCursor: string | null }> {
    const from = iso('/from', filter.from);
    const to = iso('/to', filter.to);
    const after = cursor ? decodeCursor(cursor) : undefined;
    let q = this.store.db.selectFrom('decisions').selectAll().where('project_id', '=', projectId);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.businessKey !== undefined) q = q.where('business_key', '=', filter.businessKey);
    if (filter.service !== undefined) q = q.where('service', '=', filter.service);
    if (from !== undefined) q = q.where('created_at', '>=', from);
    if (to !== undefined) q = q.where('created_at', '<', to);
    if (filter.rule !== undefined) {
      // fired_json is written by JSON.stringify with "rule" first in each entry.
      const needle = `{"rule":${JSON.stringify(filter.rule)},`;
      const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`fired_json like ${pattern} escape '\\'`);
    }
    if (after)
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', after.at),
          eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)]),
        ]),
      );
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    // LIKE is case-insensitive in SQLite: keep exact rule-name matches only.
    const exact =
      filter.rule === undefined
        ? rows
        : rows.filter((r) => (JSON.parse(r.fired_json) as FiredEntry[]).some((f) => f.rule === filter.rule));
    const more = rows.length > limit;
    const page = exact.slice(0, limit);
    const last = rows.slice(0, limit).at(-1);
    return { rows: page, nextCursor: more && last ? encodeCursor(last) : null };
  }

  /** Every matching decision, newest first, in pages: for the JSON Lines export and backtests. */
  async *scan(
    projectId: string,
    filter: DecisionFilter,
    max = Infinity,
    pageSize = 1_000,
  ): AsyncGenerator<DecisionRow> {
    let cursor: string | undefined;
    let n = 0;
    for (;;) {
      const { rows, nextCursor } = await this.search(projectId, filter, Math.min(pageSize, max - n), cursor);
      for (const r of rows) {
        yield r;
        if (++n >= max) return;
      }
      if (!nextCursor) return;
      cursor = nextCursor;
    }
  }

  /** Rows whose content no longer matches their hash (edited outside Mass). */
  async verify(projectId: string): Promise<{ checked: number; mismatched: string[] }> {
    let checked = 0;
    const mismatched: string[] = [];
    for await (const row of this.scan(projectId, {})) {
      checked++;
      const { hash, ...rest } = row;
      if (rowHash(rest) !== hash) mismatched.push(row.id);
    }
    return { checked, mismatched };
  }
}

/** A stored row as the API shows it. */
export function toEntry(row: DecisionRow): DecisionEntry {
  const fired = JSON.parse(row.fired_json) as FiredEntry[];
  return {
    id: row.id,
    service: row.service,
    businessKey: row.business_key,
    status: row.status as 'ok' | 'failed',
    outcome: row.outcome,
    reasons: fired.map((f) => f.reason),
    error: row.error,
    inputs: JSON.parse(row.input_json) as Record<string, unknown>,
    facts: JSON.parse(row.facts_json) as Record<string, unknown>,
    modelOutputs: JSON.parse(row.model_outputs_json) as Record<string, unknown>,
    fired,
    versions: {
      ruleset: { name: row.ruleset, version: row.ruleset_version, id: row.ruleset_version_id },
      models: JSON.parse(row.model_versions_json) as ModelVersionUsed[],
    },
    caller: { userId: row.caller_user_id, keyId: row.caller_key_id },
    requestId: row.request_id,
    latencyMs: Number(row.latency_us) / 1000,
    createdAt: row.created_at,
    hash: row.hash,
  };
}
