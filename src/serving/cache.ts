import type { ModelVersion } from '../registry/service.js';
import type { LoadedModel } from './model.js';

export type ModelState = 'loading' | 'ready' | 'evicted' | 'failed';

interface Entry {
  readonly version: ModelVersion;
  state: ModelState;
  model: LoadedModel | undefined;
  pending: Promise<LoadedModel> | undefined;
  error: Error | undefined;
  lastUsed: number;
  /** Runs in progress or awaited; an entry in use is never evicted. */
  busy: number;
}

export interface CacheEvents {
  loaded?(model: LoadedModel): void;
  evicted?(version: ModelVersion): void;
}

/**
 * Loaded models, keyed by model version, within a memory budget: least recently used models are
 * unloaded when a load would go over it, and loaded again on their next request. Concurrent
 * requests for a model that is loading share one load.
 */
export class ModelCache {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private usedBytes = 0;
  evictions = 0;

  constructor(
    private readonly load: (version: ModelVersion) => Promise<LoadedModel>,
    readonly budgetBytes: number,
    private readonly events: CacheEvents = {},
  ) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get loadedCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'ready') n++;
    return n;
  }

  state(versionId: string): ModelState | undefined {
    return this.entries.get(versionId)?.state;
  }

  errorOf(versionId: string): Error | undefined {
    return this.entries.get(versionId)?.error;
  }

  /** The loaded model, or undefined when it must be (re)loaded: the hot path, no promise. */
  peek(versionId: string): LoadedModel | undefined {
    const e = this.entries.get(versionId);
    if (e?.state !== 'ready') return undefined;
    e.lastUsed = ++this.clock;
    return e.model;
  }

  /** The loaded model, loading (and warming) it first when needed. */
  acquire(version: ModelVersion): Promise<LoadedModel> {
    let e = this.entries.get(version.id);
    if (e?.state === 'ready') {
      e.lastUsed = ++this.clock;
      return Promise.resolve(e.model!);
    }
    if (e?.pending) return e.pending;
    if (!e) {
      e = {
        version,
        state: 'loading',
        model: undefined,
        pending: undefined,
        error: undefined,
        lastUsed: ++this.clock,
        busy: 0,
      };
      this.entries.set(version.id, e);
    }
    const entry = e;
    entry.state = 'loading';
    entry.error = undefined;
    entry.pending = this.load(version).then(
      (model) => {
        entry.pending = undefined;
        if (this.entries.get(version.id) !== entry) {
          // Dropped while loading (its deployment went away): do not keep it.
          model.runtime.unload();
          return model;
        }
        entry.model = model;
        entry.state = 'ready';
        entry.lastUsed = ++this.clock;
        this.usedBytes += model.bytes;
        this.events.loaded?.(model);
        this.evictOver(version.id);
        return model;
      },
      (error: unknown) => {
        entry.pending = undefined;
        entry.state = 'failed';
        entry.error = error as Error;
        throw error;
      },
    );
    return entry.pending;
  }

  /** Marks a model in use for the duration of `fn` (awaited), so that it is not evicted meanwhile. */
  hold(versionId: string, delta: 1 | -1): void {
    const e = this.entries.get(versionId);
    if (e) e.busy += delta;
  }

  private evictOver(keep: string): void {
    if (this.usedBytes <= this.budgetBytes) return;
    const candidates = [...this.entries.entries()]
      .filter(([id, e]) => id !== keep && e.state === 'ready' && e.busy === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [, e] of candidates) {
      if (this.usedBytes <= this.budgetBytes) break;
      this.unloadEntry(e, 'evicted');
      this.evictions++;
      this.events.evicted?.(e.version);
    }
  }

  private unloadEntry(e: Entry, state: ModelState): void {
    if (e.model) {
      this.usedBytes -= e.model.bytes;
      e.model.runtime.unload();
      e.model = undefined;
    }
    e.state = state;
  }

  /** Unloads every model not in `keep` (versions no deployment serves any more) that is not in use. */
  retain(keep: ReadonlySet<string>): void {
    for (const [id, e] of this.entries) {
      if (keep.has(id) || e.busy > 0 || e.state === 'loading') continue;
      this.unloadEntry(e, 'evicted');
      this.entries.delete(id);
    }
  }

  close(): void {
    for (const e of this.entries.values()) this.unloadEntry(e, 'evicted');
    this.entries.clear();
  }
}
