/**
 * Real photographic textures for the realistic suite, read from a Debian
 * package at run time (never copied into the repository or the output). The
 * Krita patterns are 512×512 scans of paper, cast grain, wood and canvas;
 * they are stored as RGB but are gray, so one channel is kept and colour
 * classes tint it. Their licence (the `Files: *` paragraph of the package's
 * copyright file: GPL-2+ and other GNU licences) lets anyone run them as
 * input; the suite only reads them, and its manifest names the source of
 * each one.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { LafiteError, ErrorCode } from "../../../util/errors.js";
import type { FloatMap } from "../raster.js";

export interface TextureSource {
  /** Short name used by the class renderers. */
  readonly name: string;
  readonly debianPackage: string;
  readonly path: string;
  readonly license: string;
}

const KRITA = "/usr/share/krita/patterns";
const KRITA_LICENSE = "krita-data (Debian 12), /usr/share/doc/krita-data/copyright, Files: * — GPL-2+/LGPL family; read at run time, not redistributed";

export const TEXTURE_SOURCES: Readonly<Record<string, TextureSource>> = {
  paper: { name: "paper", debianPackage: "krita-data", path: `${KRITA}/03_default-paper.png`, license: KRITA_LICENSE },
  grain: { name: "grain", debianPackage: "krita-data", path: `${KRITA}/06_hard-grain.png`, license: KRITA_LICENSE },
  woody: { name: "woody", debianPackage: "krita-data", path: `${KRITA}/16_texture-woody.png`, license: KRITA_LICENSE },
  canvas: { name: "canvas", debianPackage: "krita-data", path: `${KRITA}/01_canvas.png`, license: KRITA_LICENSE },
  roughCanvas: { name: "roughCanvas", debianPackage: "krita-data", path: `${KRITA}/02_rough-canvas.png`, license: KRITA_LICENSE },
};

export type TextureName = keyof typeof TEXTURE_SOURCES;

/**
 * A loaded texture: one gray channel in [0, 1], normalized to mean 0.5 so
 * renderers choose the brightness, and the file's digest (another package
 * version could ship other pixels; the manifest records which were used).
 */
export type Texture = FloatMap & { readonly sha256: string };

const cache = new Map<string, Promise<Texture>>();

/** Reads one texture; exported so a test can point it at a path that does not exist. */
export async function readTexture(src: TextureSource): Promise<Texture> {
  let bytes: Buffer;
  try {
    bytes = await readFile(src.path);
  } catch {
    throw new LafiteError(
      ErrorCode.BAD_DATASET,
      `texture ${src.path} not found: the realistic suite reads real textures from the Debian package '${src.debianPackage}'; ` +
        `install it with 'apt-get install -y ${src.debianPackage}' (or run 'npm run setup')`,
    );
  }
  const { data, info } = await sharp(bytes).removeAlpha().extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const out = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[i]!;
  const shift = 0.5 - sum / n / 255;
  for (let i = 0; i < n; i++) out[i] = data[i]! / 255 + shift;
  return { width: info.width, height: info.height, data: out, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export function loadTexture(name: TextureName): Promise<Texture> {
  const src = TEXTURE_SOURCES[name];
  if (!src) throw new LafiteError(ErrorCode.INTERNAL, `unknown texture '${String(name)}'`);
  let p = cache.get(src.path);
  if (!p) {
    p = readTexture(src);
    // A failed load is not cached: installing the package and retrying in the same process works.
    p.catch(() => cache.delete(src.path));
    cache.set(src.path, p);
  }
  return p;
}

/**
 * Samples a texture into a w×h map: a random crop, rotation and scale of the
 * source with mirrored repeat (so no seam jumps), bilinear. `scale` is source
 * pixels per output pixel; `contrast` stretches around the mean 0.5.
 */
export function sampleTexture(
  tex: Texture,
  width: number,
  height: number,
  place: { readonly ox: number; readonly oy: number; readonly angle: number; readonly scale: number; readonly contrast: number },
): FloatMap {
  const out = new Float32Array(width * height);
  const cos = Math.cos(place.angle) * place.scale;
  const sin = Math.sin(place.angle) * place.scale;
  const tw = tex.width;
  const th = tex.height;
  const mirror = (v: number, n: number) => {
    const p = 2 * n;
    let m = v % p;
    if (m < 0) m += p;
    return m < n ? m : p - 1 - m;
  };
  const at = (x: number, y: number) => tex.data[mirror(y, th) * tw + mirror(x, tw)]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = place.ox + x * cos - y * sin;
      const v = place.oy + x * sin + y * cos;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[y * width + x] = 0.5 + (top * (1 - fy) + bottom * fy - 0.5) * place.contrast;
    }
  }
  return { width, height, data: out };
}
