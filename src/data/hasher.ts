import { Worker } from 'node:worker_threads';
import { fileSha256 } from './input.js';

/**
 * SHA-256 of files on a thread of lower priority (hash-worker.ts), one file at a time: an
 * import's identity is hashed with the CPU its conversion leaves idle (DuckDB keeps about 1.75 of
 * 2 cores busy) rather than taken from it. The thread starts on first use and does not keep the
 * process alive when idle; if it cannot start or dies, what it had not answered and every later
 * file are hashed on this thread.
 */
export class BackgroundHasher {
  /** `script`: the thread's module (tests give one that fails). */
  constructor(private readonly script = new URL('./hash-worker.js', import.meta.url)) {}

  private worker: Worker | undefined;
  /** The thread could not start or died: this process hashes on its own thread from now on. */
  private broken = false;
  private next = 0;
  private readonly pending = new Map<
    number,
    { path: string; done: (hash: string) => void; fail: (e: unknown) => void }
  >();

  sha256(path: string): Promise<string> {
    let worker: Worker;
    try {
      if (this.broken) return fileSha256(path);
      worker = this.worker ?? this.start();
    } catch {
      this.broken = true;
      return fileSha256(path);
    }
    const id = this.next++;
    return new Promise<string>((done, fail) => {
      this.pending.set(id, { path, done, fail });
      worker.ref();
      worker.postMessage({ id, path });
    });
  }

  private start(): Worker {
    const worker = new Worker(this.script);
    worker.unref();
    worker.on('message', (m: { id: number; hash?: string; error?: string }) => {
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.hash !== undefined) waiting?.done(m.hash);
      else waiting?.fail(Object.assign(new Error(m.error ?? 'hashing failed'), { path: waiting.path }));
    });
    // The thread failed or stopped: what it had not answered is hashed here instead.
    const end = () => {
      if (this.worker === worker) this.worker = undefined;
      this.broken = true;
      for (const waiting of this.pending.values()) fileSha256(waiting.path).then(waiting.done, waiting.fail);
      this.pending.clear();
    };
    worker.on('error', end);
    worker.on('exit', end);
    this.worker = worker;
    return worker;
  }
}

const hasher = new BackgroundHasher();

/** A file's SHA-256 (hex), computed at low priority on a thread of its own (see BackgroundHasher). */
export function backgroundSha256(path: string): Promise<string> {
  return hasher.sha256(path);
}
