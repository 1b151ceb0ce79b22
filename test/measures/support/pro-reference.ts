/**
 * A slow, independent PRO / AUPRO reference for testing the histogram method:
 * regions by repeated min-label propagation over 8-neighbours (not a flood
 * fill), and at every distinct score t, taken from all pixels sorted, PRO and
 * FPR counted straight from their definitions (O(pixels × thresholds)).
 */
export interface RefMap {
  readonly scores: Float32Array;
  readonly mask: Uint8Array;
  readonly width: number;
}

function regionsOf(mask: Uint8Array, width: number): Int32Array[] {
  const height = mask.length / width;
  const label = Int32Array.from(mask, (m, i) => (m ? i + 1 : 0));
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < label.length; i++) {
      if (!label[i]) continue;
      const x = i % width, y = Math.floor(i / width);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const l = label[ny * width + nx]!;
          if (l && l < label[i]!) {
            label[i] = l;
            changed = true;
          }
        }
      }
    }
  }
  const groups = new Map<number, number[]>();
  label.forEach((l, i) => l && groups.set(l, [...(groups.get(l) ?? []), i]));
  return [...groups.values()].map((g) => Int32Array.from(g));
}

export function referenceProCurve(maps: readonly RefMap[]): { x: number[]; y: number[] } {
  const regions = maps.flatMap((m) => regionsOf(m.mask, m.width).map((idx) => Float32Array.from(idx, (i) => m.scores[i]!)));
  const normals = maps.flatMap((m) => [...m.scores].filter((_, i) => !m.mask[i]));
  const thresholds = [...new Set(maps.flatMap((m) => [...m.scores]))].sort((a, b) => b - a);
  const x = [0];
  const y = [0];
  for (const t of thresholds) {
    x.push(normals.filter((s) => s >= t).length / normals.length);
    y.push(regions.reduce((sum, r) => sum + r.filter((s) => s >= t).length / r.length, 0) / regions.length);
  }
  x.push(1);
  y.push(1);
  return { x, y };
}

/** Trapezoids up to `limit`, the crossing segment interpolated, divided by `limit`. */
export function referenceAupro(maps: readonly RefMap[], limit = 0.3): number {
  const { x, y } = referenceProCurve(maps);
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const a = x[i - 1]!, b = Math.min(x[i]!, limit);
    if (b <= a) continue;
    const yb = y[i - 1]! + ((y[i]! - y[i - 1]!) * (b - a)) / (x[i]! - a);
    area += ((y[i - 1]! + yb) / 2) * (b - a);
  }
  return area / limit;
}
