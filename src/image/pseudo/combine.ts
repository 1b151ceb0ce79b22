/**
 * One anomaly's mask: 1–3 shapes of random families, each turned by its own
 * random angle, grouped around a common centre and united (paper 3.4:
 * "randomly rotate and combine these masks"). The total area is drawn
 * log-uniformly between `minArea` and `maxArea` of the image, so tiny pits
 * and large patches are equally common; the whole group lies inside the
 * image, so the rasterized area is the area that was asked for, less overlap.
 */
import type { Rng } from "../synth/rng.js";
import { maskArea, rasterize, unionMasks, type BinaryMask } from "./mask.js";
import { FAMILY_SHAPES, MASK_FAMILIES, type MaskFamily } from "./shapes.js";

export interface MaskOptions {
  /** Smallest and largest area as a fraction of the image. */
  readonly minArea: number;
  readonly maxArea: number;
  readonly families: readonly MaskFamily[];
}

export const DEFAULT_MASK_OPTIONS: MaskOptions = { minArea: 0.001, maxArea: 0.08, families: MASK_FAMILIES };

export interface MaskPart {
  readonly family: MaskFamily;
  /** Degrees, for the record. */
  readonly angle: number;
}

export interface CombinedMask {
  readonly mask: BinaryMask;
  readonly parts: readonly MaskPart[];
  /** Set pixels over all pixels. */
  readonly areaFraction: number;
}

/** Draws of the number of parts: a single shape half the time. */
const PART_COUNTS = [1, 1, 1, 2, 2, 3] as const;
const MAX_ATTEMPTS = 20;

export function combinedMask(rng: Rng, width: number, height: number, options: MaskOptions = DEFAULT_MASK_OPTIONS): CombinedMask {
  const total = width * height;
  const minSide = Math.min(width, height);
  // Overlap can shrink a union below the target; a little slack below the minimum keeps the retry rare.
  const lo = options.minArea * 0.8;
  const hi = options.maxArea * 1.05;
  let last: CombinedMask | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const target = rng.logRange(options.minArea, options.maxArea) * total;
    const count = rng.pick(PART_COUNTS);
    const weights = Array.from({ length: count }, () => rng.range(0.3, 1));
    const sum = weights.reduce((a, b) => a + b, 0);
    const shapes = weights.map((w) => {
      const family = rng.pick(options.families);
      return { family, shape: FAMILY_SHAPES[family](rng, { area: (target * w) / sum, minSide }), angle: rng.range(0, 2 * Math.PI) };
    });
    // Later parts sit at up to 0.9 of the summed radii from the first: touching or overlapping it, rarely apart.
    const offsets = shapes.map((s, i) => {
      if (i === 0) return [0, 0] as const;
      const d = rng.range(0, 0.9) * (shapes[0]!.shape.radius + s.shape.radius);
      const a = rng.range(0, 2 * Math.PI);
      return [d * Math.cos(a), d * Math.sin(a)] as const;
    });
    const minX = Math.min(...shapes.map((s, i) => offsets[i]![0] - s.shape.radius));
    const maxX = Math.max(...shapes.map((s, i) => offsets[i]![0] + s.shape.radius));
    const minY = Math.min(...shapes.map((s, i) => offsets[i]![1] - s.shape.radius));
    const maxY = Math.max(...shapes.map((s, i) => offsets[i]![1] + s.shape.radius));
    // The bounding radii are loose for thin shapes, so clamp to the image instead of refusing when they overhang.
    const cx = maxX - minX < width - 2 ? rng.range(1 - minX, width - 1 - maxX) : width / 2 - (minX + maxX) / 2;
    const cy = maxY - minY < height - 2 ? rng.range(1 - minY, height - 1 - maxY) : height / 2 - (minY + maxY) / 2;
    const mask = unionMasks(shapes.map((s, i) => rasterize(s.shape, width, height, { cx: cx + offsets[i]![0], cy: cy + offsets[i]![1], angle: s.angle })));
    const areaFraction = maskArea(mask) / total;
    last = { mask, parts: shapes.map((s) => ({ family: s.family, angle: Math.round((s.angle * 180) / Math.PI) })), areaFraction };
    if (areaFraction >= lo && areaFraction <= hi) return last;
  }
  // Only reachable for images so small that no shape fits the range; the caller still gets a usable mask.
  return last!;
}
