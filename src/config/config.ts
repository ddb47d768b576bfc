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
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type ConfigInput = Partial<Record<keyof Config, string | number | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function int(
  name: string,
  value: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
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
  return {
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
  };
}
