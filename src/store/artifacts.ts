import type { Readable } from 'node:stream';

/** A stored blob, named by the SHA-256 of its content. */
export interface ArtifactRef {
  readonly hash: string;
  readonly size: number;
}

/** A blob being written: chunks go to a temporary place and become visible only on commit. */
export interface ArtifactWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** Makes the content durable and visible under its hash; idempotent for equal content. */
  commit(): Promise<ArtifactRef>;
  /** Drops everything written; nothing is left behind. */
  abort(): Promise<void>;
}

/**
 * Content-addressed blob storage. Keys are derived on the server from the SHA-256 of the content
 * and nothing else, so no client string ever becomes a path or a URI.
 */
export interface ArtifactStore {
  begin(): Promise<ArtifactWriter>;
  put(bytes: Uint8Array): Promise<ArtifactRef>;
  get(hash: string): Promise<Buffer>;
  createReadStream(hash: string): Readable;
  has(hash: string): Promise<boolean>;
  /**
   * A path on this machine where the blob can be read (for worker threads and native readers).
   * The local store answers its own file; remote stores download to a cache first.
   */
  localPath(hash: string): Promise<string>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Throws unless `hash` is exactly 64 lowercase hex digits: the only strings that ever become storage keys. */
export function assertHash(hash: string): void {
  if (!SHA256_HEX.test(hash)) throw new Error('not a SHA-256 hex digest');
}
