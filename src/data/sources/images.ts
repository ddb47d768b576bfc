import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Unzip, UnzipInflate, UnzipPassThrough } from 'fflate';
import { imageSize } from 'image-size';
import { PNG } from 'pngjs';
import { AppError, invalid, notFound } from '../../errors/index.js';
import type { Job, JobContext, JobHandler, JobOutcome, JobQueue } from '../../jobs/queue.js';
import type { ArtifactStore } from '../../store/artifacts.js';
import type { DataEngine } from '../engine.js';
import { quoteLiteral } from '../engine.js';
import { DATASET_NAME, type DatasetService, type DatasetVersion } from '../service.js';
import { decodeJpeg, jpegFrame } from './jpeg.js';

export interface ImageLimits {
  /** Largest zip accepted (MASS_MAX_UPLOAD_BYTES). */
  readonly maxZipBytes: number;
  readonly maxImages: number;
  readonly maxImageBytes: number;
  /** All files together once unzipped: what stops a zip bomb, counted as bytes come out. */
  readonly maxUnzippedBytes: number;
  /** Largest width × height of one image (MASS_MAX_IMAGE_PIXELS); decoding needs ~20 bytes per pixel. */
  readonly maxImagePixels?: number;
}

/** The image limits from the server's settings (the MASS_MAX_* variables). */
export function imageLimitsOf(settings: {
  readonly maxUploadBytes: number;
  readonly maxImages: number;
  readonly maxImageBytes: number;
  readonly maxUnzippedBytes: number;
  readonly maxImagePixels: number;
}): ImageLimits {
  return {
    maxZipBytes: settings.maxUploadBytes,
    maxImages: settings.maxImages,
    maxImageBytes: settings.maxImageBytes,
    maxUnzippedBytes: settings.maxUnzippedBytes,
    maxImagePixels: settings.maxImagePixels,
  };
}

/** Default of MASS_MAX_IMAGE_PIXELS: 40 million pixels (about 800 MB to decode and plane). */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

/**
 * Width and height of a PNG from its IHDR chunk (the first chunk, right after the signature),
 * read without inflating anything; undefined when the header is not there.
 */
export function pngHeaderSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // 8-byte signature, then length (4) and type "IHDR" (4), then width and height, big-endian.
  if (bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export const IMAGE_IMPORT_JOB = 'image-import';

/** An image zip waiting in the artifact store to be imported, by its hash (the zip's SHA-256). */
interface ImageImportPayload {
  readonly projectId: string;
  readonly dataset: string;
  readonly input: { readonly hash: string; readonly bytes: number };
}

export interface ImageRow {
  readonly file: string;
  readonly label: string;
  readonly width: number;
  readonly height: number;
  readonly format: 'png' | 'jpeg';
  readonly sha256: string;
}

function bad(detail: string): AppError {
  return new AppError('ARCHIVE_INVALID', detail);
}

/**
 * Inputs in zips that carry no image: folders, macOS resource forks, hidden files (`.DS_Store`,
 * `.git/...`). A `.` or `..` segment is not hidden: labelOf refuses the name.
 */
function ignored(name: string): boolean {
  return (
    name.endsWith('/') ||
    name.startsWith('__MACOSX/') ||
    name.split('/').some((p) => p.startsWith('.') && p !== '.' && p !== '..')
  );
}

/**
 * The label of `label/file.png` (or `any/folders/label/file.png`), refusing names that could
 * mean another place if they were ever used as a path: `..`, absolute, drive letters, backslashes, NUL.
 */
export function labelOf(name: string): string {
  if (name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name))
    throw bad(`unsafe path in the zip: ${JSON.stringify(name.slice(0, 200))}`);
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === ''))
    throw bad(`unsafe path in the zip: ${JSON.stringify(name.slice(0, 200))}`);
  if (parts.length < 2)
    throw bad(`${JSON.stringify(name)} is not in a folder: put each image in a folder named by its label`);
  const label = parts[parts.length - 2]!;
  if (label.length > 128)
    throw bad(`the label folder of ${JSON.stringify(name.slice(0, 200))} is longer than 128 characters`);
  return label;
}

function sniff(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Image datasets: a zip whose folder names are labels becomes one image per row (file, label,
 * width, height, format, sha256), each image stored in the artifact store under its SHA-256.
 */
export class ImageService {
  constructor(
    private readonly datasets: DatasetService,
    private readonly artifacts: ArtifactStore,
    private readonly engine: DataEngine,
    private readonly limits: ImageLimits,
    private readonly workDir: string,
    /** Needed by `submitZip` only (the CLI's sweep builds the service without one). */
    private readonly jobs?: JobQueue,
  ) {}

  /** Streams a zip body to a temporary file, then imports it; the temporary files are removed whatever happens. */
  async importZip(
    projectId: string,
    dataset: string,
    body: AsyncIterable<Buffer | string>,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    await mkdir(this.workDir, { recursive: true, mode: 0o700 });
    const zipPath = join(this.workDir, `images-${randomBytes(8).toString('hex')}.zip`);
    try {
      const zipHash = createHash('sha256');
      const handle = await open(zipPath, 'wx', 0o600);
      let size = 0;
      try {
        for await (const piece of body) {
          const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
          size += chunk.byteLength;
          if (size > this.limits.maxZipBytes) throw this.tooLarge();
          zipHash.update(chunk);
          await handle.write(chunk);
        }
      } finally {
        await handle.close();
      }
      if (size === 0) throw bad('the body is empty: send the zip file');
      return await this.importFrom(projectId, dataset, zipPath, {
        bytes: size,
        sha256: zipHash.digest('hex'),
      });
    } finally {
      await rm(zipPath, { force: true });
    }
  }

  private tooLarge(): AppError {
    return new AppError(
      'PAYLOAD_TOO_LARGE',
      `the zip is larger than the limit of ${this.limits.maxZipBytes} bytes`,
    );
  }

  /**
   * Stores a zip body in the artifact store and queues its import (`image-import`): the job names
   * the zip by its hash, so any worker can read it and the artifact sweep keeps it while the job
   * row exists. The name, the size and the zip signature are checked before anything is queued.
   */
  async submitZip(
    projectId: string,
    dataset: string,
    body: AsyncIterable<Buffer | string>,
    createdBy: string,
  ): Promise<Job> {
    if (!this.jobs) throw new Error('ImageService was built without a job queue');
    if (!DATASET_NAME.test(dataset))
      throw invalid(
        'dataset',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    const writer = await this.artifacts.begin();
    let ref: { hash: string; size: number };
    try {
      let head = Buffer.alloc(0);
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (writer.size + chunk.byteLength > this.limits.maxZipBytes) throw this.tooLarge();
        if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4)]);
        await writer.write(chunk);
      }
      if (writer.size === 0) throw bad('the body is empty: send the zip file');
      if (head.length < 4 || head.readUInt32LE(0) !== 0x04034b50) throw bad('the body is not a zip file');
      ref = await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    const payload: ImageImportPayload = { projectId, dataset, input: { hash: ref.hash, bytes: ref.size } };
    // A second attempt only after a crash (an AppError fails at once); re-running is safe: same images, same version.
    return this.jobs.enqueue({ projectId, type: IMAGE_IMPORT_JOB, payload, createdBy, maxAttempts: 2 });
  }

  /** The `image-import` job handler: progress per image read, cancellable until the version is recorded. */
  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const p = job.payload as ImageImportPayload;
    try {
      const path = await this.artifacts.localPath(p.input.hash);
      ctx.progress(0.01, 'reading the zip');
      const { version, created } = await this.importFrom(
        p.projectId,
        p.dataset,
        path,
        { bytes: p.input.bytes, sha256: p.input.hash },
        {
          signal: ctx.signal,
          onProgress: (fraction, message, images) =>
            ctx.progress(fraction, message, images === undefined ? undefined : { images }),
        },
      );
      return {
        // The version is recorded: a cancel that comes now cannot undo it.
        recorded: true,
        result: {
          dataset: p.dataset,
          version: version.version,
          versionId: version.id,
          created,
          images: version.rowCount,
          bytes: p.input.bytes,
        },
      };
    } catch (error) {
      // As the other import jobs: the catalogue code leads the job's error text.
      if (error instanceof AppError && !error.message.startsWith(error.code))
        throw new AppError(error.code, `${error.code}: ${error.message}`, error.errors, { cause: error });
      throw error;
    }
  };

  /**
   * Imports a zip already on disk (left in place): its images are checked in a staging folder,
   * stored once all passed, and listed in a table that becomes the version. `onProgress` hears
   * of each image read (0 to 0.8, by the share of the zip read), the storing (to 0.9) and the
   * table import (to 1); an abort through `signal` stops it before the version is recorded.
   */
  private async importFrom(
    projectId: string,
    dataset: string,
    zipPath: string,
    zip: { bytes: number; sha256: string },
    options: {
      signal?: AbortSignal;
      onProgress?: (fraction: number, message: string, images?: number) => void;
    } = {},
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    await mkdir(this.workDir, { recursive: true, mode: 0o700 });
    const base = join(this.workDir, `images-${randomBytes(8).toString('hex')}`);
    const tablePath = `${base}.jsonl`;
    // Images wait here until the whole zip is valid: a refused zip leaves nothing in the artifact store.
    const stageDir = `${base}-images`;
    const { signal, onProgress } = options;
    try {
      await mkdir(stageDir, { mode: 0o700 });
      const rows = await this.readZip(zipPath, stageDir, signal, (images, read) =>
        onProgress?.(0.8 * (read / Math.max(1, zip.bytes)), `${images} images read`, images),
      );
      if (rows.length === 0) throw bad('the zip holds no PNG or JPEG image');
      // Every check passed: only now do the images go into the (content-addressed) store.
      const hashes = [...new Set(rows.map((r) => r.sha256))];
      for (const [i, hash] of hashes.entries()) {
        signal?.throwIfAborted();
        if (!(await this.artifacts.has(hash))) {
          const ref = await this.artifacts.put(await readFile(join(stageDir, hash)));
          if (ref.hash !== hash) throw new Error('the artifact store named an image differently');
        }
        onProgress?.(
          0.8 + (0.1 * (i + 1)) / hashes.length,
          `${i + 1} of ${hashes.length} images stored`,
          rows.length,
        );
      }
      rows.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
      const table = await open(tablePath, 'wx', 0o600);
      try {
        await table.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        await table.sync();
      } finally {
        await table.close();
      }
      const labels: Record<string, number> = {};
      for (const r of rows) labels[r.label] = (labels[r.label] ?? 0) + 1;
      signal?.throwIfAborted();
      return await this.datasets.importFile(
        projectId,
        dataset,
        { path: tablePath, format: 'jsonl' },
        {
          source: { kind: 'images', images: rows.length, labels, zip },
          schemaOverrides: { file: 'text', label: 'categorical', format: 'categorical', sha256: 'text' },
          ...(signal ? { signal } : {}),
          ...(onProgress
            ? { onProgress: (fraction, message) => onProgress(0.9 + 0.1 * fraction, message) }
            : {}),
        },
      );
    } finally {
      await rm(tablePath, { force: true });
      await rm(stageDir, { recursive: true, force: true });
    }
  }

  private async readZip(
    path: string,
    stageDir: string,
    signal?: AbortSignal,
    onImage?: (images: number, zipBytesRead: number) => void,
  ): Promise<ImageRow[]> {
    let read = 0;
    const rows: ImageRow[] = [];
    const pending: Promise<void>[] = [];
    let total = 0;
    let failure: unknown;
    const seen = new Set<string>();
    let count = 0;
    const unzip = new Unzip((file) => {
      if (failure) return;
      if (ignored(file.name)) return;
      try {
        if (seen.has(file.name)) throw bad(`${JSON.stringify(file.name)} appears twice in the zip`);
        seen.add(file.name);
        const label = labelOf(file.name);
        if (++count > this.limits.maxImages)
          throw bad(`the zip holds more than ${this.limits.maxImages} images (MASS_MAX_IMAGES)`);
        if (file.compression !== 0 && file.compression !== 8)
          throw bad(
            `${JSON.stringify(file.name)} uses compression method ${file.compression}; use deflate or store`,
          );
        if (file.originalSize !== undefined && file.originalSize > this.limits.maxImageBytes)
          throw bad(
            `${JSON.stringify(file.name)} is larger than ${this.limits.maxImageBytes} bytes (MASS_MAX_IMAGE_BYTES)`,
          );
        const chunks: Uint8Array[] = [];
        let bytes = 0;
        file.ondata = (error, data, final) => {
          if (failure) return;
          try {
            if (error) throw bad(`${JSON.stringify(file.name)} cannot be unzipped: ${error.message}`);
            bytes += data.length;
            total += data.length;
            // Counted as the bytes come out, not as the zip declares them: a zip bomb stops here.
            if (bytes > this.limits.maxImageBytes)
              throw bad(
                `${JSON.stringify(file.name)} is larger than ${this.limits.maxImageBytes} bytes once unzipped (MASS_MAX_IMAGE_BYTES)`,
              );
            if (total > this.limits.maxUnzippedBytes)
              throw bad(
                `the zip holds more than ${this.limits.maxUnzippedBytes} bytes once unzipped (MASS_MAX_UNZIPPED_BYTES)`,
              );
            chunks.push(data);
            if (final)
              pending.push(
                this.stageImage(file.name, label, Buffer.concat(chunks), stageDir).then(
                  (row) => {
                    rows.push(row);
                    onImage?.(rows.length, read);
                  },
                  (e: unknown) => void (failure ??= e),
                ),
              );
          } catch (e) {
            failure ??= e;
            file.terminate();
          }
        };
        file.start();
      } catch (e) {
        failure ??= e;
      }
    });
    unzip.register(UnzipInflate);
    unzip.register(UnzipPassThrough);
    let started = false;
    try {
      // Small pieces bound what one push can inflate (deflate expands at most ~1032:1).
      for await (const chunk of createReadStream(path, { highWaterMark: 16 * 1024 })) {
        const piece = chunk as Buffer;
        signal?.throwIfAborted();
        read += piece.length;
        if (!started) {
          started = true;
          if (piece.readUInt32LE(0) !== 0x04034b50) throw bad('the body is not a zip file');
        }
        unzip.push(piece);
        if (failure) throw failure;
        if (pending.length > 16) await Promise.all(pending.splice(0));
        if (failure) throw failure;
      }
      unzip.push(new Uint8Array(0), true);
    } catch (e) {
      failure ??= e;
    }
    await Promise.all(pending);
    // A cancelled job stays a cancellation, not a broken zip.
    if (signal?.aborted) throw signal.reason;
    if (failure)
      throw failure instanceof AppError
        ? failure
        : bad(`the zip cannot be read: ${(failure as Error).message}`);
    return rows;
  }

  /** The most pixels one image may have (MASS_MAX_IMAGE_PIXELS). */
  get maxImagePixels(): number {
    return this.limits.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  }

  /** Checks one image and writes it to the staging folder under its SHA-256. */
  private async stageImage(name: string, label: string, bytes: Buffer, stageDir: string): Promise<ImageRow> {
    const format = sniff(bytes);
    if (!format) throw bad(`${JSON.stringify(name)} is not a PNG or JPEG image`);
    // A JPEG's size is its frame header's, found by the walk decodeJpeg checks again before decoding.
    const header = format === 'png' ? pngHeaderSize(bytes) : jpegFrame(bytes);
    let width: number | undefined;
    let height: number | undefined;
    if (format === 'jpeg') ({ width, height } = header ?? {});
    else
      try {
        ({ width, height } = imageSize(bytes));
      } catch {
        // reported below
      }
    if (!width || !height) throw bad(`${JSON.stringify(name)} is a broken ${format.toUpperCase()} image`);
    const pixels = Math.max(width * height, header ? header.width * header.height : 0);
    if (pixels > this.maxImagePixels)
      throw bad(
        `${JSON.stringify(name)} is ${width}×${height} pixels, more than ${this.maxImagePixels} (MASS_MAX_IMAGE_PIXELS)`,
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Equal content has one name: writing it twice (same image under two names) is harmless.
    await writeFile(join(stageDir, sha256), bytes, { mode: 0o600 });
    return { file: name, label, width, height, format, sha256 };
  }

  /** One image of an image dataset version, found by its SHA-256 among that version's rows only. */
  async image(
    projectId: string,
    dataset: string,
    version: number,
    sha256: string,
  ): Promise<{ bytes: Buffer; type: string }> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw invalid('sha256', 'must be 64 lowercase hex digits');
    const v = await this.datasets.getVersion(projectId, dataset, version);
    const rows = await this.query(v, `WHERE sha256 = ${quoteLiteral(sha256)} LIMIT 1`);
    const row = rows[0];
    if (!row) throw notFound('image', sha256);
    return {
      bytes: await this.artifacts.get(sha256),
      type: row.format === 'png' ? 'image/png' : 'image/jpeg',
    };
  }

  /** The rows of an image version, in stored order. */
  async list(version: DatasetVersion): Promise<ImageRow[]> {
    return this.query(version, '');
  }

  private async query(version: DatasetVersion, where: string): Promise<ImageRow[]> {
    const names = version.schema.columns.map((c) => c.name);
    if (version.sourceInfo?.kind !== 'images' || !['file', 'label', 'sha256'].every((n) => names.includes(n)))
      throw invalid('dataset', `${version.dataset}@${version.version} is not an image dataset`);
    const path = await this.datasets.parquetPath(version);
    return this.engine.withConnection(async (c) => {
      const reader = await c.runAndReadAll(
        `SELECT file, CAST(label AS VARCHAR) AS label, CAST(width AS INTEGER) AS width, CAST(height AS INTEGER) AS height, ` +
          `CAST(format AS VARCHAR) AS format, sha256 FROM read_parquet(${quoteLiteral(path)}) ${where}`,
      );
      return reader.getRowObjectsJS() as unknown as ImageRow[];
    });
  }

  /**
   * The images of a version as one float32 batch [N, C, H, W] (C = 1: grayscale), resized to H×W
   * (nearest or bilinear) and scaled to 0..1, with the labels in the same order.
   */
  async tensor(
    version: DatasetVersion,
    shape: { height: number; width: number; channels?: 1 | 3; resize?: 'nearest' | 'bilinear' },
  ): Promise<{
    data: Float32Array;
    dims: [number, number, number, number];
    labels: string[];
    rows: ImageRow[];
  }> {
    const rows = await this.list(version);
    const images = await Promise.all(rows.map((r) => this.artifacts.get(r.sha256)));
    return { ...imageTensor(images, shape, this.maxImagePixels), labels: rows.map((r) => r.label), rows };
  }
}

/** A decoded image: RGBA bytes, row-major. */
interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function decode(bytes: Uint8Array, maxPixels: number): Rgba {
  const format = sniff(bytes);
  if (format === 'png') {
    // Refused before anything is inflated; pngjs then inflates at most the size IHDR declares.
    const header = pngHeaderSize(bytes);
    if (!header) throw new AppError('ARCHIVE_INVALID', 'a broken PNG image (no IHDR header)');
    if (header.width * header.height > maxPixels)
      throw new AppError(
        'ARCHIVE_INVALID',
        `a PNG image of ${header.width}×${header.height} pixels is more than ${maxPixels} (MASS_MAX_IMAGE_PIXELS)`,
      );
    const png = PNG.sync.read(Buffer.from(bytes));
    return { width: png.width, height: png.height, data: png.data };
  }
  // Refused the same way before decoding: the frame header's size against maxPixels.
  if (format === 'jpeg') return decodeJpeg(bytes, maxPixels);
  throw new AppError('ARCHIVE_INVALID', 'not a PNG or JPEG image');
}

/**
 * Images → float32 [N, C, H, W]: C = 1 gives the luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B),
 * C = 3 gives R, G, B planes; transparent pixels are composed over black; values scaled to 0..1.
 * Resizing maps output pixel centres onto the source ((x + 0.5) · sw / W − 0.5), as OpenCV and
 * PyTorch's `align_corners=False` do; `nearest` takes the closest pixel, `bilinear` interpolates.
 */
export function imageTensor(
  images: readonly Uint8Array[],
  shape: { height: number; width: number; channels?: 1 | 3; resize?: 'nearest' | 'bilinear' },
  maxPixels: number = DEFAULT_MAX_IMAGE_PIXELS,
): { data: Float32Array; dims: [number, number, number, number] } {
  const { height: H, width: W } = shape;
  const C = shape.channels ?? 1;
  if (!(Number.isInteger(H) && H > 0 && Number.isInteger(W) && W > 0))
    throw new RangeError('height and width must be positive');
  const out = new Float32Array(images.length * C * H * W);
  const bilinear = (shape.resize ?? 'bilinear') === 'bilinear';
  images.forEach((bytes, n) => {
    const img = decode(bytes, maxPixels);
    // Channel values of the source as floats 0..1 (alpha composed over black).
    const planes: Float32Array[] = [];
    const px = img.width * img.height;
    if (C === 1) {
      const g = new Float32Array(px);
      for (let i = 0; i < px; i++) {
        const o = 4 * i;
        const a = img.data[o + 3]! / 255;
        g[i] = ((0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!) / 255) * a;
      }
      planes.push(g);
    } else {
      for (let c = 0; c < 3; c++) {
        const p = new Float32Array(px);
        for (let i = 0; i < px; i++) p[i] = (img.data[4 * i + c]! / 255) * (img.data[4 * i + 3]! / 255);
        planes.push(p);
      }
    }
    const sx = img.width / W;
    const sy = img.height / H;
    planes.forEach((plane, c) => {
      const base = (n * C + c) * H * W;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let v: number;
          if (img.width === W && img.height === H) v = plane[y * W + x]!;
          else if (!bilinear) {
            const ix = Math.min(img.width - 1, Math.floor((x + 0.5) * sx));
            const iy = Math.min(img.height - 1, Math.floor((y + 0.5) * sy));
            v = plane[iy * img.width + ix]!;
          } else {
            const fx = Math.max(0, (x + 0.5) * sx - 0.5);
            const fy = Math.max(0, (y + 0.5) * sy - 0.5);
            const x0 = Math.min(img.width - 1, Math.floor(fx));
            const y0 = Math.min(img.height - 1, Math.floor(fy));
            const x1 = Math.min(img.width - 1, x0 + 1);
            const y1 = Math.min(img.height - 1, y0 + 1);
            const dx = fx - x0;
            const dy = fy - y0;
            const top = plane[y0 * img.width + x0]! * (1 - dx) + plane[y0 * img.width + x1]! * dx;
            const bottom = plane[y1 * img.width + x0]! * (1 - dx) + plane[y1 * img.width + x1]! * dx;
            v = top * (1 - dy) + bottom * dy;
          }
          out[base + y * W + x] = v;
        }
      }
    });
  });
  return { data: out, dims: [images.length, C, H, W] };
}
