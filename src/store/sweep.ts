import type { Kysely } from 'kysely';
import { isHash, type ArtifactStore } from './artifacts.js';
import type { Database, MetadataStore } from './metadata.js';

/** Where artifact hashes are kept: one column, or hashes inside stored files that only one module can read. */
export interface ReferenceSource {
  /** What is read, for the report: `table.column`, or a short description. */
  readonly name: string;
  /** Every hash referenced there (repeats allowed; strings that are not hashes are ignored). */
  hashes(db: Kysely<Database>): AsyncIterable<string>;
  /** Hashes found by their shape in free text, which may name things other than blobs: never reported missing. */
  readonly loose?: boolean;
}

/** A day: far longer than any commit-then-insert window (an image import stores its images before converting its table). */
export const DEFAULT_GRACE_MS = 24 * 60 * 60 * 1000;

const PAGE = 1000;

/** A 64-hex-digit run that is not part of a longer one. */
const DIGEST = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g;

/** Rows of one table, a page at a time by id (keyset paging works the same on both dialects, no cursor needed). */
async function* paged<R extends { id: string }>(page: (after: string) => Promise<R[]>): AsyncGenerator<R> {
  let after = '';
  for (;;) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Every digest-shaped string in a JSON text: job payloads and results name their blobs under several keys. */
function* digestsIn(text: string | null): Generator<string> {
  if (text) for (const m of text.matchAll(DIGEST)) yield m[0];
}

/**
 * The columns of the metadata database that hold artifact hashes. A new column holding one must be
 * added here (test/store/sweep.test.ts checks each of these keeps its blob).
 */
export const COLUMN_REFERENCES: readonly ReferenceSource[] = [
  {
    // The version's file: Parquet, or CSV for versions stored before the DuckDB engine.
    name: 'dataset_versions.content_hash',
    async *hashes(db) {
      for await (const r of paged((after) =>
        db
          .selectFrom('dataset_versions')
          .select(['id', 'content_hash'])
          .where('id', '>', after)
          .orderBy('id')
          .limit(PAGE)
          .execute(),
      ))
        yield r.content_hash;
    },
  },
  {
    // The ONNX file of a trained or imported model version.
    name: 'model_versions.artifact_hash',
    async *hashes(db) {
      for await (const r of paged((after) =>
        db
          .selectFrom('model_versions')
          .select(['id', 'artifact_hash'])
          .where('id', '>', after)
          .orderBy('id')
          .limit(PAGE)
          .execute(),
      ))
        yield r.artifact_hash;
    },
  },
  {
    // Inputs of jobs (a batch scoring job's uploaded or converted CSV, `input.hash`) and their
    // results (the CSV of batch and image scoring, `artifactHash`). Read as text, any key: a job
    // type added later that names a blob is covered without a change here.
    name: 'jobs.payload_json, jobs.result_json',
    loose: true,
    async *hashes(db) {
      for await (const r of paged((after) =>
        db
          .selectFrom('jobs')
          .select(['id', 'payload_json', 'result_json'])
          .where('id', '>', after)
          .orderBy('id')
          .limit(PAGE)
          .execute(),
      )) {
        yield* digestsIn(r.payload_json);
        yield* digestsIn(r.result_json);
      }
    },
  },
];

/**
 * The sweep would delete blobs, but the database and the store do not look like one installation
 * (the database references none of the stored blobs): nothing was deleted.
 */
export class SweepRefused extends Error {
  override readonly name = 'SweepRefused';
}

export interface SweepOptions {
  /**
   * References kept inside stored files, which this module cannot read: the image files named in
   * image dataset versions (`imageFileReferences` in data/sources/image-references.ts). Required,
   * so that no caller forgets them: pass `[]` only where no such data can exist.
   */
  readonly references: readonly ReferenceSource[];
  /** Unreferenced blobs written less than this long ago are kept (default 24 h). */
  readonly graceMs?: number | undefined;
  /** Count only; delete nothing. */
  readonly dryRun?: boolean | undefined;
  /** The sweep's clock (tests). */
  readonly now?: Date | undefined;
}

export interface Tally {
  readonly count: number;
  readonly bytes: number;
}

export interface SweepReport {
  readonly dryRun: boolean;
  readonly graceSeconds: number;
  /** Unreferenced blobs last written before this instant are swept. */
  readonly cutoff: string;
  /** Every blob in the store when it was listed. */
  readonly stored: Tally;
  /** Kept: referenced by the metadata database. */
  readonly referenced: Tally;
  /** Kept: referenced by nothing, but written within the grace period (possibly by work in flight). */
  readonly young: Tally;
  /** Referenced by nothing and older than the grace period: deleted, or what a dry run would delete. */
  readonly unreferenced: Tally;
  /** Removed by this run: the space freed (none in a dry run). */
  readonly deleted: Tally;
  /** Hashes the database references that have no blob: broken references to look into. */
  readonly missing: number;
  /** Distinct hashes found in each place the sweep looked. */
  readonly sources: readonly { readonly name: string; readonly hashes: number }[];
}

/**
 * Deletes the blobs that nothing references and that are older than the grace period.
 *
 * References are collected first and the store listed after, so a blob can only be taken if it
 * was old and unreferenced when the references were read. A reference added after that either
 * wrote the blob (a commit refreshes its time) or asked `has` (which refreshes it too), and the
 * store's delete re-checks the time as it removes the file, so neither is lost. The grace period
 * covers the other window: work that committed a blob and has not yet inserted its row.
 */
export async function sweepArtifacts(
  store: MetadataStore,
  artifacts: ArtifactStore,
  options: SweepOptions,
): Promise<SweepReport> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new Error('the grace period must be a duration ≥ 0');
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - graceMs);
  const dryRun = options.dryRun === true;

  const referenced = new Set<string>();
  // The hashes that must name a blob: a missing one is a broken reference worth reporting.
  const expected = new Set<string>();
  const sources: { name: string; hashes: number }[] = [];
  for (const source of [...COLUMN_REFERENCES, ...options.references]) {
    const seen = new Set<string>();
    for await (const hash of source.hashes(store.db)) if (isHash(hash)) seen.add(hash);
    for (const hash of seen) {
      referenced.add(hash);
      if (!source.loose) expected.add(hash);
    }
    sources.push({ name: source.name, hashes: seen.size });
  }

  const tally = () => ({ count: 0, bytes: 0 });
  const add = (t: { count: number; bytes: number }, bytes: number) => {
    t.count++;
    t.bytes += bytes;
  };
  const stored = tally();
  const kept = tally();
  const young = tally();
  const unreferenced = tally();
  const deleted = tally();
  let present = 0;
  const candidates: { hash: string; bytes: number }[] = [];
  for await (const blob of artifacts.list()) {
    add(stored, blob.bytes);
    if (referenced.has(blob.hash)) {
      if (expected.has(blob.hash)) present++;
      add(kept, blob.bytes);
    } else if (blob.modifiedAt.getTime() >= cutoff.getTime()) add(young, blob.bytes);
    else {
      add(unreferenced, blob.bytes);
      candidates.push({ hash: blob.hash, bytes: blob.bytes });
    }
  }
  // A database paired with the wrong artifact folder (or a fresh, empty one) makes every blob look
  // unreferenced: refuse rather than empty the store. A dry run refuses too, as the sweep would.
  if (candidates.length > 0 && present === 0)
    throw new SweepRefused(
      expected.size === 0
        ? `the metadata database references no stored file at all, yet ${candidates.length} would be deleted: ` +
            'is it the database of this artifact store? Nothing was deleted'
        : `none of the ${expected.size} files the metadata database references is in this artifact store, ` +
            `yet ${candidates.length} would be deleted: do they belong to the same installation? Nothing was deleted`,
    );
  if (!dryRun)
    for (const blob of candidates)
      if (await artifacts.delete(blob.hash, { unlessModifiedSince: cutoff })) add(deleted, blob.bytes);

  return {
    dryRun,
    graceSeconds: graceMs / 1000,
    cutoff: cutoff.toISOString(),
    stored,
    referenced: kept,
    young,
    unreferenced,
    deleted,
    missing: expected.size - present,
    sources,
  };
}
