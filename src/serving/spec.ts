import { AppError, invalid } from '../errors/index.js';
import type { BatchingOptions } from './scheduler.js';

/** A share of a deployment's traffic: requests are split by weight (90/10 is a canary). */
export interface TrafficRoute {
  readonly version: number;
  readonly weight: number;
}

/**
 * How a deployment serves, stored with it and applied as one immutable routing object:
 * - `traffic`: the versions answering requests that name no version, by weight;
 * - `shadow`: a version that gets a copy of a `fraction` of requests, answers compared and logged, never returned;
 * - `aliases`: names (`production`, `staging`) for versions, resolved per request (`/versions/staging/infer`);
 * - `previous`: the production version before the last promote, for rollback;
 * - `batching`, `maxQueue`, `logSampleRate`: see scheduler.ts and predlog.ts.
 */
export interface DeploymentSpec {
  readonly traffic: readonly TrafficRoute[];
  readonly shadow: { readonly version: number; readonly fraction: number } | null;
  readonly aliases: Readonly<Record<string, number>>;
  readonly previous: number | null;
  readonly batching: BatchingOptions | null;
  readonly maxQueue: number;
  readonly logSampleRate: number;
}

/** What a caller may set; absent fields keep their current value. */
export interface DeploymentSpecInput {
  readonly traffic?: readonly { readonly version: number; readonly weight: number }[] | undefined;
  readonly shadow?: { readonly version: number; readonly fraction?: number | undefined } | null | undefined;
  readonly aliases?: Readonly<Record<string, number>> | undefined;
  readonly batching?: { readonly maxBatchSize: number; readonly maxWaitUs: number } | null | undefined;
  readonly maxQueue?: number | undefined;
  readonly logSampleRate?: number | undefined;
}

export const ALIAS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_ROUTES = 10;
export const MAX_BATCH_WAIT_US = 1_000_000;

export function defaultSpec(version: number, maxQueue: number): DeploymentSpec {
  return {
    traffic: [{ version, weight: 100 }],
    shadow: null,
    aliases: { production: version },
    previous: null,
    batching: null,
    maxQueue,
    logSampleRate: 0,
  };
}

/** Applies a change to a spec, refusing anything incoherent with a 400 naming the field. */
export function applySpec(current: DeploymentSpec, input: DeploymentSpecInput): DeploymentSpec {
  const traffic = input.traffic ?? current.traffic;
  if (traffic.length === 0 || traffic.length > MAX_ROUTES)
    throw invalid('traffic', `give 1 to ${MAX_ROUTES} versions with weights`);
  const versions = new Set<number>();
  let total = 0;
  traffic.forEach((r, i) => {
    if (!Number.isInteger(r.version) || r.version < 1)
      throw invalid(`traffic/${i}/version`, 'must be a version number');
    if (versions.has(r.version))
      throw invalid(`traffic/${i}/version`, `version ${r.version} is listed twice`);
    if (!(Number.isFinite(r.weight) && r.weight >= 0 && r.weight <= 100))
      throw invalid(`traffic/${i}/weight`, 'must be a number from 0 to 100');
    versions.add(r.version);
    total += r.weight;
  });
  if (total <= 0) throw invalid('traffic', 'the weights must not all be 0');

  let shadow = current.shadow;
  if (input.shadow !== undefined) {
    shadow =
      input.shadow === null ? null : { version: input.shadow.version, fraction: input.shadow.fraction ?? 1 };
  }
  if (shadow) {
    if (!Number.isInteger(shadow.version) || shadow.version < 1)
      throw invalid('shadow/version', 'must be a version number');
    if (versions.has(shadow.version))
      throw invalid(
        'shadow/version',
        `version ${shadow.version} already answers traffic; a shadow is never returned`,
      );
    if (!(shadow.fraction > 0 && shadow.fraction <= 1))
      throw invalid('shadow/fraction', 'must be above 0 and at most 1');
  }

  const aliases = input.aliases ?? current.aliases;
  for (const [name, version] of Object.entries(aliases)) {
    if (!ALIAS_NAME.test(name))
      throw invalid(`aliases/${name}`, 'use a lowercase name of up to 32 letters, digits and dashes');
    if (!Number.isInteger(version) || version < 1)
      throw invalid(`aliases/${name}`, 'must be a version number');
  }
  if (Object.keys(aliases).length > 20) throw invalid('aliases', 'at most 20 aliases');

  let batching = current.batching;
  if (input.batching !== undefined) batching = input.batching;
  if (batching) {
    if (
      !Number.isInteger(batching.maxBatchSize) ||
      batching.maxBatchSize < 1 ||
      batching.maxBatchSize > 100_000
    )
      throw invalid('batching/maxBatchSize', 'must be a whole number from 1 to 100000');
    if (
      !Number.isInteger(batching.maxWaitUs) ||
      batching.maxWaitUs < 0 ||
      batching.maxWaitUs > MAX_BATCH_WAIT_US
    )
      throw invalid(
        'batching/maxWaitUs',
        `must be a whole number of microseconds from 0 to ${MAX_BATCH_WAIT_US}`,
      );
    batching = { maxBatchSize: batching.maxBatchSize, maxWaitUs: batching.maxWaitUs };
  }
  const maxQueue = input.maxQueue ?? current.maxQueue;
  if (!Number.isInteger(maxQueue) || maxQueue < 1 || maxQueue > 1_000_000)
    throw invalid('maxQueue', 'must be a whole number from 1 to 1000000');
  const logSampleRate = input.logSampleRate ?? current.logSampleRate;
  if (!(logSampleRate >= 0 && logSampleRate <= 1)) throw invalid('logSampleRate', 'must be from 0 to 1');

  return {
    traffic: traffic.map((r) => ({ version: r.version, weight: r.weight })),
    shadow,
    aliases: { ...aliases },
    previous: current.previous,
    batching,
    maxQueue,
    logSampleRate,
  };
}

/** The version answering by default: `production` when it takes traffic, else the heaviest route. */
export function primaryVersion(spec: DeploymentSpec): number {
  const production = spec.aliases.production;
  if (production !== undefined && spec.traffic.some((r) => r.version === production && r.weight > 0))
    return production;
  let best = spec.traffic[0]!;
  for (const r of spec.traffic) if (r.weight > best.weight) best = r;
  return best.version;
}

/** Every version a deployment keeps loaded: traffic, shadow and aliases. */
export function servedVersions(spec: DeploymentSpec): number[] {
  const all = new Set<number>(spec.traffic.map((r) => r.version));
  if (spec.shadow) all.add(spec.shadow.version);
  for (const v of Object.values(spec.aliases)) all.add(v);
  return [...all].sort((a, b) => a - b);
}

/** Promote: `production` → the version (or the version of an alias), all traffic to it. */
export function promoteSpec(
  current: DeploymentSpec,
  target: { version?: number | undefined; alias?: string | undefined },
): DeploymentSpec {
  let version = target.version;
  if (version === undefined) {
    const alias = target.alias ?? 'staging';
    version = current.aliases[alias];
    if (version === undefined)
      throw new AppError(
        'STATE_CONFLICT',
        `the deployment has no alias ${JSON.stringify(alias)} to promote; name a version or an alias it has`,
      );
  }
  const before = primaryVersion(current);
  if (before === version && current.traffic.length === 1)
    throw new AppError('STATE_CONFLICT', `version ${version} already takes all traffic`);
  return {
    ...current,
    traffic: [{ version, weight: 100 }],
    shadow: current.shadow?.version === version ? null : current.shadow,
    aliases: { ...current.aliases, production: version },
    previous: before === version ? current.previous : before,
  };
}

/** Rollback: back to the production version before the last promote, all traffic to it. */
export function rollbackSpec(current: DeploymentSpec): DeploymentSpec {
  const previous = current.previous;
  if (previous === null)
    throw new AppError('STATE_CONFLICT', 'nothing to roll back to: the deployment has not been promoted');
  const now = primaryVersion(current);
  return {
    ...current,
    traffic: [{ version: previous, weight: 100 }],
    shadow: current.shadow?.version === previous ? null : current.shadow,
    aliases: { ...current.aliases, production: previous },
    previous: now === previous ? null : now,
  };
}

export function parseSpec(json: string, fallbackVersion: number, maxQueue: number): DeploymentSpec {
  const base = defaultSpec(fallbackVersion, maxQueue);
  try {
    const raw = JSON.parse(json) as Partial<DeploymentSpec>;
    if (!raw || !Array.isArray(raw.traffic)) return base;
    return { ...base, ...raw };
  } catch {
    return base;
  }
}
