import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, constants } from 'node:fs';
import {
  access,
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  unlink,
  utimes,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertHash,
  isHash,
  type ArtifactEntry,
  type ArtifactRef,
  type ArtifactStore,
  type ArtifactWriter,
} from '../artifacts.js';

/**
 * Artifacts as files under one root: `<root>/sha256/<ab>/<abcdef...>`. Writes go to `<root>/tmp`
 * first and are fsynced, renamed into place and the folder fsynced, so a crash leaves either the
 * whole file or nothing visible. A blob's modification time is the time of its last commit (or of
 * `has` answering true): sweeps keep blobs younger than their grace period.
 */
export class FsArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The path of a blob; only a validated hex digest reaches this function. */
  pathOf(hash: string): string {
    assertHash(hash);
    const path = join(this.root, 'sha256', hash.slice(0, 2), hash);
    // Defence in depth: whatever happens to the key, the result stays under the root.
    if (!path.startsWith(this.root + sep)) throw new Error('artifact path escapes the store root');
    return path;
  }

  private async tmpPath(): Promise<string> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    return join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  }

  async begin(): Promise<ArtifactWriter> {
    const tmpPath = await this.tmpPath();
    const handle = await open(tmpPath, 'wx', 0o600);
    return new FsWriter(this, handle, tmpPath);
  }

  /**
   * A hard link in `tmp/` to the caller's file (which it may keep reading under its own name),
   * hashed now and renamed into place on commit: a large file is not written a second time. On
   * another filesystem (or one without hard links) the file is copied in instead.
   */
  async adopt(path: string): Promise<ArtifactWriter> {
    const tmpPath = await this.tmpPath();
    try {
      await link(path, tmpPath);
    } catch (error) {
      if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'].includes(String(errorCode(error))))
        throw error;
      return this.copyIn(path);
    }
    let handle: FileHandle | undefined;
    try {
      await chmod(tmpPath, 0o600);
      handle = await open(tmpPath, 'r');
      const hasher = createHash('sha256');
      let size = 0;
      for await (const chunk of createReadStream(tmpPath, { highWaterMark: 1 << 20 })) {
        hasher.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
      }
      // On disk now, while the caller works on (an import profiles the file): commit's own sync
      // then has little left to wait for.
      await handle.datasync();
      return new FsWriter(this, handle, tmpPath, { hasher, size });
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(tmpPath, { force: true });
      throw error;
    }
  }

  private async copyIn(path: string): Promise<ArtifactWriter> {
    const writer = await this.begin();
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
        await writer.write(chunk as Buffer);
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer;
  }

  async put(bytes: Uint8Array): Promise<ArtifactRef> {
    const writer = await this.begin();
    try {
      await writer.write(bytes);
      return await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async get(hash: string): Promise<Buffer> {
    return readFile(this.pathOf(hash));
  }

  createReadStream(hash: string): Readable {
    return createReadStream(this.pathOf(hash));
  }

  async has(hash: string): Promise<boolean> {
    const path = this.pathOf(hash);
    // Touch first, answer after: once true is returned, a concurrent sweep sees a fresh blob and keeps it.
    const now = new Date();
    try {
      await utimes(path, now, now);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    }
    // A store we may read but not write (a read-only copy): there is no sweep to race with.
    try {
      await access(path, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }

  async localPath(hash: string): Promise<string> {
    const path = this.pathOf(hash);
    await access(path, constants.R_OK);
    return path;
  }

  /** Walks `sha256/<ab>/` only: `tmp/` (writers in flight) and anything not named by a hash is never listed. */
  async *list(): AsyncIterable<ArtifactEntry> {
    const base = join(this.root, 'sha256');
    for (const shard of (await readdirIfAny(base)).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const dir = join(base, shard);
      for (const name of await readdirIfAny(dir)) {
        if (!isHash(name) || !name.startsWith(shard)) continue;
        let stats;
        try {
          stats = await lstat(join(dir, name));
        } catch (error) {
          if (errorCode(error) === 'ENOENT') continue; // deleted meanwhile
          throw error;
        }
        if (stats.isFile()) yield { hash: name, bytes: stats.size, modifiedAt: stats.mtime };
      }
    }
  }

  async delete(hash: string, options: { readonly unlessModifiedSince?: Date } = {}): Promise<boolean> {
    const path = this.pathOf(hash);
    const dir = dirname(path);
    const since = options.unlessModifiedSince;
    if (since === undefined) {
      try {
        await unlink(path);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return false;
        throw error;
      }
      await syncDir(dir);
      return true;
    }
    // Move the file off its name first, then judge the file that was moved: a commit (or `has`)
    // that landed between the caller's listing and now left a fresh time on it, and it goes back.
    // Checking the time and then unlinking by name could remove a file committed in between.
    const aside = `${path}.${randomBytes(6).toString('hex')}.deleting`;
    try {
      await rename(path, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
    let fresh = true;
    try {
      fresh = (await lstat(aside)).mtimeMs >= since.getTime();
    } finally {
      // Same name, same content: if a commit put a file there meanwhile, either file is right.
      if (fresh) await rename(aside, path);
    }
    if (fresh) return false;
    await unlink(aside);
    await syncDir(dir);
    return true;
  }
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

async function readdirIfAny(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

class FsWriter implements ArtifactWriter {
  private readonly hasher: Hash;
  private written: number;
  private done = false;
  /** An adopted file: its bytes are all there already. */
  private readonly sealed: boolean;

  constructor(
    private readonly store: FsArtifactStore,
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
    adopted?: { readonly hasher: Hash; readonly size: number },
  ) {
    this.hasher = adopted?.hasher ?? createHash('sha256');
    this.written = adopted?.size ?? 0;
    this.sealed = adopted !== undefined;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('artifact writer already finished');
    if (this.sealed) throw new Error('an adopted file takes no more bytes');
    this.hasher.update(chunk);
    this.written += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, offset);
      offset += bytesWritten;
    }
  }

  async commit(): Promise<ArtifactRef> {
    if (this.done) throw new Error('artifact writer already finished');
    this.done = true;
    const hash = this.hasher.digest('hex');
    try {
      // The blob's time is its commit time, not its last write: a sweep's grace period starts now.
      const now = new Date();
      await this.handle.utimes(now, now);
      await this.handle.sync();
      await this.handle.close();
      const target = this.store.pathOf(hash);
      const dir = resolve(target, '..');
      await mkdir(dir, { recursive: true });
      // Same content, same name: renaming over an existing blob is harmless.
      await rename(this.tmpPath, target);
      await syncDir(dir);
      return { hash, size: this.written };
    } catch (error) {
      await rm(this.tmpPath, { force: true });
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.tmpPath, { force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
