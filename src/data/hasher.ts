import { Worker } from 'node:worker_threads';
import { fileSha256 } from './input.js';

/**
 * SHA-256 of files on a thread of lower priority (hash-worker.ts), one file at a time: an
 * import's identity is hashed with the CPU its conversion leaves idle (DuckDB keeps about 1.75 of
 * 2 cores busy) rather than taken from it. The thread starts on first use and does not keep the
 * process alive when idle; if it cannot start or dies, hashing falls back to this thread.
 */
class BackgroundHasher {
  private worker: Worker | undefined;
  private next = 0;
  private readonly pending = new Map<number, { done: (hash: string) => void; fail: (e: Error) => void }>();

  sha256(path: string): Promise<string> {
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch {
      return fileSha256(path);
    }
    const id = this.next++;
    return new Promise<string>((done, fail) => {
      this.pending.set(id, { done, fail });
      worker.ref();
      worker.postMessage({ id, path });
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (m: { id: number; hash?: string; error?: string }) => {
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.hash !== undefined) waiting?.done(m.hash);
      else waiting?.fail(new Error(m.error ?? 'hashing failed'));
    });
    const end = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.fail(error);
      this.pending.clear();
    };
    worker.on('error', end);
    worker.on('exit', (code) => end(new Error(`the hashing thread stopped (${code})`)));
    this.worker = worker;
    return worker;
  }
}

const hasher = new BackgroundHasher();

/** A file's SHA-256 (hex), computed at low priority on a thread of its own (see BackgroundHasher). */
export function backgroundSha256(path: string): Promise<string> {
  return hasher.sha256(path);
}
