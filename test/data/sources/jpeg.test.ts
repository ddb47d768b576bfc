// JPEG images into tensors (jpeg-js): JPEGs made here with jpeg-js's encoder at quality 100 come
// out of imageTensor close to their pixels (luma and RGB planes; JPEG is lossy, hence the
// tolerance) and resize like PNGs. The frame header is read by walking the marker segments, so a
// file declaring a huge size is refused before jpeg-js sees it; broken, truncated and fuzzed
// files are ARCHIVE_INVALID errors, never crashes. Needs no shared data.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'jpeg-js';
import { PNG } from 'pngjs';
import { imageTensor } from '../../../src/data/sources/images.js';
import { decodeJpeg, jpegFrame, jpegMemoryLimitMB } from '../../../src/data/sources/jpeg.js';
import { AppError } from '../../../src/errors/index.js';

/** An 8×8 JPEG whose pixel (x, y) is rgb(x, y). */
function jpeg(rgb: (x: number, y: number) => [number, number, number], size = 8): Buffer {
  const data = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) data.set([...rgb(x, y), 255], 4 * (y * size + x));
  return encode({ width: size, height: size, data }, 100).data;
}

/** Grey levels rising from the top-left corner (0) to the bottom-right one (238). */
const grey = (x: number, y: number): number => 17 * (x + y);
const gradient = (): Buffer => jpeg((x, y) => [grey(x, y), grey(x, y), grey(x, y)]);

/** Where the SOF0 segment's marker starts (FF C0), found the simple way: encoder output has no FF C0 before it. */
function sofAt(bytes: Buffer): number {
  const at = bytes.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(at > 0, 'the encoder wrote an SOF0');
  return at;
}

/** The image with the SOF's height and width replaced. */
function declaring(bytes: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(bytes);
  const at = sofAt(out);
  out.writeUInt16BE(height, at + 5);
  out.writeUInt16BE(width, at + 7);
  return out;
}

function refused(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, `an AppError, not ${String(e)}`);
    assert.equal(e.code, 'ARCHIVE_INVALID');
    assert.equal(e.status, 400);
    assert.match(e.message, detail);
    return true;
  });
}

describe('JPEG images', () => {
  test('the frame header: size, coding and components, read past a comment that holds a fake SOF', () => {
    const bytes = gradient();
    assert.deepEqual(jpegFrame(bytes), { width: 8, height: 8, sof: 0, components: 3, frames: 1 });
    // A COM segment right after SOI whose payload looks like a 30000×30000 SOF0: skipped by its length.
    const fake = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x75, 0x30, 0x75, 0x30, 0x03, 0xff, 0xff]);
    const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, fake.length + 2]), fake]);
    const commented = Buffer.concat([bytes.subarray(0, 2), com, bytes.subarray(2)]);
    assert.deepEqual(jpegFrame(commented), { width: 8, height: 8, sof: 0, components: 3, frames: 1 });
    assert.equal(imageTensor([commented], { height: 8, width: 8 }).dims[0], 1);
    assert.equal(jpegFrame(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), undefined, 'no SOF');
    assert.equal(jpegFrame(Buffer.from('not a jpeg')), undefined);
  });

  test('an 8×8 grey gradient at quality 100: luma within 2/255 of its pixels', () => {
    const { data, dims } = imageTensor([gradient()], { height: 8, width: 8 });
    assert.deepEqual(dims, [1, 1, 8, 8]);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const got = data[y * 8 + x]!;
        assert.ok(
          Math.abs(got - grey(x, y) / 255) <= 2 / 255,
          `(${x}, ${y}): ${got * 255} for ${grey(x, y)}`,
        );
      }
  });

  test('a colour JPEG gives R, G, B planes close to its pixels, and luma as BT.601 weighs them', () => {
    const rgb = (x: number, y: number): [number, number, number] => [32 * x, 32 * y, 200];
    const bytes = jpeg(rgb);
    const { data, dims } = imageTensor([bytes], { height: 8, width: 8, channels: 3 });
    assert.deepEqual(dims, [1, 3, 8, 8]);
    const luma = imageTensor([bytes], { height: 8, width: 8 }).data;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const i = y * 8 + x;
        const want = rgb(x, y);
        for (let c = 0; c < 3; c++) {
          const got = data[c * 64 + i]!;
          // Colour goes through YCbCr and back, rounded twice: a few levels off at most.
          assert.ok(Math.abs(got - want[c]! / 255) <= 6 / 255, `(${x}, ${y}) channel ${c}: ${got * 255}`);
        }
        const y601 = 0.299 * data[i]! + 0.587 * data[64 + i]! + 0.114 * data[128 + i]!;
        assert.ok(Math.abs(luma[i]! - y601) < 1e-5, `luma at (${x}, ${y})`);
      }
  });

  test('resizing a JPEG: nearest picks decoded pixels, bilinear averages them (8×8 → 4×4)', () => {
    const bytes = gradient();
    const full = imageTensor([bytes], { height: 8, width: 8 }).data;
    const at = (x: number, y: number): number => full[y * 8 + x]!;
    const nearest = imageTensor([bytes], { height: 4, width: 4, resize: 'nearest' }).data;
    const bilinear = imageTensor([bytes], { height: 4, width: 4, resize: 'bilinear' }).data;
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        // Output centre (x + 0.5)·2 lands on source pixel 2x + 1 (nearest) or halfway between 2x and 2x + 1.
        assert.equal(nearest[y * 4 + x], at(2 * x + 1, 2 * y + 1));
        const mean =
          (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)) / 4;
        assert.ok(Math.abs(bilinear[y * 4 + x]! - mean) < 1e-6, `(${x}, ${y})`);
      }
    // Upsizing works too, and a PNG of the same pixels in the same batch gives about the same values.
    const png = new PNG({ width: 8, height: 8 });
    for (let i = 0; i < 64; i++)
      png.data.set([grey(i % 8, i >> 3), grey(i % 8, i >> 3), grey(i % 8, i >> 3), 255], 4 * i);
    const mixed = imageTensor([bytes, PNG.sync.write(png)], { height: 28, width: 28 });
    assert.deepEqual(mixed.dims, [2, 1, 28, 28]);
    for (let i = 0; i < 28 * 28; i++)
      assert.ok(Math.abs(mixed.data[i]! - mixed.data[784 + i]!) <= 2 / 255, `pixel ${i}`);
  });

  test('bad call: a JPEG declaring 30000×30000 is refused from its frame header, before jpeg-js decodes it', () => {
    const huge = declaring(gradient(), 30000, 30000);
    assert.deepEqual(jpegFrame(huge), { width: 30000, height: 30000, sof: 0, components: 3, frames: 1 });
    // jpeg-js would say "maxResolutionInMP limit exceeded": this message is ours, so it came first.
    refused(
      () => imageTensor([huge], { height: 8, width: 8 }),
      /JPEG image of 30000×30000 pixels is more than 40000000 \(MASS_MAX_IMAGE_PIXELS\)/,
    );
    // The limit is the one passed in, as for PNG.
    refused(() => imageTensor([gradient()], { height: 8, width: 8 }, 63), /8×8 pixels is more than 63/);
    assert.equal(imageTensor([gradient()], { height: 8, width: 8 }, 64).dims[0], 1);
    assert.equal(jpegMemoryLimitMB(40_000_000), 916);
    assert.equal(jpegMemoryLimitMB(64), 16);
  });

  test('bad call: zero sizes, unsupported codings and several frames are refused by name', () => {
    refused(() => decodeJpeg(declaring(gradient(), 8, 0), 1000), /8×0 pixels cannot be decoded/);
    const lossless = gradient();
    lossless[sofAt(lossless) + 1] = 0xc3;
    assert.equal(jpegFrame(lossless)?.sof, 3);
    refused(() => decodeJpeg(lossless, 1000), /lossless JPEG image cannot be decoded/);
    const arithmetic = gradient();
    arithmetic[sofAt(arithmetic) + 1] = 0xc9;
    refused(() => decodeJpeg(arithmetic, 1000), /arithmetic-coded sequential/);
    const bytes = gradient();
    const at = sofAt(bytes);
    const sof = bytes.subarray(at, at + 2 + bytes.readUInt16BE(at + 2));
    const twice = Buffer.concat([bytes.subarray(0, at), sof, sof, bytes.subarray(at + sof.length)]);
    refused(() => decodeJpeg(twice, 1000), /2 frames/);
  });

  test('bad call: truncated and garbage JPEGs are refused cleanly', () => {
    const bytes = gradient();
    refused(
      () => imageTensor([bytes.subarray(0, 30)], { height: 8, width: 8 }),
      /broken JPEG image \(no frame header/,
    );
    for (const cut of [bytes.length - 2, Math.floor(bytes.length * 0.75), sofAt(bytes) + 30])
      refused(
        () => imageTensor([bytes.subarray(0, cut)], { height: 8, width: 8 }),
        /JPEG image that cannot be decoded/,
      );
    refused(
      () =>
        imageTensor([Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('garbage'.repeat(20))])], {
          height: 8,
          width: 8,
        }),
      /broken JPEG/,
    );
    // An SOF whose length runs past the end of the file.
    const short = Buffer.from(bytes.subarray(0, sofAt(bytes) + 12));
    refused(() => decodeJpeg(short, 1000), /broken JPEG/);
  });

  test('fuzz: 400 JPEGs with random bytes changed decode or are refused with ARCHIVE_INVALID', () => {
    const bytes = jpeg((x, y) => [32 * x, 32 * y, 100]);
    let seed = 12345;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let decoded = 0;
    let refusals = 0;
    for (let round = 0; round < 400; round++) {
      const copy = Buffer.from(bytes);
      const changes = 1 + Math.floor(random() * 4);
      for (let k = 0; k < changes; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      try {
        // A small limit: a flipped size byte must not make the test decode megapixels.
        imageTensor([copy], { height: 8, width: 8, channels: 3 }, 4096);
        decoded++;
      } catch (e) {
        assert.ok(e instanceof AppError && e.code === 'ARCHIVE_INVALID', `round ${round}: ${String(e)}`);
        refusals++;
      }
    }
    assert.ok(decoded > 0 && refusals > 0, `${decoded} decoded, ${refusals} refused: both happen`);
  });
});
