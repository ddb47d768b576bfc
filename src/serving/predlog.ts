import { newId, type MetadataStore } from '../store/metadata.js';
import { fromHalf, V2_OF_ORT, type Tensors } from './tensors.js';

export interface PredictionLogEntry {
  readonly projectId: string;
  readonly deploymentId: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  readonly role: 'primary' | 'shadow';
  readonly requestId: string;
  readonly protocol: string;
  readonly rows: number;
  /** The request as received (rows, or tensors): kept by reference and serialised by the writer. */
  readonly inputs: unknown;
  readonly outputs: Tensors;
  readonly latencyUs: number;
  readonly comparison?: Readonly<Record<string, unknown>>;
  readonly at: string;
}

export interface LoggedPrediction {
  readonly id: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  readonly role: string;
  readonly requestId: string;
  readonly protocol: string;
  readonly rows: number;
  readonly inputs: unknown;
  readonly outputs: unknown;
  readonly latencyUs: number;
  readonly comparison: unknown;
  readonly createdAt: string;
}

const MAX_JSON = 64 * 1024;

function tensorsJson(outputs: Tensors): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const d = t.data;
    const data = Array.isArray(d)
      ? d
      : t.type === 'int64'
        ? Array.from(d as BigInt64Array, (v) => Number(v))
        : t.type === 'float16'
          ? Array.from(d as Uint16Array, fromHalf)
          : t.type === 'bool'
            ? Array.from(d as Uint8Array, (v) => v === 1)
            : Array.from(d as Float32Array);
    out[name] = { datatype: V2_OF_ORT[t.type], shape: t.dims, data };
  }
  return out;
}

function capped(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView)
      ? Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x))
      : typeof v === 'bigint'
        ? Number(v)
        : v,
  );
  return text.length <= MAX_JSON ? text : JSON.stringify({ truncated: true, bytes: text.length });
}

/**
 * The prediction log: entries are queued in memory by the request path (no serialisation, no I/O)
 * and written by a timer in batches, in one transaction per batch. A bounded buffer: when the
 * database falls behind, new entries are dropped and counted rather than slowing predictions.
 */
export class PredictionLog {
  private buffer: PredictionLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly options: {
      readonly flushMs: number;
      readonly maxBuffer: number;
      readonly batchSize: number;
      readonly onDropped: (n: number) => void;
      readonly onWritten: (n: number) => void;
      readonly onError: (error: unknown) => void;
    },
  ) {}

  push(entry: PredictionLogEntry): void {
    if (this.closed) return;
    if (this.buffer.length >= this.options.maxBuffer) {
      this.options.onDropped(1);
      return;
    }
    this.buffer.push(entry);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far (tests and shutdown call it; the timer does otherwise). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.buffer.length === 0) return;
    const pending = this.buffer;
    this.buffer = [];
    this.writing = this.write(pending).finally(() => (this.writing = undefined));
    await this.writing;
  }

  private async write(entries: PredictionLogEntry[]): Promise<void> {
    for (let start = 0; start < entries.length; start += this.options.batchSize) {
      const batch = entries.slice(start, start + this.options.batchSize);
      const rows = batch.map((e) => ({
        id: newId('pl'),
        project_id: e.projectId,
        deployment_id: e.deploymentId,
        deployment: e.deployment,
        model: e.model,
        version: e.version,
        role: e.role,
        request_id: e.requestId,
        protocol: e.protocol,
        rows: e.rows,
        inputs_json: capped(e.inputs),
        outputs_json: capped(tensorsJson(e.outputs)),
        latency_us: Math.round(e.latencyUs),
        comparison_json: e.comparison ? JSON.stringify(e.comparison) : null,
        created_at: e.at,
      }));
      try {
        await this.store.db.insertInto('prediction_log').values(rows).execute();
        this.options.onWritten(rows.length);
      } catch (error) {
        this.options.onDropped(rows.length);
        this.options.onError(error);
      }
    }
  }

  async list(
    projectId: string,
    deploymentId: string,
    options: { limit: number; role?: string | undefined },
  ): Promise<LoggedPrediction[]> {
    let query = this.store.db
      .selectFrom('prediction_log')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('deployment_id', '=', deploymentId);
    if (options.role !== undefined) query = query.where('role', '=', options.role);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(options.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      deployment: r.deployment,
      model: r.model,
      version: Number(r.version),
      role: r.role,
      requestId: r.request_id,
      protocol: r.protocol,
      rows: Number(r.rows),
      inputs: JSON.parse(r.inputs_json) as unknown,
      outputs: JSON.parse(r.outputs_json) as unknown,
      latencyUs: Number(r.latency_us),
      comparison: r.comparison_json === null ? null : (JSON.parse(r.comparison_json) as unknown),
      createdAt: r.created_at,
    }));
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
  }
}
