import { test } from "node:test";
import assert from "node:assert/strict";
import { MIN_LIGHT_HALF_WIDTH, MIN_REACH_FRAMES, alikeClasses, lightRatio, widenedLight, classMeanReader, classMeansOf, classMeansProblem, frameMean, lookDistance, lookRatioReader, misreadings, nearestMean, withAlike, withFrameMeans, withReach } from "../../../src/model/memory/class-means.js";
import { createRng } from "../../../src/util/random.js";
import type { FeatureMap } from "../../../src/model/types.js";

/** A c×h×w map from its channel planes. */
const mapOf = (planes: number[][], h: number, w: number, frame?: FeatureMap["frame"]): FeatureMap => ({ data: Float32Array.from(planes.flat()), c: planes.length, h, w, ...(frame ? { frame } : {}) });

test("frameMean: each channel's mean over the cells that show the frame, the whole grid without a frame", () => {
  // 2 channels on a 2×3 grid; the frame is the middle column's two cells and the right one's.
  const x = mapOf([[1, 2, 3, 4, 5, 6], [0, 10, 20, 0, 30, 40]], 2, 3);
  assert.deepEqual([...frameMean(x)], [3.5, Math.fround(100 / 6)]);
  const framed = { ...x, frame: { x0: 1, y0: 0, x1: 3, y1: 2 } };
  assert.deepEqual([...frameMean(framed)], [(2 + 3 + 5 + 6) / 4, (10 + 20 + 30 + 40) / 4]);
});

test("classMeansOf: per-channel spread over every frame, each class's count and mean, by hand", () => {
  const frames = [Float32Array.from([0, 1]), Float32Array.from([2, 1]), Float32Array.from([4, 1]), Float32Array.from([6, 5])];
  const means = classMeansOf(frames, ["a", "a", "b", "b"]);
  // Channel 0: mean 3, deviations -3 -1 1 3 → variance 5; channel 1: mean 2, deviations -1 -1 -1 3 → variance 3.
  assert.deepEqual(means.spread, [Math.sqrt(5), Math.sqrt(3)]);
  assert.deepEqual(means.classes, { a: { count: 2, mean: [1, 1] }, b: { count: 2, mean: [5, 3] } });
  assert.throws(() => classMeansOf(frames, ["a"]), /4 frame means for 1 classes/);
  assert.throws(() => classMeansOf([], []), /no frame means/);
  assert.throws(() => classMeansOf([Float32Array.from([1]), Float32Array.from([1, 2])], ["a", "b"]), /1 and 2 channels|2 and 1 channels/);
});

test("withFrameMeans: a running mean equal to the mean over all the class's frames; a new class gets its own; the spread is fit's", () => {
  const rng = createRng(3);
  const frame = () => Float32Array.from({ length: 5 }, () => rng.next() * 4 - 2);
  const fitted = Array.from({ length: 9 }, frame);
  const classes = fitted.map((_, i) => (i % 3 === 0 ? "nut" : "plate"));
  const base = classMeansOf(fitted, classes);
  const more = [{ cls: "nut", mean: frame() }, { cls: "bolt", mean: frame() }, { cls: "nut", mean: frame() }];
  const grown = withFrameMeans(base, more);
  assert.deepEqual(grown.spread, base.spread);
  // The slow reference: every frame of a class averaged at once.
  const all = [...fitted.map((f, i) => ({ cls: classes[i]!, mean: f })), ...more];
  for (const cls of ["nut", "plate", "bolt"]) {
    const of = all.filter((f) => f.cls === cls);
    assert.equal(grown.classes[cls]!.count, of.length);
    grown.classes[cls]!.mean.forEach((v, j) => assert.ok(Math.abs(v - of.reduce((s, f) => s + f.mean[j]!, 0) / of.length) < 1e-12, `${cls}[${j}]`));
  }
  // Nothing added: the same means.
  assert.deepEqual(withFrameMeans(base, []), base);
  assert.throws(() => withFrameMeans(base, [{ cls: "nut", mean: Float32Array.from([1]) }]), /1 channels, class means of 5/);
});

test("classMeanReader: the nearest class mean, each channel in units of its spread; a dead channel is left out", () => {
  // Channel 0 spreads by 1, channel 1 by 10; channel 2 not at all.
  const means = { spread: [1, 10, 0], classes: { a: { count: 3, mean: [0, 0, 0] }, b: { count: 1, mean: [2, 0, 5] }, c: { count: 2, mean: [0, 30, 0] } } };
  const names = ["c", "a", "b"];
  const read = classMeanReader(means, names, names)!;
  const at = (v: number[]) => read(mapOf(v.map((x) => [x]), 1, 1));
  // [0.9, 0, 0]: 0.81 from a, 1.21 from b (in spread units), 9 from c → a (index 1).
  assert.equal(at([0.9, 0, 0]), 1);
  // [1.1, 0, 0]: 1.21 from a, 0.81 from b → b (raw L2, counting the dead channel's 25, would say a).
  assert.equal(at([1.1, 0, 0]), 2);
  // [1.5, 14, 0]: raw L2² puts it nearest a (198.25, against b's 221.25 and c's 258.25);
  // in spread units a 2.25 + 1.96 = 4.21, b 0.25 + 1.96 = 2.21, c 2.25 + 2.56 = 4.81 → b.
  assert.equal(at([1.5, 14, 0]), 2);
  // [0, 16, 0]: a 2.56, c 1.96 → c (index 0); raw L2 says c too. [0, 14, 1000]: the dead channel counts nothing → a (1.96 < c's 2.56).
  assert.equal(at([0, 16, 0]), 0);
  assert.equal(at([0, 14, 1000]), 1);
  // A class the rows vote for but the means do not know: no reader (the votes read the frame).
  assert.equal(classMeanReader(means, [...names, "d"], [...names, "d"]), undefined);
  // A mean of a class the bank has no name for is never read.
  assert.equal(classMeanReader(means, ["a", "b"], ["a", "b"])!(mapOf([[0], [30], [0]], 1, 1)), 0);
  assert.throws(() => read(mapOf([[0], [0]], 1, 1)), /2 channels, class means of 3/);
});

test("nearestMean against a brute-force nearest z-scored centroid", () => {
  const rng = createRng(11);
  const c = 6;
  const spread = Array.from({ length: c }, () => 0.2 + rng.next() * 3);
  const table = Array.from({ length: 7 }, (_, index) => ({ index, mean: Float64Array.from({ length: c }, () => rng.next() * 6 - 3) }));
  const weight = Float64Array.from(spread, (s) => 1 / (s * s));
  for (let trial = 0; trial < 200; trial++) {
    const q = Float32Array.from({ length: c }, () => rng.next() * 8 - 4);
    const z = (v: ArrayLike<number>) => Array.from(v, (x, j) => x / spread[j]!);
    const distances = table.map((t) => Math.hypot(...z(q).map((v, j) => v - z(t.mean)[j]!)));
    assert.equal(nearestMean(q, table, weight), distances.indexOf(Math.min(...distances)));
  }
  assert.equal(nearestMean(Float32Array.from([1]), [], Float64Array.from([1])), -1);
});

test("classMeansProblem: malformed class means are named", () => {
  const ok = { spread: [1, 2], classes: { a: { count: 2, mean: [0, 1] } } };
  assert.equal(classMeansProblem(ok, 2), undefined);
  assert.match(classMeansProblem(ok, 3)!, /spread of 2 channels, the features have 3/);
  assert.match(classMeansProblem({ ...ok, spread: [1, -1] }, 2)!, /finite number ≥ 0/);
  assert.match(classMeansProblem({ ...ok, classes: { a: { count: 0, mean: [0, 1] } } }, 2)!, /count 0/);
  assert.match(classMeansProblem({ ...ok, classes: { a: { count: 1, mean: [0] } } }, 2)!, /'a': 1 channels/);
  assert.match(classMeansProblem({ ...ok, classes: { a: { count: 1, mean: [0, Number.NaN] } } }, 2)!, /not a finite number/);
  assert.equal(classMeansProblem({ ...ok, classes: { a: { count: 2, mean: [0, 1], reach: 0.5 } } }, 2), undefined);
  assert.match(classMeansProblem({ ...ok, classes: { a: { count: 2, mean: [0, 1], reach: -1 } } }, 2)!, /'a': reach -1 is not a finite number ≥ 0/);
  assert.match(classMeansProblem({ ...ok, classes: { a: { count: 2, mean: [0, 1], reach: Number.POSITIVE_INFINITY } } }, 2)!, /reach Infinity/);
});

test("lookDistance: the root mean square over channels of the difference, each in its spread, a dead channel left out; by hand", () => {
  // Spread 1, 2 and 0 (dead): weights 1, 1/4, 0. Differences 3, 4, 100 → (9 + 16/4 + 0) / 3 = 13/3.
  const weight = Float64Array.from([1, 0.25, 0]);
  assert.ok(Math.abs(lookDistance(Float32Array.from([3, 4, 100]), [0, 0, 0], weight) - Math.sqrt(13 / 3)) < 1e-12);
  assert.equal(lookDistance(Float32Array.from([1, 2, 3]), [1, 2, 3], weight), 0);
});

test("withReach: each class's farthest frame, a frame in the mean measured from the mean without it (brute force); never narrower; too few frames keep what was", () => {
  const rng = createRng(11);
  const frame = () => Float32Array.from({ length: 4 }, () => rng.next() * 2 - 1);
  const fitted = Array.from({ length: 12 }, frame);
  const classes = fitted.map((_, i) => (i < 8 ? "plate" : "nut"));
  const base = classMeansOf(fitted, classes);
  const heldOut = Array.from({ length: 5 }, frame);
  const reached = withReach(base, [...fitted.map((mean, i) => ({ cls: classes[i]!, mean, inMean: true })), ...heldOut.map((mean) => ({ cls: "plate", mean, inMean: false }))]);
  const weight = Float64Array.from(base.spread, (s) => 1 / (s * s));
  // The slow reference: each fitted frame's distance from its class's mean recomputed without it; held-out frames from the mean as it is.
  const withoutIt = (i: number) => {
    const others = fitted.filter((_, j) => j !== i && classes[j] === classes[i]);
    return Array.from({ length: 4 }, (_, k) => others.reduce((a, f) => a + f[k]!, 0) / others.length);
  };
  const plate = Math.max(...fitted.flatMap((f, i) => (classes[i] === "plate" ? [lookDistance(f, withoutIt(i), weight)] : [])), ...heldOut.map((f) => lookDistance(f, base.classes.plate!.mean, weight)));
  assert.ok(Math.abs(reached.classes.plate!.reach! - plate) < 1e-9, `${reached.classes.plate!.reach} against ${plate}`);
  // The nut's 4 frames are fewer than MIN_REACH_FRAMES: no reach.
  assert.ok(MIN_REACH_FRAMES > 4);
  assert.equal(reached.classes.nut!.reach, undefined);
  assert.deepEqual(reached.spread, base.spread);
  assert.equal(reached.classes.plate!.count, 8);
  // Never narrower than a reach recorded before; frames of a class the means do not know are skipped.
  const wide = { ...reached, classes: { ...reached.classes, plate: { ...reached.classes.plate!, reach: 99 } } };
  assert.equal(withReach(wide, heldOut.map((mean) => ({ cls: "plate", mean, inMean: false }))).classes.plate!.reach, 99);
  assert.equal(withReach(reached, heldOut.map((mean) => ({ cls: "bolt", mean, inMean: false }))).classes.bolt, undefined);
  // withFrameMeans keeps each class's reach.
  assert.equal(withFrameMeans(reached, [{ cls: "plate", mean: frame() }]).classes.plate!.reach, reached.classes.plate!.reach);
});

test("lookRatioReader: a frame's look distance from its class's mean in that class's reach; undefined without reaches", () => {
  const means = { spread: [1, 2], classes: { a: { count: 3, mean: [0, 0], reach: 2 }, b: { count: 3, mean: [5, 5] } } };
  const ratio = lookRatioReader(means)!;
  // [2, 4] from a: (4 + 16/4) / 2 = 4 → distance 2, reach 2 → 1.
  assert.ok(Math.abs(ratio(mapOf([[2], [4]], 1, 1), "a")!.ratio - 1) < 1e-12);
  assert.equal(ratio(mapOf([[2], [4]], 1, 1), "a")!.light, undefined, "a has no light range");
  assert.equal(ratio(mapOf([[2], [4]], 1, 1), "b"), undefined, "b has no reach");
  assert.equal(ratio(mapOf([[2], [4]], 1, 1), "nut"), undefined, "no such class");
  assert.throws(() => ratio(mapOf([[2]], 1, 1), "a"), /1 channels, class means of 2/);
  assert.equal(lookRatioReader({ ...means, classes: { b: means.classes.b } }), undefined);
});

test("misreadings: per true class, the frames the means read as each other class", () => {
  const means = { spread: [1], classes: { kit: { count: 4, mean: [1] }, assembly: { count: 4, mean: [0] }, veneer: { count: 2, mean: [10] } } };
  const at = (v: number): FeatureMap => mapOf([[v]], 1, 1);
  // Kit frames at 0.2 and 0.4 read as the assembly, at 0.9 as kit; an assembly frame at 0.1 as itself; a veneer at 9 as itself.
  assert.deepEqual(misreadings(means, [at(0.2), at(0.9), at(0.4), at(0.1), at(9)], ["kit", "kit", "kit", "assembly", "veneer"]), { kit: { assembly: 2 } });
  assert.deepEqual(misreadings(means, [at(6), at(0.6)], ["assembly", "assembly"]), { assembly: { veneer: 1, kit: 1 } });
  assert.deepEqual(misreadings(means, [], []), {});
  assert.throws(() => misreadings(means, [at(0)], []), /1 frames for 0 classes/);
});

test("alikeClasses: a pair, both ways, when at least 2 and a tenth of one class's held-out normals read as the other", () => {
  // kit: 7 of 20 as assembly (alike); tiles: 1 of 70 as sheet (one stray) and 6 of 70 as veneer (under a tenth); nut: 2 of 10 as bolt.
  const misread = { kit: { assembly: 7 }, tiles: { sheet: 1, veneer: 6 }, nut: { bolt: 2 } };
  assert.deepEqual(alikeClasses(misread, { kit: 20, tiles: 70, nut: 10 }), { assembly: ["kit"], bolt: ["nut"], kit: ["assembly"], nut: ["bolt"] });
  // 7 of 80 is under a tenth.
  assert.deepEqual(alikeClasses({ kit: { assembly: 7 } }, { kit: 80 }), {});
  assert.deepEqual(alikeClasses({}, {}), {});
});

test("withAlike: the pairs the means confuse on the frames given, in place of those recorded; none, no key", () => {
  const means = { spread: [1], classes: { kit: { count: 4, mean: [1] }, assembly: { count: 4, mean: [0] }, veneer: { count: 2, mean: [10] } }, alike: { veneer: ["kit"], kit: ["veneer"] } };
  const at = (v: number): FeatureMap => mapOf([[v]], 1, 1);
  // 2 of 3 kit frames read as the assembly; the assembly's and veneer's read right.
  const frames = [at(0.2), at(0.4), at(0.9), at(0), at(10)];
  const classes = ["kit", "kit", "kit", "assembly", "veneer"];
  const got = withAlike(means, misreadings(means, frames, classes), classes);
  assert.deepEqual(got.alike, { assembly: ["kit"], kit: ["assembly"] });
  assert.deepEqual(got.classes, means.classes);
  assert.equal("alike" in withAlike(means, misreadings(means, [at(0.9), at(0)], ["kit", "assembly"]), ["kit", "assembly"]), false);
  // A refresh's running means keep the pairs they had.
  assert.deepEqual(withFrameMeans(got, [{ cls: "kit", mean: Float32Array.from([1]) }]).alike, got.alike);
  assert.match(classMeansProblem({ ...means, alike: { kit: "assembly" } as unknown as Record<string, string[]> }, 1)!, /alike with 'kit' are not a list/);
});

test("lightRatio: the farthest channel from the range's middle in half its width, never under MIN_LIGHT_HALF_WIDTH; by hand", () => {
  assert.equal(MIN_LIGHT_HALF_WIDTH, 12);
  // r 100–140 (middle 120, half 20), g 50–54 (half 2 → 12), b 0–100 (half 50).
  const range = { lo: [100, 50, 0], hi: [140, 54, 100] };
  assert.equal(lightRatio([120, 52, 50], range), 0);
  assert.equal(lightRatio([140, 52, 50], range), 1, "r at the range's top");
  assert.equal(lightRatio([120, 76, 50], range), 2, "g 24 levels over its middle, in 12");
  assert.equal(lightRatio([180, 52, 0], range), 3, "r 60 over its middle in 20, b at its bottom (1)");
  assert.throws(() => lightRatio([1, 2], range), /2 channels, a class's range of 3/);
});

test("widenedLight: the union of a range and more lights; none keeps the range", () => {
  assert.deepEqual(widenedLight(undefined, [[10, 20, 30], [5, 25, 30]]), { lo: [5, 20, 30], hi: [10, 25, 30] });
  assert.deepEqual(widenedLight({ lo: [0, 0, 0], hi: [8, 8, 8] }, [[4, 9, 4]]), { lo: [0, 0, 0], hi: [8, 9, 8] });
  assert.deepEqual(widenedLight({ lo: [1, 1, 1], hi: [2, 2, 2] }, []), { lo: [1, 1, 1], hi: [2, 2, 2] });
  assert.equal(widenedLight(undefined, []), undefined);
  assert.throws(() => widenedLight(undefined, [[1, 2, 3], [1, 2]]), /2 channels, 3 expected/);
});

test("withReach: each class's light range over its frames' lights, never narrower; too few lit frames keep what was; withFrameMeans keeps it", () => {
  const means = { spread: [1], classes: { a: { count: 10, mean: [0] }, b: { count: 10, mean: [5] } } };
  const lit = (cls: string, light: number[] | undefined) => ({ cls, mean: Float32Array.from([0]), inMean: false, light });
  const frames = [10, 20, 30, 40, 50].map((v) => lit("a", [v, v + 1, v + 2]));
  const a = withReach(means, frames).classes.a!;
  assert.deepEqual(a.light, { lo: [10, 11, 12], hi: [50, 51, 52] });
  // Four lit frames of b (and one without a light) are too few for a range; the reach still counts five.
  const b = withReach(means, [...[1, 2, 3, 4].map((v) => lit("b", [v, v, v])), lit("b", undefined)]).classes.b!;
  assert.equal(b.light, undefined);
  assert.ok(b.reach !== undefined);
  // A later measurement widens and never narrows.
  const again = withReach(withReach(means, frames), [20, 21, 22, 23, 60].map((v) => lit("a", [v, v, v]))).classes.a!;
  assert.deepEqual(again.light, { lo: [10, 11, 12], hi: [60, 60, 60] });
  assert.deepEqual(withFrameMeans(withReach(means, frames), [{ cls: "a", mean: Float32Array.from([1]) }]).classes.a!.light, a.light);
  // The reader: a class with a light range and no reach is gated by its light alone.
  const reader = lookRatioReader({ spread: [1], classes: { a: { count: 10, mean: [0], light: a.light! } } })!;
  const x = { ...mapOf([[0]], 1, 1), light: [90, 31, 32] };
  assert.deepEqual(reader(x, "a"), { ratio: 3, light: 3 }, "r 60 over the middle 30, in half 20");
  assert.deepEqual(reader(mapOf([[0]], 1, 1), "a"), { ratio: 0 }, "a frame without a light: no light ratio");
});

test("classMeansProblem: a malformed light range is named", () => {
  const ok = { spread: [1], classes: { a: { count: 2, mean: [0], light: { lo: [0, 0, 0], hi: [255, 1, 2] } } } };
  assert.equal(classMeansProblem(ok, 1), undefined);
  const bad = (light: unknown) => classMeansProblem({ spread: [1], classes: { a: { count: 2, mean: [0], light } } } as never, 1);
  assert.match(bad({ lo: [0, 0], hi: [1, 1] })!, /not 3 lows and 3 highs/);
  assert.match(bad({ lo: [0, 0, 3], hi: [1, 1, 2] })!, /low above its high/);
  assert.match(bad({ lo: [0, 0, 0], hi: [1, 1, 256] })!, /outside \[0, 255\]/);
  assert.match(bad({ lo: [0, 0, Number.NaN], hi: [1, 1, 1] })!, /outside/);
});
