/**
 * Defect regions: connected components (8-connectivity) of the pixels of an
 * anomaly map strictly above the threshold, each with its bounding box, area
 * and peak value: the components are those of the ground-truth masks in the
 * PRO metric (image/connected-components.ts), found by the same labelling.
 */
import { labelRegions } from "../image/connected-components.js";

export interface Region {
  /** Bounding box, in pixels of the map (0-based, inclusive left/top). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Number of pixels in the component. */
  readonly area: number;
  /** Largest map value inside the component. */
  readonly peakScore: number;
}

export interface RegionOptions {
  /** Keep at most this many regions (the highest peaks). Default 64. */
  readonly maxRegions?: number;
  /** Drop components smaller than this many pixels. Default 1. */
  readonly minArea?: number;
}

/** Regions of `map` (row-major, width×height) above `threshold`, highest peak first (ties: larger area first). */
export function findRegions(map: Float32Array, width: number, height: number, threshold: number, options: RegionOptions = {}): Region[] {
  const n = width * height;
  if (map.length !== n) throw new RangeError(`map has ${map.length} values, expected ${width}x${height}=${n}`);
  const maxRegions = options.maxRegions ?? 64;
  const minArea = options.minArea ?? 1;
  const above = new Uint8Array(n);
  let anyAbove = false;
  for (let p = 0; p < n; p++) {
    if (map[p]! > threshold) {
      above[p] = 1;
      anyAbove = true;
    }
  }
  if (!anyAbove) return [];
  const { labels, count } = labelRegions(above, width, height);
  const boxes = Array.from({ length: count }, () => ({ minX: width, minY: height, maxX: -1, maxY: -1, area: 0, peak: -Infinity }));
  for (let p = 0; p < n; p++) {
    const label = labels[p]!;
    if (label === 0) continue;
    const b = boxes[label - 1]!;
    const x = p % width;
    const y = (p - x) / width;
    b.area++;
    if (map[p]! > b.peak) b.peak = map[p]!;
    if (x < b.minX) b.minX = x;
    if (x > b.maxX) b.maxX = x;
    if (y < b.minY) b.minY = y;
    if (y > b.maxY) b.maxY = y;
  }
  const regions = boxes
    .filter((b) => b.area >= minArea)
    .map((b) => ({ x: b.minX, y: b.minY, width: b.maxX - b.minX + 1, height: b.maxY - b.minY + 1, area: b.area, peakScore: b.peak }));
  regions.sort((a, b) => b.peakScore - a.peakScore || b.area - a.area);
  return regions.length > maxRegions ? regions.slice(0, maxRegions) : regions;
}
