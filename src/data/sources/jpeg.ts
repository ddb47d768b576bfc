import { decode as decodeJpegData } from 'jpeg-js';
import { AppError } from '../../errors/index.js';

/** The frame header of a JPEG (its SOFn segment), read without decoding anything. */
export interface JpegFrame {
  readonly width: number;
  readonly height: number;
  /** n of SOFn: 0 baseline, 1 extended, 2 progressive (what jpeg-js decodes); 3 lossless, 5–15 hierarchical or arithmetic. */
  readonly sof: number;
  readonly components: number;
  /** How many SOF segments the file holds (JPEG allows one outside hierarchical mode; jpeg-js decodes one). */
  readonly frames: number;
}

function bad(detail: string): AppError {
  return new AppError('ARCHIVE_INVALID', detail);
}

const u16 = (bytes: Uint8Array, i: number): number => (bytes[i]! << 8) | bytes[i + 1]!;

/** SOF0–SOF15 are C0–CF, except C4 (DHT), C8 (JPG, reserved) and CC (DAC). */
const isSof = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * The frame header of a JPEG, found by walking its marker segments (ITU-T T.81, B.1): each one is
 * FF, a marker byte and a big-endian length that counts itself; the entropy-coded data after an
 * SOS runs to the next FF that is neither a stuffed FF00 nor a restart marker (FFD0–FFD7). Every
 * read is bounds-checked. Undefined when the walk breaks (a length past the end, no marker where
 * one must be) before any SOF; after one, a break ends the walk and the decoder judges the rest.
 * Of several frames (refused later), the one declaring the most pixels is reported.
 */
export function jpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let frame: Omit<JpegFrame, 'frames'> | undefined;
  let frames = 0;
  let i = 2;
  while (i < n && bytes[i] === 0xff) {
    while (i < n && bytes[i] === 0xff) i++; // fill bytes may precede a marker
    if (i >= n) break;
    const marker = bytes[i++]!;
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no length
    if (marker === 0x00 || marker === 0xd8 || i + 2 > n) break;
    const length = u16(bytes, i);
    if (length < 2 || i + length > n) break;
    if (isSof(marker)) {
      // length (2), precision (1), height (2), width (2), component count (1), then 3 bytes per component
      if (length < 8) break;
      frames++;
      const f = {
        height: u16(bytes, i + 3),
        width: u16(bytes, i + 5),
        sof: marker - 0xc0,
        components: bytes[i + 7]!,
      };
      if (!frame || f.width * f.height > frame.width * frame.height) frame = f;
    }
    i += length;
    if (marker === 0xda) {
      while (i < n) {
        if (bytes[i] !== 0xff) i++;
        else if (bytes[i + 1] === 0x00 || (bytes[i + 1]! >= 0xd0 && bytes[i + 1]! <= 0xd7)) i += 2;
        else break;
      }
    }
  }
  return frame && { ...frame, frames };
}

const CODINGS: Record<number, string> = {
  3: 'lossless',
  5: 'differential sequential',
  6: 'differential progressive',
  7: 'differential lossless',
  9: 'arithmetic-coded sequential',
  10: 'arithmetic-coded progressive',
  11: 'arithmetic-coded lossless',
  13: 'differential arithmetic-coded sequential',
  14: 'differential arithmetic-coded progressive',
  15: 'differential arithmetic-coded lossless',
};

/**
 * Bytes jpeg-js may allocate while decoding an image of `maxPixels`: per pixel and component 4
 * bytes of DCT coefficients and 1 of samples, 3 components, then 4 of RGBA output (19, rounded up
 * to 24); at least 16 MiB for the tables and block padding of small images.
 */
export function jpegMemoryLimitMB(maxPixels: number): number {
  return Math.max(16, Math.ceil((maxPixels * 24) / 2 ** 20));
}

/**
 * A JPEG decoded to RGBA by jpeg-js. Refused before decoding: no frame header, more than
 * `maxPixels` pixels declared (MASS_MAX_IMAGE_PIXELS), a zero size (DNL), a coding jpeg-js does
 * not decode, several frames; jpeg-js's own limits stand behind that. A file jpeg-js fails on
 * (truncated, corrupt, unsupported colour mode) is an ARCHIVE_INVALID naming why, never a crash.
 */
export function decodeJpeg(
  bytes: Uint8Array,
  maxPixels: number,
): { width: number; height: number; data: Uint8Array } {
  const frame = jpegFrame(bytes);
  if (!frame) throw bad('a broken JPEG image (no frame header before its image data)');
  if (frame.width * frame.height > maxPixels)
    throw bad(
      `a JPEG image of ${frame.width}×${frame.height} pixels is more than ${maxPixels} (MASS_MAX_IMAGE_PIXELS)`,
    );
  if (frame.width === 0 || frame.height === 0)
    throw bad(`a JPEG image declaring ${frame.width}×${frame.height} pixels cannot be decoded`);
  if (frame.sof > 2)
    throw bad(
      `a ${CODINGS[frame.sof] ?? 'SOF' + frame.sof} JPEG image cannot be decoded: only baseline, extended and progressive JPEGs can`,
    );
  if (frame.frames > 1)
    throw bad(`a JPEG image with ${frame.frames} frames cannot be decoded: only single-frame JPEGs can`);
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = decodeJpegData(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: jpegMemoryLimitMB(maxPixels),
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw bad(`a JPEG image that cannot be decoded: ${why.slice(0, 200)}`);
  }
  if (
    image.width !== frame.width ||
    image.height !== frame.height ||
    image.data.length !== 4 * image.width * image.height
  )
    throw bad(`a JPEG image that cannot be decoded: its frame header says ${frame.width}×${frame.height}`);
  return image;
}
