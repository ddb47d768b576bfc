// The thread behind backgroundSha256 (hasher.ts): hashes files one at a time, at a lower CPU
// priority than the rest of the process, so that it takes the CPU DuckDB leaves idle instead of
// slowing DuckDB down.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

/** The thread's nice value: a tenth of a core's share against busy normal threads, all of an idle one. */
const NICE = 10;

// Linux schedules threads one by one: /proc/thread-self names this thread's id, and a thread may
// always lower its own priority. Elsewhere the hash runs at the process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, NICE);
} catch {
  // not Linux, or no /proc: normal priority
}

parentPort!.on('message', ({ id, path }: { id: number; path: string }) => {
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    const fd = openSync(path, 'r');
    try {
      // Synchronous reads: on this (low-priority) thread, not on the thread pool's.
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    parentPort!.postMessage({ id, hash: hash.digest('hex') });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
