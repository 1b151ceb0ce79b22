/**
 * The heatmap gallery: the few images pick-gallery.ts chose per class are
 * re-scored here, at the end of the evaluation, and written as thumbnails
 * (the image, its heatmap overlay, its ground-truth outline) beside the
 * report. Only one image's map is in memory at a time.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import sharp from "sharp";
import { decodeEncoded } from "../../image/decode.js";
import { readMask } from "../../dataset/masks.js";
import { heatmapRgba } from "../../image/heatmap.js";
import type { BundleDetector } from "../../pipeline/bundle-detector.js";
import type { ImageScore } from "../evaluate.js";
import { maskOutline, resizeMaskAny } from "./outline.js";
import { pickGallery } from "./pick-gallery.js";
import type { Gallery, GalleryItem } from "./report-data.js";
import { throwIfCancelled } from "../../util/progress.js";

/** Longest side of a gallery thumbnail, in pixels. */
export const THUMB = 192;

/** Ground truth outline colour on the image, and on the heatmap overlay (where green would blend in). */
const TRUTH_RGB = [0, 255, 0] as const;
const TRUTH_ON_HEAT_RGB = [255, 255, 255] as const;

export interface GalleryOptions {
  readonly detector: BundleDetector;
  /** The class's scored images, as eval reported them. */
  readonly images: readonly ImageScore[];
  /** Mask file per anomalous image path, where one exists. */
  readonly masks: ReadonlyMap<string, string>;
  readonly dataRoot: string;
  readonly reportDir: string;
  /** Sub-folder of reportDir for this class's PNGs. */
  readonly folder: string;
  readonly perKind: number;
  /** The class's threshold: where borderline is measured from, and the heatmap's scale. */
  readonly threshold: number;
  readonly signal?: AbortSignal;
  readonly log?: (msg: string) => void;
}

export async function renderGallery(o: GalleryOptions): Promise<Gallery> {
  const pick = pickGallery(o.images, o.threshold, o.perKind);
  const dir = join(o.reportDir, o.folder);
  await mkdir(dir, { recursive: true });
  const render = async (kind: string, list: readonly ImageScore[]): Promise<GalleryItem[]> => {
    const out: GalleryItem[] = [];
    for (const [i, s] of list.entries()) {
      throwIfCancelled(o.signal, "eval report");
      try {
        out.push(await renderItem(o, s, join(dir, `${kind}-${i}`)));
      } catch (err) {
        // It was scored once already, so this is a file changed or removed since: leave it out, keep the report.
        o.log?.(`eval report: leaving ${s.path} out of the gallery: ${(err as Error).message}`);
      }
    }
    return out;
  };
  return { misses: await render("miss", pick.misses), falseAlarms: await render("false-alarm", pick.falseAlarms), borderline: await render("borderline", pick.borderline) };
}

/** The thumbnail size: the longest side THUMB, the aspect ratio kept. */
export function thumbSize(width: number, height: number, max = THUMB): { width: number; height: number } {
  const f = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * f)), height: Math.max(1, Math.round(height * f)) };
}

async function renderItem(o: GalleryOptions, s: ImageScore, stem: string): Promise<GalleryItem> {
  const image = await decodeEncoded(await readFile(s.path));
  const scored = await o.detector.scoreImage(image);
  const t = thumbSize(image.width, image.height);
  const base = new Uint8Array(await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(t.width, t.height, { fit: "fill" }).raw().toBuffer());
  const heat = heatmapRgba(o.detector.servedMap(scored, t.width, t.height), t.width, t.height, o.threshold);
  const overlay = blend(base, heat);
  const truth = Uint8Array.from(base);
  const maskPath = o.masks.get(s.path);
  if (maskPath) {
    const m = await readMask(maskPath);
    const outline = maskOutline(resizeMaskAny(m.mask, m.width, m.height, t.width, t.height), t.width, t.height);
    paint(truth, outline, TRUTH_RGB);
    paint(overlay, outline, TRUTH_ON_HEAT_RGB);
  }
  const png = (rgb: Uint8Array) => sharp(rgb, { raw: { width: t.width, height: t.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  await writeFile(`${stem}-image.png`, await png(base));
  await writeFile(`${stem}-overlay.png`, await png(overlay));
  await writeFile(`${stem}-truth.png`, await png(truth));
  const rel = (f: string) => relative(o.reportDir, f).split("\\").join("/");
  return {
    path: relative(o.dataRoot, s.path).split("\\").join("/"),
    defect: s.defect,
    anomalous: s.anomalous,
    score: s.score,
    image: rel(`${stem}-image.png`),
    overlay: rel(`${stem}-overlay.png`),
    truth: rel(`${stem}-truth.png`),
  };
}

/** RGBA heatmap over RGB pixels ("over" compositing with the heatmap's alpha). */
export function blend(rgb: Uint8Array, rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    const a = rgba[j + 3]! / 255;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round(rgb[i + c]! * (1 - a) + rgba[j + c]! * a);
  }
  return out;
}

function paint(rgb: Uint8Array, where: Uint8Array, color: readonly [number, number, number]): void {
  for (let p = 0; p < where.length; p++) {
    if (!where[p]) continue;
    rgb[3 * p] = color[0];
    rgb[3 * p + 1] = color[1];
    rgb[3 * p + 2] = color[2];
  }
}
