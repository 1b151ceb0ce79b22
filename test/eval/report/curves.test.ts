import { test } from "node:test";
import assert from "node:assert/strict";
import { exactGroups } from "../../../src/measures/metrics.js";
import { cutAt, prPoints, rocPoints, thinCurve } from "../../../src/eval/report/curves.js";

test("ROC and PR points by hand, a tie making one diagonal step", () => {
  // Scores 0.9(+) 0.8(−) 0.5(+) 0.5(−) 0.1(−): P = 2, N = 3.
  const g = exactGroups([0.9, 0.8, 0.5, 0.5, 0.1], [1, 0, 1, 0, 0], "test");
  assert.deepEqual(rocPoints(g), [
    { x: 0, y: 0 },
    { x: 0, y: 0.5 },
    { x: 1 / 3, y: 0.5 },
    { x: 2 / 3, y: 1 },
    { x: 1, y: 1 },
  ]);
  assert.deepEqual(prPoints(g), [
    { x: 0, y: 1 },
    { x: 0.5, y: 1 },
    { x: 0.5, y: 0.5 },
    { x: 1, y: 0.5 },
    { x: 1, y: 0.4 },
  ]);
});

test("thinCurve keeps the ends and drops points closer than the step to the last kept one", () => {
  const pts = [0, 0.001, 0.002, 0.05, 0.051, 0.2, 0.2005].map((x) => ({ x, y: x }));
  assert.deepEqual(thinCurve(pts, 0.01).map((p) => p.x), [0, 0.05, 0.2, 0.2005]);
  assert.deepEqual(thinCurve(pts.slice(0, 2), 0.01).length, 2);
});

test("cutAt ends a curve exactly at the limit, y interpolated on the crossing segment", () => {
  const pts = [{ x: 0, y: 0 }, { x: 0.2, y: 0.5 }, { x: 0.4, y: 1 }, { x: 1, y: 1 }];
  assert.deepEqual(cutAt(pts, 0.3), [{ x: 0, y: 0 }, { x: 0.2, y: 0.5 }, { x: 0.3, y: 0.75 }]);
  assert.deepEqual(cutAt(pts, 0.2), pts.slice(0, 2));
});
