/**
 * fast-check arbitraries for hostile frames: valid images of every supported
 * format (made once with sharp and the BMP writer) then truncated, corrupted
 * or given absurd header dimensions; random bytes; raw frames whose declared
 * size, format and byte count disagree; and bad options.
 */
import fc from "fast-check";
import sharp from "sharp";
import type { WireRequest } from "./wire.js";

export interface Seeds {
  /** Small valid images: png, jpeg, webp, tiff, gif, bmp. */
  readonly images: readonly Uint8Array[];
}

export async function makeSeeds(): Promise<Seeds> {
  const w = 23;
  const h = 17;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 251;
  const img = () => sharp(px, { raw: { width: w, height: h, channels: 3 } });
  const images = await Promise.all([img().png().toBuffer(), img().jpeg().toBuffer(), img().webp().toBuffer(), img().tiff().toBuffer(), img().gif().toBuffer()]);
  return { images: [...images, bmp24(w, h, px), pngWithHugeHeader(images[0]!)] };
}

/** A 24-bit bottom-up BMP. */
function bmp24(w: number, h: number, rgb: Buffer): Uint8Array {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * h);
  out.write("BM", 0, "latin1");
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(w, 18);
  out.writeInt32LE(h, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = 54 + (h - 1 - y) * stride + x * 3;
      out[d] = rgb[s + 2]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s]!;
    }
  }
  return out;
}

/** A PNG whose IHDR claims 100000×100000 pixels (the pixel limit must refuse it before decoding). */
function pngWithHugeHeader(png: Buffer): Uint8Array {
  const out = Buffer.from(png);
  out.writeUInt32BE(100_000, 16);
  out.writeUInt32BE(100_000, 20);
  return out;
}

/** Extreme and ordinary dimensions, as a uint32 on the wire. */
export const dimension = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 48 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 3840, 2160, 7680, 4320, 65535, 65536, 2 ** 31 - 1, 2 ** 32 - 1) },
);

/** PIXEL_FORMAT_* values, including unknown ones. */
export const pixelFormat = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 99, 2 ** 31 - 1));

export const threshold = fc.oneof(fc.float(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 3.4e38, -1));

/** An encoded image: a seed truncated, corrupted, both, or plain random bytes. */
export function encodedImage(seeds: Seeds): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds.images);
  const truncated = fc.tuple(seed, fc.double({ min: 0, max: 1, noNaN: true })).map(([s, f]) => s.subarray(0, Math.floor(s.length * f)));
  const corrupted = fc.tuple(seed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([s, flips]) => {
    const out = Uint8Array.from(s);
    for (const [i, v] of flips) out[i % out.length] = v;
    return out;
  });
  return fc.oneof(seed, truncated, corrupted, fc.uint8Array({ maxLength: 256 }));
}

/** A raw frame whose declared size, format and byte count may or may not agree. */
export const rawFrame = fc
  .tuple(dimension, dimension, pixelFormat, fc.oneof(fc.constant("exact" as const), fc.constant("off" as const), fc.uint8Array({ maxLength: 96 })))
  .map(([width, height, format, bytes]) => {
    const channels = format === 1 ? 1 : 3;
    const exact = width * height * channels;
    let pixels: Uint8Array;
    if (bytes === "exact") pixels = new Uint8Array(exact <= 64 * 64 * 3 ? exact : 16);
    else if (bytes === "off") pixels = new Uint8Array(exact <= 64 * 64 * 3 ? exact + (exact > 0 ? -1 : 1) : 7);
    else pixels = bytes;
    return { width, height, format, pixels };
  });

export const options = fc.record(
  { heatmap: fc.boolean(), mask: fc.boolean(), regions: fc.boolean(), threshold, junk: fc.uint8Array({ maxLength: 12 }) },
  { requiredKeys: [] },
);

/** A request a sane client might send (valid or damaged image, sane options), or anything at all. */
export function wireRequest(seeds: Seeds): fc.Arbitrary<WireRequest> {
  const plausible = fc.record(
    {
      frameId: fc.string({ maxLength: 40 }),
      encoded: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...seeds.images) }, { weight: 1, arbitrary: encodedImage(seeds) }),
      options: fc.record({ heatmap: fc.boolean(), mask: fc.boolean(), regions: fc.boolean(), threshold: fc.float({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ["encoded"] },
  );
  const plausibleRaw = fc.record({ frameId: fc.string({ maxLength: 40 }), raw: rawFrame.filter((r) => r.format >= 1 && r.format <= 3) }, { requiredKeys: ["raw"] });
  return fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 1, arbitrary: plausibleRaw }, { weight: 3, arbitrary: anyRequest(seeds) });
}

function anyRequest(seeds: Seeds): fc.Arbitrary<WireRequest> {
  return fc.record(
    {
      frameId: fc.string({ maxLength: 40 }),
      encoded: encodedImage(seeds),
      raw: rawFrame,
      classTag: fc.string({ maxLength: 20 }),
      options,
      trailing: fc.uint8Array({ maxLength: 16 }),
    },
    { requiredKeys: [] },
  );
}
