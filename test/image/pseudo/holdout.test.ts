import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { holdoutClasses } from "../../../src/image/pseudo/holdout.js";
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
