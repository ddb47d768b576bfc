import type { Readable } from 'node:stream';

/** A stored blob, named by the SHA-256 of its content. */
export interface ArtifactRef {
  readonly hash: string;
  readonly size: number;
}

/** A stored blob as listed: its hash, size and when its file was last written. */
export interface ArtifactEntry {
  readonly hash: string;
  readonly bytes: number;
  /** Set by every commit of this content (and by `has` answering true): what a sweep's grace period counts from. */
  readonly modifiedAt: Date;
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
  /**
   * A writer holding a local file the caller made and gives up (it may go on reading it until the
   * commit, never writing it): the file is hashed and, on commit, becomes the blob without being
   * copied where the store can link it (the local store on the same filesystem); else it is copied.
   */
  adopt(path: string): Promise<ArtifactWriter>;
  put(bytes: Uint8Array): Promise<ArtifactRef>;
  get(hash: string): Promise<Buffer>;
  createReadStream(hash: string): Readable;
  /**
   * Whether the blob exists. True also marks it as in use (the local store refreshes its time):
   * callers ask in order to reference content without writing it again, and a sweep running
   * meanwhile must not take it.
   */
  has(hash: string): Promise<boolean>;
  /**
   * A path on this machine where the blob can be read (for worker threads and native readers).
   * The local store answers its own file; remote stores download to a cache first.
   */
  localPath(hash: string): Promise<string>;
  /**
   * Every stored blob, in no particular order. Only committed blobs: never the temporary files of
   * writers still writing.
   */
  list(): AsyncIterable<ArtifactEntry>;
  /**
   * Removes a blob; idempotent (false when there was none). With `unlessModifiedSince`, a blob
   * written (or asked for with `has`) at or after that time is kept and false returned. The time
   * is judged on the file taken, not before taking it, so a commit of the same content racing the
   * delete always wins (the blob may read as absent for that instant). Throws unless `hash` is a
   * SHA-256 hex digest.
   */
  delete(hash: string, options?: { readonly unlessModifiedSince?: Date }): Promise<boolean>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Is `hash` exactly 64 lowercase hex digits? */
export function isHash(hash: string): boolean {
  return SHA256_HEX.test(hash);
}

/** Throws unless `hash` is exactly 64 lowercase hex digits: the only strings that ever become storage keys. */
export function assertHash(hash: string): void {
  if (!isHash(hash)) throw new Error('not a SHA-256 hex digest');
}
