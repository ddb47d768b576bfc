import { isAbsolute, resolve } from 'node:path';

/** The one typed configuration of a Mass process, read from flags and the environment and validated at start. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** The data folder: the SQLite file and the local artifact store live below it. */
  readonly home: string;
  /** `sqlite:<path>` (default, below home) or `postgres://...`. */
  readonly databaseUrl: string;
  /** Largest accepted dataset upload, in bytes. */
  readonly maxUploadBytes: number;
  /** Largest accepted JSON body (predictions and the rest), in bytes. */
  readonly maxBodyBytes: number;
  /** Most rows in one prediction request. */
  readonly maxPredictRows: number;
  /** Training jobs run at once in this process. */
  readonly jobConcurrency: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** PEM files: when both are set, Mass serves HTTPS itself. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Origins allowed by CORS; none by default (CORS closed). */
  readonly corsOrigins: readonly string[];
  /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs); none by default. */
  readonly trustedProxies: readonly string[];
  /** Host header values accepted; empty: loopback names when bound to loopback, any otherwise. */
  readonly allowedHosts: readonly string[];
  /** Console sessions last this long. */
  readonly sessionHours: number;
  /** Where signed audit checkpoints are written (outside the database). */
  readonly auditDir: string;
  /** Default predictions (and decisions) per second per key (0: unlimited); a key can carry its own. */
  readonly rateLimitRps: number;
  /** Default queued + running jobs per project (0: unlimited); a project can carry its own. */
  readonly maxConcurrentJobs: number;
  /** Default bytes of datasets and models per project (0: unlimited); a project can carry its own. */
  readonly storageQuotaBytes: number;
  /** The gRPC port of the Open Inference Protocol (same host as HTTP); null: gRPC off. 0: any free port. */
  readonly grpcPort: number | null;
  /** Memory budget of loaded models; least recently used models are unloaded beyond it. */
  readonly modelCacheBytes: number;
  /** Default bound of the queue in front of each deployed model version (load shedding beyond). */
  readonly maxQueue: number;
  /** `/metrics` without a key (for a scraper on a private network); default: site-admin keys only. */
  readonly metricsPublic: boolean;
  /** How often deployments changed by other processes sharing the database are picked up (0: never). */
  readonly deploymentRefreshMs: number;
  /** DuckDB's memory limit for imports and profiles, e.g. `2GB` (default: DuckDB's, 80% of RAM). */
  readonly dataMemoryLimit: string | undefined;
  /** DuckDB's threads (default: one per core). */
  readonly dataThreads: number | undefined;
  /** AES-256-GCM key (base64, 32 bytes) for saved connection passwords; unset: a key file under home, made on first start. */
  readonly secretKey: string | undefined;
  /** Time limit of one import from a database or a URL (connect, query, download), in seconds. */
  readonly sourceTimeoutSeconds: number;
  /** Most rows one import from a database may bring in. */
  readonly sourceMaxRows: number;
  /** Folders whose SQLite files connections may open (read-only); default: `$MASS_HOME/sources`. */
  readonly sqliteSourceDirs: readonly string[];
  /** URL imports may reach private, loopback and link-local addresses (off: refused, SSRF protection). */
  readonly allowPrivateUrls: boolean;
  /** Host names URL imports may reach even when they resolve to private addresses. */
  readonly urlAllowHosts: readonly string[];
  /** Database connections may reach loopback, link-local (cloud metadata) and unspecified addresses (off: refused). */
  readonly allowLocalDatabases: boolean;
  /** Image zips: most images, largest image and largest total once unzipped. */
  readonly maxImages: number;
  readonly maxImageBytes: number;
  readonly maxUnzippedBytes: number;
  /** Image datasets: most pixels (width × height) of one image, checked at upload and before decoding. */
  readonly maxImagePixels: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type ConfigInput = Partial<Record<keyof Config, string | number | readonly string[] | undefined>>;

function optional(value: unknown): string | undefined {
  return value === undefined || value === '' ? undefined : String(value);
}

/** A comma-separated setting, or a list given by code. */
function list(value: unknown): string[] {
  if (value === undefined || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A DuckDB memory size such as `512MB` or `2GB`, or undefined. */
function memorySize(value: unknown): string | undefined {
  const v = optional(value);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(v.trim()))
    throw new ConfigError(
      `MASS_DATA_MEMORY_LIMIT must be a size such as 512MB or 2GB, got ${JSON.stringify(v)}`,
    );
  return v.trim();
}

/** A port, or null for "off" (unset, empty, `off`). */
function optionalPort(value: unknown): number | null {
  if (value === undefined || value === '' || value === 'off' || value === null) return null;
  return int('MASS_GRPC_PORT', value, 0, 0, 65535);
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined || value === '' || value === false) return false;
  if (value === true) return true;
  const s = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Builds the configuration: explicit values (command-line flags) win over the environment,
 * which wins over the defaults.
 */
export function loadConfig(explicit: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (key: keyof Config, envName: string) => explicit[key] ?? env[envName];
  const homeRaw = String(pick('home', 'MASS_HOME') ?? './.mass');
  const home = isAbsolute(homeRaw) ? homeRaw : resolve(homeRaw);
  const databaseUrl = String(pick('databaseUrl', 'DATABASE_URL') ?? `sqlite:${resolve(home, 'mass.db')}`);
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL must start with sqlite: or postgres://, got ${JSON.stringify(databaseUrl.replace(/:[^:@/]*@/, ':***@'))}`,
    );
  }
  const logLevel = String(pick('logLevel', 'MASS_LOG_LEVEL') ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`MASS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const config: Config = {
    host: String(pick('host', 'HOST') ?? '127.0.0.1'),
    port: int('PORT', pick('port', 'PORT'), 8080, 0, 65535),
    home,
    databaseUrl,
    maxUploadBytes: int(
      'MASS_MAX_UPLOAD_BYTES',
      pick('maxUploadBytes', 'MASS_MAX_UPLOAD_BYTES'),
      256 * 1024 * 1024,
      1,
      2 ** 40,
    ),
    maxBodyBytes: int(
      'MASS_MAX_BODY_BYTES',
      pick('maxBodyBytes', 'MASS_MAX_BODY_BYTES'),
      8 * 1024 * 1024,
      1024,
      2 ** 31,
    ),
    maxPredictRows: int(
      'MASS_MAX_PREDICT_ROWS',
      pick('maxPredictRows', 'MASS_MAX_PREDICT_ROWS'),
      10_000,
      1,
      10_000_000,
    ),
    jobConcurrency: int('MASS_JOB_CONCURRENCY', pick('jobConcurrency', 'MASS_JOB_CONCURRENCY'), 1, 1, 64),
    logLevel: logLevel as Config['logLevel'],
    tlsCert: optional(pick('tlsCert', 'MASS_TLS_CERT')),
    tlsKey: optional(pick('tlsKey', 'MASS_TLS_KEY')),
    corsOrigins: list(pick('corsOrigins', 'MASS_CORS_ORIGINS')),
    trustedProxies: list(pick('trustedProxies', 'MASS_TRUSTED_PROXIES')),
    allowedHosts: list(pick('allowedHosts', 'MASS_ALLOWED_HOSTS')),
    sessionHours: int('MASS_SESSION_HOURS', pick('sessionHours', 'MASS_SESSION_HOURS'), 12, 1, 24 * 90),
    auditDir: String(pick('auditDir', 'MASS_AUDIT_DIR') ?? resolve(home, 'audit')),
    rateLimitRps: int('MASS_RATE_LIMIT_RPS', pick('rateLimitRps', 'MASS_RATE_LIMIT_RPS'), 0, 0, 10_000_000),
    maxConcurrentJobs: int(
      'MASS_MAX_CONCURRENT_JOBS',
      pick('maxConcurrentJobs', 'MASS_MAX_CONCURRENT_JOBS'),
      0,
      0,
      100_000,
    ),
    storageQuotaBytes: int(
      'MASS_STORAGE_QUOTA_BYTES',
      pick('storageQuotaBytes', 'MASS_STORAGE_QUOTA_BYTES'),
      0,
      0,
      2 ** 50,
    ),
    grpcPort: optionalPort(pick('grpcPort', 'MASS_GRPC_PORT')),
    modelCacheBytes: int(
      'MASS_MODEL_CACHE_BYTES',
      pick('modelCacheBytes', 'MASS_MODEL_CACHE_BYTES'),
      2 * 1024 ** 3,
      1024 * 1024,
      2 ** 46,
    ),
    maxQueue: int('MASS_MAX_QUEUE', pick('maxQueue', 'MASS_MAX_QUEUE'), 1024, 1, 1_000_000),
    metricsPublic: flag('MASS_METRICS_PUBLIC', pick('metricsPublic', 'MASS_METRICS_PUBLIC')),
    dataMemoryLimit: memorySize(pick('dataMemoryLimit', 'MASS_DATA_MEMORY_LIMIT')),
    dataThreads:
      optional(pick('dataThreads', 'MASS_DATA_THREADS')) === undefined
        ? undefined
        : int('MASS_DATA_THREADS', pick('dataThreads', 'MASS_DATA_THREADS'), 1, 1, 1024),
    deploymentRefreshMs: int(
      'MASS_DEPLOYMENT_REFRESH_MS',
      pick('deploymentRefreshMs', 'MASS_DEPLOYMENT_REFRESH_MS'),
      5_000,
      0,
      3_600_000,
    ),
    secretKey: optional(pick('secretKey', 'MASS_SECRET_KEY')),
    sourceTimeoutSeconds: int(
      'MASS_SOURCE_TIMEOUT_SECONDS',
      pick('sourceTimeoutSeconds', 'MASS_SOURCE_TIMEOUT_SECONDS'),
      60,
      1,
      86_400,
    ),
    sourceMaxRows: int(
      'MASS_SOURCE_MAX_ROWS',
      pick('sourceMaxRows', 'MASS_SOURCE_MAX_ROWS'),
      10_000_000,
      1,
      2 ** 40,
    ),
    sqliteSourceDirs: (() => {
      const dirs = list(pick('sqliteSourceDirs', 'MASS_SQLITE_SOURCE_DIRS'));
      return (dirs.length > 0 ? dirs : [resolve(home, 'sources')]).map((d) => resolve(d));
    })(),
    allowPrivateUrls: flag('MASS_ALLOW_PRIVATE_URLS', pick('allowPrivateUrls', 'MASS_ALLOW_PRIVATE_URLS')),
    urlAllowHosts: list(pick('urlAllowHosts', 'MASS_URL_ALLOW_HOSTS')).map((h) => h.toLowerCase()),
    allowLocalDatabases: flag(
      'MASS_ALLOW_LOCAL_DATABASES',
      pick('allowLocalDatabases', 'MASS_ALLOW_LOCAL_DATABASES'),
    ),
    maxImages: int('MASS_MAX_IMAGES', pick('maxImages', 'MASS_MAX_IMAGES'), 100_000, 1, 100_000_000),
    maxImageBytes: int(
      'MASS_MAX_IMAGE_BYTES',
      pick('maxImageBytes', 'MASS_MAX_IMAGE_BYTES'),
      32 * 1024 * 1024,
      1,
      2 ** 31,
    ),
    maxUnzippedBytes: int(
      'MASS_MAX_UNZIPPED_BYTES',
      pick('maxUnzippedBytes', 'MASS_MAX_UNZIPPED_BYTES'),
      2 * 1024 ** 3,
      1,
      2 ** 44,
    ),
    maxImagePixels: int(
      'MASS_MAX_IMAGE_PIXELS',
      pick('maxImagePixels', 'MASS_MAX_IMAGE_PIXELS'),
      40_000_000,
      1,
      2 ** 31,
    ),
  };
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('MASS_TLS_CERT and MASS_TLS_KEY go together: set both or neither');
  }
  return config;
}
