/**
 * Defect regions: connected components (8-connectivity) of the pixels of an
 * anomaly map strictly above the threshold, each with its bounding box, area
 * and peak value. One flood fill per component with an explicit stack, so a
 * frame-sized blob cannot overflow the call stack.
 */

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
  const visited = new Uint8Array(n);
  let stack: Int32Array | undefined;
  const regions: Region[] = [];
  for (let start = 0; start < n; start++) {
    if (visited[start] || !(map[start]! > threshold)) continue;
    stack ??= new Int32Array(n);
    let top = 0;
    stack[top++] = start;
    visited[start] = 1;
    let minX = width, minY = height, maxX = -1, maxY = -1, area = 0, peak = -Infinity;
    while (top > 0) {
      const p = stack[--top]!;
      const px = p % width;
      const py = (p - px) / width;
      area++;
      const v = map[p]!;
      if (v > peak) peak = v;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
      for (let dy = -1; dy <= 1; dy++) {
        const qy = py + dy;
        if (qy < 0 || qy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const qx = px + dx;
          if (qx < 0 || qx >= width || (dx === 0 && dy === 0)) continue;
          const q = qy * width + qx;
          if (visited[q] || !(map[q]! > threshold)) continue;
          visited[q] = 1;
          stack[top++] = q;
        }
      }
    }
    if (area >= minArea) regions.push({ x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1, area, peakScore: peak });
  }
  regions.sort((a, b) => b.peakScore - a.peakScore || b.area - a.area);
  return regions.length > maxRegions ? regions.slice(0, maxRegions) : regions;
}
