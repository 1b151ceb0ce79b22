/**
 * The units `lafite eval` ranks images and pixels in: relative to the
 * threshold each image was judged by, (v − t) / |t|.
 *
 * A unified model's scores are not in one unit: a class with a position
 * profile scores in its normals' spread, the others in the bank's distances,
 * and each class has its own threshold. A test image that reads as another
 * class is judged by that class's threshold in that class's units, so ranking
 * raw scores would put, say, a good tile scored as the 1024-px sheet (raw
 * units, about 60) above every tile defect (spread units, about 4). Relative
 * to its threshold it ranks where its verdict puts it. The transform is
 * increasing in v for a fixed t, so a class whose images are all judged by
 * one threshold gets exactly the figures of its raw scores.
 */

/** (v − t) / |t|: 0 at the threshold, 1 at twice a positive one; v − t for a threshold of 0. */
export function relativeToThreshold(value: number, threshold: number): number {
  const { shift, unit } = unitsOf(threshold);
  return (value - shift) / unit;
}

/** What a value relative to `threshold` is measured from, and in: t and |t|, or 0 and 1 for a threshold of 0. */
function unitsOf(threshold: number): { shift: number; unit: number } {
  if (!Number.isFinite(threshold)) throw new RangeError(`threshold ${threshold} is not a finite number`);
  return threshold === 0 ? { shift: 0, unit: 1 } : { shift: threshold, unit: Math.abs(threshold) };
}

/**
 * A map's values relative to its threshold, brought to positive numbers by one increasing function (the pixel
 * histograms take only values ≥ 0, and a profiled class's map is negative below its normals' mean): r + 1 from
 * r = −½ up (v / t for a positive threshold), and ½·e^{2(r + ½)} below, which meets it with the same slope.
 */
export function pixelsRelativeToThreshold(map: Float32Array, threshold: number): Float32Array {
  // Taken once for the whole map, not per pixel.
  const { shift, unit } = unitsOf(threshold);
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = positive((map[i]! - shift) / unit);
  return out;
}

function positive(r: number): number {
  return r >= -0.5 ? r + 1 : 0.5 * Math.exp(2 * (r + 0.5));
}
