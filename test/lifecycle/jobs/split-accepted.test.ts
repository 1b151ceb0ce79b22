import { test } from "node:test";
import assert from "node:assert/strict";
import { splitAccepted } from "../../../src/lifecycle/jobs/split-accepted.js";
import { holdoutIndices } from "../../../src/pipeline/fit.js";
import type { AcceptedFrame } from "../../../src/lifecycle/jobs/types.js";

test("accepted frames are held out by fit's rule within each class tag, and every frame lands on exactly one side", () => {
  const frames = [
    ...Array.from({ length: 10 }, (_, i) => ({ frame: { path: `a${i}`, sha256: `a${i}`, classTag: "a" } })),
    ...Array.from({ length: 3 }, (_, i) => ({ frame: { path: `b${i}`, sha256: `b${i}`, classTag: "b" } })),
    ...Array.from({ length: 8 }, (_, i) => ({ frame: { path: `u${i}`, sha256: `u${i}` } })),
  ];
  const { learn, holdout } = splitAccepted(frames, 0.25);
  assert.equal(learn.length + holdout.length, frames.length);
  assert.equal(new Set([...learn, ...holdout]).size, frames.length);
  const heldOf = (p: string) => holdout.filter((h) => h.frame.path.startsWith(p)).map((h) => Number(h.frame.path.slice(1)));
  assert.deepEqual(heldOf("a"), [...holdoutIndices(10, 0.25)]);
  assert.deepEqual(heldOf("b"), [], "fewer than 4 frames of a class: none held out, as in fit");
  assert.deepEqual(heldOf("u"), [...holdoutIndices(8, 0.25)], "untagged frames form one group");
});

test("with classOf, untagged frames are held out within the class they read as, beside that class's tagged frames", () => {
  // Four tagged a, three untagged that read as a, five untagged read as b: a's group holds 7, b's 5.
  type Item = { frame: AcceptedFrame; readAs?: string };
  const frames: Item[] = [
    ...Array.from({ length: 4 }, (_, i) => ({ frame: { path: `a${i}`, sha256: `a${i}`, classTag: "a" } })),
    ...Array.from({ length: 3 }, (_, i) => ({ frame: { path: `r${i}`, sha256: `r${i}` }, readAs: "a" })),
    ...Array.from({ length: 5 }, (_, i) => ({ frame: { path: `s${i}`, sha256: `s${i}` }, readAs: "b" })),
  ];
  const classOf = (it: Item) => it.frame.classTag ?? it.readAs;
  const { learn, holdout } = splitAccepted(frames, 0.25, classOf);
  assert.equal(learn.length + holdout.length, frames.length);
  assert.deepEqual(holdout.filter((h) => classOf(h) === "a"), [...holdoutIndices(7, 0.25)].map((i) => frames[i]));
  assert.deepEqual(holdout.filter((h) => classOf(h) === "b"), [...holdoutIndices(5, 0.25)].map((i) => frames[7 + i]));
  // By tag alone the same frames split otherwise: the eight untagged ones form one group.
  const byTag = splitAccepted(frames, 0.25).holdout;
  assert.notDeepEqual(byTag, holdout);
});
