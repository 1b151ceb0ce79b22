/**
 * The map a client is shown agrees with the frame's verdict.
 *
 * The image score is not the map's peak: it is the mean of the map's top
 * fraction or the best pooled window (scoring.imageScore), and a class's
 * score may come from a map with another detail weight, from a position
 * profile or from the context bank. So a frame judged OK could show pixels
 * above its threshold (on the realistic suite's default lafite model, 28 of
 * 155 good frames judged OK did: spots of 0.02–0.7 % of the frame, 11 of the
 * 20 glass plates), and a frame judged NG could show none (2 of 130). A mask
 * or region list that a line reads as "reject here" must not disagree with
 * the verdict it came with.
 *
 * An OK frame's map is capped at its score, so nothing on it reaches the
 * threshold; what lies below the score keeps its shape. An NG frame whose
 * map stays at or below the threshold everywhere is raised until its peak
 * stands at the score, so its mask shows where the model is most suspicious.
 * Any other map is served as it is. Within a frame the order of pixels is
 * kept; across frames only peaks above an OK frame's score and an NG frame's
 * sub-threshold map move (the realistic suite's pixel AUROC and AUPRO were
 * unchanged by it to 0.1, `lafite eval` measures the map this returns).
 */

/**
 * `map` (any units: the score's and the threshold's) as served with a frame of this score and threshold:
 * a new array when it changes, else `map` itself (never written to).
 */
export function mapAgreeingWithVerdict(map: Float32Array, score: number, threshold: number): Float32Array {
  if (!Number.isFinite(score) || !Number.isFinite(threshold)) throw new RangeError(`score ${score} and threshold ${threshold} must be finite numbers`);
  if (score <= threshold) {
    // Judged OK (the verdict is score > threshold): capped at the score, as a float32 that does not round above it.
    const cap = float32AtMost(score);
    if (!map.some((v) => v > cap)) return map;
    return map.map((v) => Math.min(v, cap));
  }
  let peak = -Infinity;
  for (let i = 0; i < map.length; i++) if (map[i]! > peak) peak = map[i]!;
  if (peak > threshold || map.length === 0) return map;
  // score − peak added in float32 could round the peak to the threshold or the rest above the peak: the peak is set to
  // the score (or the first float32 above the threshold), and nothing goes above it.
  const top = Math.max(float32AtMost(score), float32Above(threshold));
  return map.map((v) => (v === peak ? top : Math.min(v + (score - peak), top)));
}

const bits = new DataView(new ArrayBuffer(4));

/** The largest float32 that is ≤ x. */
export function float32AtMost(x: number): number {
  const f = Math.fround(x);
  return f <= x ? f : stepFloat32(f, -1);
}

/** The smallest float32 that is > x. */
export function float32Above(x: number): number {
  const f = Math.fround(x);
  return f > x ? f : stepFloat32(f, +1);
}

/** The next float32 from a finite float32 f, up (+1) or down (−1). */
function stepFloat32(f: number, direction: 1 | -1): number {
  if (f === 0) return direction * 2 ** -149;
  bits.setFloat32(0, f);
  // Away from zero adds one to the magnitude's bits, towards zero takes one.
  bits.setInt32(0, bits.getInt32(0) + (Math.sign(f) === direction ? 1 : -1));
  return bits.getFloat32(0);
}
