import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Selectable } from 'kysely';
import type { MetadataStore } from '../store/metadata.js';
import type { AuditLogTable } from '../store/schema.js';

export interface AuditInput {
  readonly actorUserId: string | null;
  readonly actorKeyId: string | null;
  readonly projectId: string | null;
  /** What was attempted, e.g. `POST /v1/projects/:project/datasets` or `session.login`. */
  readonly action: string;
  /** The object or URL acted on. */
  readonly target: string;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly status: number;
  readonly ip: string;
  readonly requestId: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type AuditEntry = Selectable<AuditLogTable>;

export interface AuditProblem {
  readonly seq: number;
  readonly problem: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly lastSeq: number;
  readonly checkpoints: number;
  readonly lastCheckpointSeq: number;
  readonly problems: readonly AuditProblem[];
}

const GENESIS = '0'.repeat(64);
const MAX_APPEND_TRIES = 50;

/** JSON with keys sorted at every depth: the same content always gives the same bytes. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
    .join(',')}}`;
}

/** hash(n) = SHA-256(n ‖ hash(n-1) ‖ canonical content of n): editing, inserting, removing or reordering breaks it. */
export function entryHash(
  seq: number,
  prevHash: string,
  row: Omit<AuditEntry, 'seq' | 'prev_hash' | 'hash'>,
): string {
  const content = canonical({
    at: row.at,
    actor_user_id: row.actor_user_id,
    actor_key_id: row.actor_key_id,
    project_id: row.project_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    status: row.status,
    ip: row.ip,
    request_id: row.request_id,
    details: JSON.parse(row.details_json) as unknown,
  });
  return createHash('sha256').update(`${seq}\n${prevHash}\n${content}`).digest('hex');
}

/**
 * Signed checkpoints of the chain's head, kept OUTSIDE the database (a file per installation, or a
 * folder on other storage): a plain hash chain cannot show that its tail was cut; a signed
 * (seq, hash) written earlier can. Ed25519; the private key is made at first start.
 */
export class Checkpoints {
  readonly file: string;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'checkpoints.jsonl');
    const keyFile = join(dir, 'signing-key.pem');
    if (!existsSync(keyFile)) {
      const pair = generateKeyPairSync('ed25519');
      writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(join(dir, 'signing-key.pub.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    }
    this.privateKey = createPrivateKey(readFileSync(keyFile));
    this.publicKey = createPublicKey(this.privateKey);
  }

  write(seq: number, hash: string): void {
    const at = new Date().toISOString();
    const sig = sign(null, Buffer.from(checkpointMessage(seq, hash, at)), this.privateKey).toString('base64');
    appendFileSync(this.file, `${JSON.stringify({ seq, hash, at, sig })}\n`, { mode: 0o600 });
  }

  read(): { seq: number; hash: string; at: string; sig: string }[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { seq: number; hash: string; at: string; sig: string });
  }
}

function checkpointMessage(seq: number, hash: string, at: string): string {
  return `mass-audit-checkpoint\n${seq}\n${hash}\n${at}`;
}

/**
 * The append-only, tamper-evident audit log. Each entry's hash covers its sequence number, the
 * previous hash and its content; `seq` is the primary key, so two writers (threads, processes,
 * replicas) can never both append entry n: the loser retries on the new head, and the chain never forks.
 */
export class AuditLog {
  private tail: Promise<unknown> = Promise.resolve();
  private sinceCheckpoint = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A checkpoint the timer started, which `close` waits for before the store goes away. */
  private periodic: Promise<void> = Promise.resolve();
  /** Set by `close`: no more timers (its own checkpoint covers every entry). */
  private closing = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly checkpoints?: Checkpoints,
    private readonly checkpointEvery = { entries: 100, ms: 1000 },
  ) {}

  /** Appends one entry (serialised within this process; retried against other writers). */
  append(input: AuditInput): Promise<number> {
    const next = this.tail.then(() => this.appendNow(input));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async appendNow(input: AuditInput): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const head = await this.store.db
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const seq = Number(head?.seq ?? 0) + 1;
      const prev = head?.hash ?? GENESIS;
      const row = {
        at: new Date().toISOString(),
        actor_user_id: input.actorUserId,
        actor_key_id: input.actorKeyId,
        project_id: input.projectId,
        action: input.action,
        target: input.target,
        outcome: input.outcome,
        status: input.status,
        ip: input.ip,
        request_id: input.requestId,
        details_json: canonical(input.details ?? {}),
      };
      const hash = entryHash(seq, prev, row);
      try {
        await this.store.db
          .insertInto('audit_log')
          .values({ seq, ...row, prev_hash: prev, hash })
          .execute();
        this.afterAppend(seq, hash);
        return seq;
      } catch (error) {
        if (!this.store.dialect.isUniqueViolation(error) || attempt >= MAX_APPEND_TRIES) throw error;
      }
    }
  }

  private afterAppend(seq: number, hash: string): void {
    if (!this.checkpoints || this.closing) return;
    if (++this.sinceCheckpoint >= this.checkpointEvery.entries) {
      this.sinceCheckpoint = 0;
      this.checkpoints.write(seq, hash);
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // A failed periodic checkpoint is written by the next one, or at shutdown.
      this.periodic = this.checkpoint().catch(() => undefined);
    }, this.checkpointEvery.ms);
    this.timer.unref();
  }

  /** Writes a signed checkpoint of the current head (also on shutdown). */
  async checkpoint(): Promise<void> {
    await this.tail;
    if (!this.checkpoints) return;
    const head = await this.store.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!head) return;
    const last = this.checkpoints.read().at(-1);
    if (last?.seq === Number(head.seq)) return;
    this.sinceCheckpoint = 0;
    this.checkpoints.write(Number(head.seq), head.hash);
  }

  /**
   * Writes the last checkpoint once the appends in flight have landed (a response's entry is
   * appended after the response is sent, so one may still be running when the server has
   * closed), and leaves no timer or query behind: the store is closed right after.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.tail;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.periodic;
    await this.checkpoint();
  }

  async list(options: { after?: number; limit?: number; projectId?: string } = {}): Promise<AuditEntry[]> {
    let query = this.store.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq')
      .limit(Math.min(options.limit ?? 1000, 10_000));
    if (options.after !== undefined) query = query.where('seq', '>', options.after);
    if (options.projectId !== undefined) query = query.where('project_id', '=', options.projectId);
    return query.execute();
  }

  /**
   * Recomputes the whole chain and checks every signed checkpoint against it. Finds an edited,
   * inserted, removed or reordered entry, a removed tail (behind a checkpoint), and checkpoints
   * signed by another key than `publicKey` (default: this installation's).
   */
  async verify(publicKey?: KeyObject): Promise<AuditReport> {
    const problems: AuditProblem[] = [];
    const hashes = new Map<number, string>();
    let expectedSeq = 1;
    let prev = GENESIS;
    let entries = 0;
    let after = 0;
    for (;;) {
      const page = await this.store.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(5000)
        .execute();
      if (page.length === 0) break;
      for (const row of page) {
        const seq = Number(row.seq);
        entries++;
        if (seq !== expectedSeq)
          problems.push({
            seq,
            problem: `expected entry ${expectedSeq} here: entries ${expectedSeq}..${seq - 1} are missing`,
          });
        if (row.prev_hash !== prev) problems.push({ seq, problem: 'does not link to the entry before it' });
        if (entryHash(seq, row.prev_hash, row) !== row.hash)
          problems.push({ seq, problem: 'its content does not match its hash (edited)' });
        hashes.set(seq, row.hash);
        prev = row.hash;
        expectedSeq = seq + 1;
        after = seq;
      }
    }
    let checkpoints = 0;
    let lastCheckpointSeq = 0;
    const key = publicKey ?? this.checkpoints?.publicKey;
    for (const cp of this.checkpoints?.read() ?? []) {
      checkpoints++;
      lastCheckpointSeq = Math.max(lastCheckpointSeq, cp.seq);
      const signed =
        key !== undefined &&
        verify(
          null,
          Buffer.from(checkpointMessage(cp.seq, cp.hash, cp.at)),
          key,
          Buffer.from(cp.sig, 'base64'),
        );
      if (!signed)
        problems.push({ seq: cp.seq, problem: 'checkpoint signature is not valid for the trusted key' });
      const actual = hashes.get(cp.seq);
      if (actual === undefined)
        problems.push({
          seq: cp.seq,
          problem: `a signed checkpoint names entry ${cp.seq}, which is gone (removed tail)`,
        });
      else if (actual !== cp.hash)
        problems.push({ seq: cp.seq, problem: 'differs from the signed checkpoint' });
    }
    return { ok: problems.length === 0, entries, lastSeq: after, checkpoints, lastCheckpointSeq, problems };
  }
}
