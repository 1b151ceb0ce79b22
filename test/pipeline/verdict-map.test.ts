/**
 * The served map agrees with the verdict: an OK frame's map capped at its
 * score, an NG frame's raised to its score when it stays below the
 * threshold, anything else as it is; by hand, at float32's edges, as a
 * property of any map, and through BundleDetector.detect with a fitted
 * bundle, its own threshold and a client's override.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { float32Above, float32AtMost, mapAgreeingWithVerdict } from "../../src/pipeline/verdict-map.js";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { mapToFrame } from "../../src/pipeline/bundle-detector.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { tempDir } from "../support/temp-dir.js";
import { stripedFrame } from "../support/served-correction.js";

const f32 = (...v: number[]) => new Float32Array(v);
const maxOf = (m: Float32Array) => m.reduce((a, v) => Math.max(a, v), -Infinity);

test("an OK frame's map is capped at its score; an NG frame's is raised to it only when it stays below the threshold; by hand", () => {
  // OK (score 3 ≤ threshold 4): the spot at 5 and the 3.5 come down to 3, the rest keeps its shape.
  assert.deepEqual([...mapAgreeingWithVerdict(f32(1, 5, 3.5, 2), 3, 4)], [1, 3, 3, 2]);
  // A score equal to the threshold is OK (the verdict is score > threshold).
  assert.deepEqual([...mapAgreeingWithVerdict(f32(4.5, 1), 4, 4)], [4, 1]);
  // NG with a spot above the threshold: served as it is, the same array.
  const ng = f32(1, 6, 2);
  assert.equal(mapAgreeingWithVerdict(ng, 5, 4), ng);
  // NG whose map stays at or below the threshold (a score from another map): raised by score − peak = 2, peak at the score.
  assert.deepEqual([...mapAgreeingWithVerdict(f32(1, 3, 2), 5, 4)], [3, 5, 4]);
  assert.deepEqual([...mapAgreeingWithVerdict(f32(0, 4), 4.5, 4)], [0.5, 4.5], "a peak at the threshold is not above it");
  // Spread units: negative thresholds and maps, the same rules.
  assert.deepEqual([...mapAgreeingWithVerdict(f32(-3, -0.5, -2), -1.5, -1)], [-3, -1.5, -2]);
  assert.deepEqual([...mapAgreeingWithVerdict(f32(-3, -2), -0.5, -1)], [-1.5, -0.5]);
  // An OK map already below its score is served as it is.
  const quiet = f32(0, 1, 2);
  assert.equal(mapAgreeingWithVerdict(quiet, 2, 4), quiet);
  assert.deepEqual([...quiet], [0, 1, 2], "never written to");
  assert.equal(mapAgreeingWithVerdict(f32(), 5, 4).length, 0);
  assert.throws(() => mapAgreeingWithVerdict(f32(1), Number.NaN, 4), /finite/);
  assert.throws(() => mapAgreeingWithVerdict(f32(1), 1, Infinity), /finite/);
});

test("float32 neighbours: the cap does not round above an OK score, the raised peak stands above the threshold", () => {
  const x = 0.1; // not a float32: fround(0.1) > 0.1
  assert.ok(Math.fround(x) > x);
  assert.ok(float32AtMost(x) <= x && float32AtMost(x) === Math.fround(float32AtMost(x)));
  assert.ok(float32Above(x) > x && float32Above(x) === Math.fround(x));
  assert.equal(float32AtMost(0.5), 0.5, "a float32 is its own floor");
  assert.ok(float32Above(0.5) > 0.5 && float32Above(0.5) - 0.5 === 2 ** -24, "one float32 step above 0.5");
  assert.ok(float32AtMost(-x) <= -x && float32Above(-x) > -x);
  assert.equal(float32Above(0), 2 ** -149);
  assert.equal(float32AtMost(-0), -0);
  // An OK score a hair under a threshold that float32 cannot tell apart from it: nothing served above the threshold.
  const t = 0.1;
  const s = 0.1 - 1e-12;
  const capped = mapAgreeingWithVerdict(f32(0.2, 0), s, t);
  assert.ok(capped[0]! <= s, `${capped[0]} above the OK score ${s}`);
  // An NG score a hair over such a threshold: the peak still stands above it.
  const raised = mapAgreeingWithVerdict(f32(0.05, 0), t + 1e-12, t);
  assert.ok(raised[0]! > t, `${raised[0]} not above ${t}`);
});

test("any map: something stands above the threshold exactly when the score does, pixel order is kept, and an OK map stays under its score", () => {
  const value = fc.float({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true });
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 40 }), value, value, (values, score, threshold) => {
      const map = Float32Array.from(values);
      const before = Float32Array.from(map);
      const out = mapAgreeingWithVerdict(map, score, threshold);
      assert.deepEqual(map, before, "the input is not written to");
      assert.equal(out.length, map.length);
      assert.equal(out.some((v) => v > threshold), score > threshold);
      if (score <= threshold) assert.ok(out.every((v) => v <= score));
      for (let i = 0; i < map.length; i++) {
        for (let j = 0; j < map.length; j++) if (map[i]! < map[j]!) assert.ok(out[i]! <= out[j]!, `order of ${map[i]} and ${map[j]} lost`);
      }
    }),
    { numRuns: 500 },
  );
});

test("BundleDetector.detect serves the map agreeing with its verdict, at its own threshold and a client's override", async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, "data", "plates", "train", "good");
  await mkdir(good, { recursive: true });
  const frame = (seed: number) => stripedFrame(seed, 64, 48, 30);
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i));
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const detector = await loadDetector(out, { intraOpThreads: 1 });
  try {
    const bytes = await frame(77);
    const image = await decodeEncoded(bytes);
    const scored = await detector.scoreImage(image);
    const raw = mapToFrame(scored.map, detector.info.inputSize, image.width, image.height, detector.aspect);
    // The image score is a mean of the map's top, below its peak: an OK frame at a threshold between the two showed a spot.
    assert.ok(maxOf(raw) > scored.score, `peak ${maxOf(raw)} is not above the score ${scored.score}`);
    const between = (scored.score + maxOf(raw)) / 2;
    const ok = await detector.detect({ kind: "encoded", bytes }, { threshold: between });
    assert.equal(ok.isAnomalous, false);
    const okMap = await ok.frameMap();
    assert.ok(!okMap.some((v) => v > between), "nothing above the threshold of an OK frame");
    assert.ok(Math.abs(maxOf(okMap) - scored.score) <= 1e-5 * Math.abs(scored.score), "capped at its score");
    assert.deepEqual(okMap.filter((v) => v < scored.score * 0.999), raw.filter((v) => v < scored.score * 0.999), "below the score, as scored");
    const below = scored.score * 0.999;
    const ng = await detector.detect({ kind: "encoded", bytes }, { threshold: below });
    assert.equal(ng.isAnomalous, true);
    assert.deepEqual(await ng.frameMap(), raw, "an NG frame with a spot above its threshold: the map as scored");
    const own = await detector.detect({ kind: "encoded", bytes });
    assert.equal((await own.frameMap()).some((v) => v > own.threshold), own.isAnomalous, "at the model's own threshold too");
  } finally {
    await detector.close();
  }
});
