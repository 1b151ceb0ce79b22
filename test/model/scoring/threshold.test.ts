import { test } from "node:test";
import assert from "node:assert/strict";
import { calibrateThreshold, f1OptimalThreshold, falseAlarmThreshold, normalQuantile, quantile, classThresholds, classesOnModelThreshold, withClassThresholds } from "../../../src/model/scoring/threshold.js";
import { describeModelThresholdClasses } from "../../../src/pipeline/tune/calibrate.js";

test("quantile interpolates linearly between order statistics", () => {
  assert.equal(quantile([3, 1, 2, 4], 0), 1);
  assert.equal(quantile([3, 1, 2, 4], 1), 4);
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([0, 10], 0.99) - 9.9) < 1e-12);
});

test("F1-optimal threshold: hand-computed case, threshold midway between the scores it separates", () => {
  // normals 1 2 3 6, anomalies 4 5 7. Cut below 4 (t=3.5): tp 3, fp 1 → P .75 R 1 F1 .857;
  // below 7 (t=6.5): tp 1, fp 0 → F1 .5; below 5 (t=4.5... with 6 above): tp 2 fp 1 → .667.
  const best = f1OptimalThreshold([1, 2, 3, 6], [4, 5, 7]);
  assert.equal(best.value, 3.5);
  assert.ok(Math.abs(best.f1 - 6 / 7) < 1e-12);
  assert.equal(best.precision, 0.75);
  assert.equal(best.recall, 1);
});

test("F1-optimal threshold: perfect separation, equal F1 ties go to the higher threshold, tied scores move together", () => {
  assert.equal(f1OptimalThreshold([1, 2], [5, 6]).value, 3.5);
  // Scores tied across labels cannot be split: {3 normal, 3 anomaly} fall on the same side.
  const t = f1OptimalThreshold([1, 3], [3, 9]);
  assert.ok(t.value === 6 || t.value === 2, `threshold ${t.value}`);
  // t=6: tp1 fp0 → F1 2/3; t=2: tp2 fp1 → P 2/3 R 1 → F1 .8
  assert.equal(t.value, 2);
  // Lowest candidate sits just below the lowest score.
  const low = f1OptimalThreshold([], [5]);
  assert.ok(low.value < 5 && low.value > 4.99, `${low.value}`);
});

test("normal quantile function matches tabulated values", () => {
  assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-8);
  assert.ok(Math.abs(normalQuantile(0.995) - 2.5758293035489) < 1e-8);
  assert.ok(Math.abs(normalQuantile(0.01) + 2.326347874040841) < 1e-8);
});

test("false-alarm threshold: log-normal tail beyond the empirical quantile when normals are few", () => {
  // logs of e^0, e^1, e^2 → mean 1, sample sd 1; rate 0.005 → e^(1 + 2.5758) ≈ 35.73
  const r = falseAlarmThreshold([1, Math.E, Math.E ** 2], 0.005);
  assert.ok(Math.abs(r.lognormal - Math.exp(1 + 2.5758293035489)) < 1e-6, `${r.lognormal}`);
  assert.ok(Math.abs(r.empirical - quantile([1, Math.E, Math.E ** 2], 0.995)) < 1e-12);
  assert.equal(r.value, r.lognormal);
  // With the tail inside the data, the empirical quantile can be the higher one.
  const many = Array.from({ length: 1000 }, (_, i) => (i === 999 ? 1000 : 1 + (i % 3)));
  const m = falseAlarmThreshold(many, 0.005);
  assert.equal(m.value, Math.max(m.empirical, m.lognormal));
});

test("calibrateThreshold records the rule, the method and the verdict figures on the pseudo set", () => {
  const normals = [1, 2, 3, 6];
  const anomalies = [4, 5, 7];
  const q = calibrateThreshold({ rule: "normal-quantile", quantile: 0.5, falseAlarmRate: 0.005 }, normals, anomalies);
  assert.equal(q.value, 2.5);
  assert.equal(q.rule, "normal-quantile");
  assert.deepEqual(q.holdoutScores, { min: 1, median: 2.5, max: 6 });
  assert.equal(q.pseudo!.recall, 1);
  assert.equal(q.pseudo!.falseAlarmRate, 0.5);
  const f = calibrateThreshold({ rule: "pseudo-f1", quantile: 0.99, falseAlarmRate: 0.005 }, normals, anomalies);
  assert.equal(f.value, 3.5);
  assert.equal(f.pseudo!.falseAlarmRate, 0.25);
  assert.throws(() => calibrateThreshold({ rule: "pseudo-f1", quantile: 0.99, falseAlarmRate: 0.005 }, normals, []), /pseudo-validation set/);
  const far = calibrateThreshold({ rule: "false-alarm-rate", quantile: 0.99, falseAlarmRate: 0.005 }, normals);
  assert.ok(far.value >= 6 && far.pseudo === undefined);
});

test("classThresholds: each class with enough normals gets the rule over its own scores; the rest keep the model's", () => {
  const params = { rule: "normal-quantile" as const, quantile: 0.5, falseAlarmRate: 0.005, perClass: true, minClassNormals: 3 };
  const samples = [
    // "low": normals 1, 2, 3 → median 2. "high": normals 10, 20, 30, 40 → median 25. "few": two normals only.
    ...[1, 2, 3].map((score) => ({ cls: "low", anomalous: false, score })),
    ...[40, 10, 30, 20].map((score) => ({ cls: "high", anomalous: false, score })),
    ...[5, 6].map((score) => ({ cls: "few", anomalous: false, score })),
    { cls: "low", anomalous: true, score: 9 },
  ];
  const t = classThresholds(params, samples)!;
  assert.deepEqual(Object.keys(t), ["high", "low"]);
  assert.equal(t.low!.value, 2);
  assert.equal(t.low!.holdoutImages, 3);
  // Its one anomaly (9 > 2) is caught, and one normal of three (3) is a false alarm.
  assert.deepEqual(t.low!.pseudo, { anomalies: 1, f1: 2 / 3, precision: 0.5, recall: 1, falseAlarmRate: 1 / 3 });
  assert.equal(t.high!.value, 25);
  assert.equal(t.high!.pseudo, undefined);
  // pseudo-f1 needs a class's own anomalies: only "low" has one (F1-optimal between 3 and 9).
  assert.deepEqual(Object.keys(classThresholds({ ...params, rule: "pseudo-f1" }, samples)!), ["low"]);
  assert.equal(classThresholds({ ...params, rule: "pseudo-f1" }, samples)!.low!.value, 6);
  // A quantile per class is guarded by the log-normal tail: 3 normals cannot place a 1 % tail (empirically 2.98 here).
  assert.equal(classThresholds({ ...params, quantile: 0.99 }, samples)!.low!.value, falseAlarmThreshold([1, 2, 3], 0.01).value);
  assert.ok(classThresholds({ ...params, quantile: 0.99 }, samples)!.low!.value > 6.6);
  // No class with enough normals: none.
  assert.equal(classThresholds({ ...params, minClassNormals: 5 }, samples), undefined);
  // withClassThresholds adds them only when asked for.
  const base = calibrateThreshold(params, samples.filter((s) => !s.anomalous).map((s) => s.score));
  assert.equal(withClassThresholds({ ...params, perClass: false }, "knn", base, samples), base);
  assert.deepEqual(withClassThresholds(params, "knn", base, samples).classes, t);
  assert.equal(withClassThresholds(params, "lafite", base, samples).value, base.value);
  // no-edit does not search the bank, so it cannot read a frame's class: no per-class thresholds.
  assert.equal(withClassThresholds(params, "no-edit", base, samples), base);
  // The class left on the model's threshold is named with its normal count, for the log.
  const served = withClassThresholds(params, "knn", base, samples);
  assert.deepEqual(classesOnModelThreshold(params, "knn", served, samples), [{ cls: "few", normals: 2 }]);
  assert.equal(describeModelThresholdClasses(params, classesOnModelThreshold(params, "knn", served, samples)), "; on the model's threshold (under threshold.minClassNormals 3): few (2 held-out normals)");
  assert.deepEqual(classesOnModelThreshold({ ...params, minClassNormals: 5 }, "knn", base, samples), [{ cls: "few", normals: 2 }, { cls: "high", normals: 4 }, { cls: "low", normals: 3 }]);
  assert.deepEqual(classesOnModelThreshold({ ...params, perClass: false }, "knn", base, samples), []);
  assert.deepEqual(classesOnModelThreshold(params, "no-edit", base, samples), []);
  assert.equal(describeModelThresholdClasses(params, []), "");
});
