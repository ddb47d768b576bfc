import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { assertHash, type ArtifactRef, type ArtifactStore, type ArtifactWriter } from '../artifacts.js';

/**
 * Artifacts as files under one root: `<root>/sha256/<ab>/<abcdef...>`. Writes go to `<root>/tmp`
 * first and are fsynced, renamed into place and the folder fsynced, so a crash leaves either the
 * whole file or nothing visible.
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

  async begin(): Promise<ArtifactWriter> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    const handle = await open(tmpPath, 'wx', 0o600);
    return new FsWriter(this, handle, tmpPath);
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
    try {
      await access(this.pathOf(hash), constants.R_OK);
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
}

class FsWriter implements ArtifactWriter {
  private readonly hasher = createHash('sha256');
  private written = 0;
  private done = false;

  constructor(
    private readonly store: FsArtifactStore,
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
  ) {}

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('artifact writer already finished');
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
