import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeEncoded, decodeRaw, decodeMask, toModelInput } from "../../src/image/decode.js";
import { decodeBmp } from "../../src/image/bmp.js";
import { LafiteError } from "../../src/util/errors.js";

const rgbPixels = (w: number, h: number) => Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);

async function png(w: number, h: number, channels: 1 | 3): Promise<Buffer> {
  const px = channels === 3 ? rgbPixels(w, h) : Uint8Array.from({ length: w * h }, (_, i) => (i * 11) % 256);
  const img = sharp(px, { raw: { width: w, height: h, channels } });
  return (channels === 1 ? img.toColourspace("b-w") : img).png().toBuffer();
}

/** A 24-bit bottom-up BMP written by hand, from the format's spec. */
function bmp24(w: number, h: number, rgb: Uint8Array): Uint8Array {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const buf = new Uint8Array(54 + stride * h);
  const v = new DataView(buf.buffer);
  buf[0] = 0x42; buf[1] = 0x4d;
  v.setUint32(2, buf.length, true); v.setUint32(10, 54, true); v.setUint32(14, 40, true);
  v.setInt32(18, w, true); v.setInt32(22, h, true); v.setUint16(26, 1, true); v.setUint16(28, 24, true);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = 54 + (h - 1 - y) * stride + x * 3, i = (y * w + x) * 3;
    buf[o] = rgb[i + 2]!; buf[o + 1] = rgb[i + 1]!; buf[o + 2] = rgb[i]!;
  }
  return buf;
}

const isInvalid = (re: RegExp) => (err: unknown) => err instanceof LafiteError && err.code === "INVALID_INPUT" && re.test(err.message);

test("PNG RGB decodes to the same pixels", async () => {
  const img = await decodeEncoded(await png(5, 3, 3));
  assert.equal(img.width, 5); assert.equal(img.height, 3); assert.equal(img.gray, false);
  assert.deepEqual(Array.from(img.rgb), Array.from(rgbPixels(5, 3)));
});

test("grayscale PNG becomes RGB with equal channels and is flagged gray", async () => {
  const img = await decodeEncoded(await png(4, 4, 1));
  assert.equal(img.gray, true);
  for (let i = 0; i < 16; i++) { assert.equal(img.rgb[3 * i], img.rgb[3 * i + 1]); assert.equal(img.rgb[3 * i], img.rgb[3 * i + 2]); }
  assert.equal(img.rgb[3 * 1], 11);
});

test("format is found by content: JPEG bytes decode whatever the name", async () => {
  const jpeg = await sharp(rgbPixels(16, 8), { raw: { width: 16, height: 8, channels: 3 } }).jpeg().toBuffer();
  const img = await decodeEncoded(jpeg);
  assert.equal(img.width, 16); assert.equal(img.height, 8);
});

test("24-bit BMP decodes exactly (odd width exercises row padding)", async () => {
  const px = rgbPixels(5, 3);
  const img = await decodeEncoded(bmp24(5, 3, px));
  assert.deepEqual(Array.from(img.rgb), Array.from(px));
});

test("BMP with truncated pixel data is refused", () => {
  assert.throws(() => decodeBmp(bmp24(5, 3, rgbPixels(5, 3)).subarray(0, 60), 1e6), isInvalid(/truncated/));
});

test("garbage, empty and truncated PNG bytes give INVALID_INPUT with a reason", async () => {
  await assert.rejects(decodeEncoded(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), isInvalid(/cannot decode|not a supported/));
  await assert.rejects(decodeEncoded(new Uint8Array(0)), isInvalid(/empty/));
  const full = await png(64, 64, 3);
  await assert.rejects(decodeEncoded(full.subarray(0, full.length >> 1)), isInvalid(/cannot decode/));
});

test("an image above the pixel limit is refused", async () => {
  await assert.rejects(decodeEncoded(await png(64, 64, 3), { maxPixels: 1000 }), isInvalid(/limit/));
});

test("raw frames: formats convert to RGB, wrong length and huge sizes are refused", () => {
  const bgr = decodeRaw(Uint8Array.of(1, 2, 3), 1, 1, "bgr8");
  assert.deepEqual(Array.from(bgr.rgb), [3, 2, 1]);
  const gray = decodeRaw(Uint8Array.of(7, 9), 2, 1, "gray8");
  assert.deepEqual(Array.from(gray.rgb), [7, 7, 7, 9, 9, 9]);
  assert.throws(() => decodeRaw(new Uint8Array(5), 2, 1, "rgb8"), isInvalid(/needs 6 bytes/));
  assert.throws(() => decodeRaw(new Uint8Array(3), 100000, 100000, "rgb8"), isInvalid(/exceeds/));
  assert.throws(() => decodeRaw(new Uint8Array(3), 0, 1, "rgb8"), isInvalid(/invalid/));
  assert.throws(() => decodeRaw(new Uint8Array(3), 1, 1, "yuv" as never), isInvalid(/unknown pixel format/));
});

test("model input is planar float RGB at S×S", async () => {
  const img = decodeRaw(Uint8Array.from([10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30]), 2, 2, "rgb8");
  const x = await toModelInput(img, 4);
  assert.equal(x.length, 3 * 16);
  assert.ok(x.subarray(0, 16).every((v) => v === 10));
  assert.ok(x.subarray(16, 32).every((v) => v === 20));
  assert.ok(x.subarray(32).every((v) => v === 30));
});

test("masks: any non-zero pixel is anomalous", async () => {
  const m = await sharp(Uint8Array.of(0, 1, 255, 0), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
  const { mask } = await decodeMask(m);
  assert.deepEqual(Array.from(mask), [0, 1, 1, 0]);
});
