import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { holdoutClasses, holdoutFramesOf } from "../../../src/image/pseudo/holdout.js";
import { LafiteError } from "../../../src/util/errors.js";

test("held-out files are grouped by their class folder and resolved against the data set", () => {
  const classes = holdoutClasses(["nut/train/good/005.png", "fabric/train/good/001.png", "nut/train/good/015.png"], "/data");
  assert.deepEqual(classes, [
    { name: "nut", images: [path.join("/data", "nut/train/good/005.png"), path.join("/data", "nut/train/good/015.png")] },
    { name: "fabric", images: [path.join("/data", "fabric/train/good/001.png")] },
  ]);
});

test("a bundle without held-out files, or with paths leaving the data set, is refused", () => {
  const badBundle = (err: unknown) => err instanceof LafiteError && err.code === "BAD_BUNDLE";
  assert.throws(() => holdoutClasses(undefined, "/data"), badBundle);
  assert.throws(() => holdoutClasses([], "/data"), /no held-out/);
  assert.throws(() => holdoutClasses(["../etc/passwd"], "/data"), badBundle);
  assert.throws(() => holdoutClasses(["loose.png"], "/data"), badBundle);
});

test("holdoutFramesOf: one class's held-out frames; none where the bundle records none of them; a path leaving the data set still refused", () => {
  const files = ["nut/train/good/005.png", "fabric/train/good/001.png", "nut/train/good/015.png"];
  assert.deepEqual(holdoutFramesOf(files, "/data", "nut"), [path.join("/data", "nut/train/good/005.png"), path.join("/data", "nut/train/good/015.png")]);
  assert.deepEqual(holdoutFramesOf(files, "/data", "bolt"), []);
  assert.deepEqual(holdoutFramesOf(undefined, "/data", "nut"), []);
  assert.deepEqual(holdoutFramesOf([], "/data", "nut"), []);
  assert.throws(() => holdoutFramesOf(["../etc/passwd"], "/data", "nut"), (err: unknown) => err instanceof LafiteError && err.code === "BAD_BUNDLE");
});
