import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A latency histogram with about 2% wide logarithmic buckets from 1 µs to 100 s: an observation
 * is one `Math.log` and an increment, and percentiles come out within 2%. Used for the time a
 * request spends inside the server (request in → response written), where Prometheus' default
 * buckets are far too coarse to tell 40 µs from 90 µs.
 */
export class FineHistogram {
  private static readonly GROWTH = 1.02;
  private static readonly LOG = Math.log(FineHistogram.GROWTH);
  private static readonly SIZE = Math.ceil(Math.log(1e8) / FineHistogram.LOG) + 2;
  private readonly counts = new Float64Array(FineHistogram.SIZE);
  count = 0;
  sum = 0;

  /** Records a duration in microseconds. */
  observe(us: number): void {
    const i = us <= 1 ? 0 : Math.min(FineHistogram.SIZE - 1, Math.ceil(Math.log(us) / FineHistogram.LOG));
    this.counts[i]!++;
    this.count++;
    this.sum += us;
  }

  /** The upper bound (µs) of the bucket holding quantile q. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return FineHistogram.GROWTH ** i;
    }
    return FineHistogram.GROWTH ** (this.counts.length - 1);
  }

  /** Observations at or below `us`. */
  countAtMost(us: number): number {
    const limit = us <= 1 ? 0 : Math.floor(Math.log(us) / FineHistogram.LOG + 1e-9);
    let n = 0;
    for (let i = 0; i <= Math.min(limit, this.counts.length - 1); i++) n += this.counts[i]!;
    return n;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
  }
}

const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const SERVER_BUCKETS_US = [
  25, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000, 10_000, 50_000, 250_000, 1e6,
];

/** The children of one deployment version's metrics, made once so that the hot path only increments. */
export interface TargetMetrics {
  readonly latency: { observe(seconds: number): void };
  requests(protocol: string): { inc(n?: number): void };
  error(code: string): void;
  readonly batchSize: { observe(rows: number): void };
}

function escape(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Every Prometheus metric of the serving path, in one registry (no module-level singletons). */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'project' | 'deployment' | 'version' | 'protocol'>;
  private readonly errors: Counter<'project' | 'deployment' | 'version' | 'code'>;
  private readonly latency: Histogram<'project' | 'deployment' | 'version'>;
  private readonly batchSizes: Histogram<'project' | 'deployment' | 'version'>;
  readonly queueDepth: Gauge<'project' | 'deployment' | 'version'>;
  readonly loadSeconds: Histogram<'model' | 'version'>;
  readonly cacheBytes: Gauge;
  readonly cacheBudget: Gauge;
  readonly cacheModels: Gauge;
  readonly cacheEvictions: Counter;
  readonly shadow: Counter<'project' | 'deployment' | 'version' | 'agree'>;
  readonly logDropped: Counter;
  readonly logWritten: Counter;
  /** Request in → response written, per front door, at 2% resolution. */
  readonly server = new Map<string, FineHistogram>();
  private readonly collectors: (() => void)[] = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'mass_' });
    this.requests = new Counter({
      name: 'mass_predictions_total',
      help: 'Prediction requests answered, by deployment, model version and front door',
      labelNames: ['project', 'deployment', 'version', 'protocol'],
      registers,
    });
    this.errors = new Counter({
      name: 'mass_prediction_errors_total',
      help: 'Prediction requests that failed, by error code',
      labelNames: ['project', 'deployment', 'version', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'mass_prediction_duration_seconds',
      help: 'Time from a decoded request to the model outputs (queue, batching and inference)',
      labelNames: ['project', 'deployment', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSizes = new Histogram({
      name: 'mass_batch_rows',
      help: 'Rows per ONNX Runtime call (a merged batch, or a single request)',
      labelNames: ['project', 'deployment', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384],
      registers,
    });
    const collectors = this.collectors;
    this.queueDepth = new Gauge({
      name: 'mass_queue_depth',
      help: 'Requests waiting in front of a model version',
      labelNames: ['project', 'deployment', 'version'],
      registers,
      collect() {
        for (const c of collectors) c();
      },
    });
    this.loadSeconds = new Histogram({
      name: 'mass_model_load_seconds',
      help: 'Time to load and warm up a model version (cold start)',
      labelNames: ['model', 'version'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.cacheBytes = new Gauge({
      name: 'mass_model_cache_bytes',
      help: 'Estimated memory of the loaded models',
      registers,
    });
    this.cacheBudget = new Gauge({
      name: 'mass_model_cache_budget_bytes',
      help: 'The memory budget of the model cache',
      registers,
    });
    this.cacheModels = new Gauge({ name: 'mass_model_cache_models', help: 'Loaded models', registers });
    this.cacheEvictions = new Counter({
      name: 'mass_model_cache_evictions_total',
      help: 'Models unloaded to stay within the budget',
      registers,
    });
    this.shadow = new Counter({
      name: 'mass_shadow_comparisons_total',
      help: "Shadow answers compared with the answer returned; agree='true' when they match",
      labelNames: ['project', 'deployment', 'version', 'agree'],
      registers,
    });
    this.logDropped = new Counter({
      name: 'mass_prediction_log_dropped_total',
      help: 'Prediction log entries dropped because the writer fell behind',
      registers,
    });
    this.logWritten = new Counter({
      name: 'mass_prediction_log_written_total',
      help: 'Prediction log entries written',
      registers,
    });
  }

  /** Called when /metrics is scraped, before the registry is read. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  target(project: string, deployment: string, version: number): TargetMetrics {
    const labels = { project, deployment, version: String(version) };
    const byProtocol = new Map<string, { inc(n?: number): void }>();
    return {
      latency: this.latency.labels(labels),
      batchSize: this.batchSizes.labels(labels),
      requests: (protocol) => {
        let c = byProtocol.get(protocol);
        if (!c) {
          c = this.requests.labels({ ...labels, protocol });
          byProtocol.set(protocol, c);
        }
        return c;
      },
      error: (code) => this.errors.labels({ ...labels, code }).inc(),
    };
  }

  /** The in-server histogram of one front door for one deployment ('' before a deployment is known). */
  serverHistogram(route: string, project = '', deployment = ''): FineHistogram {
    const key = `${route}\u0000${project}\u0000${deployment}`;
    let h = this.server.get(key);
    if (!h) {
      h = new FineHistogram();
      this.server.set(key, h);
    }
    return h;
  }

  /** The Prometheus text of everything, with the in-server histograms appended. */
  async text(): Promise<string> {
    let out = await this.registry.metrics();
    const name = 'mass_http_server_duration_seconds';
    out += `# HELP ${name} Time inside the server, request in to response written, per front door\n# TYPE ${name} histogram\n`;
    const labels = (key: string) => {
      const [route, project, deployment] = key.split('\u0000');
      return `route="${route}",project="${escape(project!)}",deployment="${escape(deployment!)}"`;
    };
    for (const [key, h] of this.server) {
      const l = labels(key);
      for (const le of SERVER_BUCKETS_US)
        out += `${name}_bucket{${l},le="${le / 1e6}"} ${h.countAtMost(le)}\n`;
      out += `${name}_bucket{${l},le="+Inf"} ${h.count}\n`;
      out += `${name}_sum{${l}} ${h.sum / 1e6}\n${name}_count{${l}} ${h.count}\n`;
    }
    const q = 'mass_http_server_duration_quantile_seconds';
    out += `# HELP ${q} Quantiles of the in-server time (2% resolution), per front door and deployment\n# TYPE ${q} gauge\n`;
    for (const [key, h] of this.server)
      for (const quantile of [0.5, 0.9, 0.99, 0.999])
        out += `${q}{${labels(key)},quantile="${quantile}"} ${h.quantile(quantile) / 1e6}\n`;
    return out;
  }
}
