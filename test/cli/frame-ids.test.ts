/**
 * lafite detect's frame ids: unique ids are kept, clashing ones grow by
 * their folders until they name one file, the same file twice gets #2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { uniqueFrameIds } from "../../src/cli/frame-ids.js";

test("ids that name one file stay as they are", () => {
  const files = [
    { path: "/data/nut/test/good/000.png", id: "000.png" },
    { path: "/data/nut/test/good/001.png", id: "001.png" },
    { path: "/data/plate/test/crack/000.png", id: "crack/000.png" },
  ];
  assert.deepEqual(uniqueFrameIds(files), files);
});

test("files of one name from several folders grow by as many folders as tell them apart", () => {
  const ids = uniqueFrameIds([
    { path: "/data/nut/test/good/000.png", id: "000.png" },
    { path: "/data/nut/test/crack/000.png", id: "000.png" },
    { path: "/data/plate/test/good/000.png", id: "000.png" },
    { path: "/data/nut/test/good/001.png", id: "001.png" },
  ]).map((f) => f.id);
  // nut's good and plate's good still clash at one folder: they need their class's.
  assert.deepEqual(ids, ["nut/test/good/000.png", "crack/000.png", "plate/test/good/000.png", "001.png"]);
  // Two folders given whole, each with the same layout: the ids relative to them clash and grow by the folder's name.
  const dirs = uniqueFrameIds([
    { path: "/line/a/good/000.png", id: "good/000.png" },
    { path: "/line/b/good/000.png", id: "good/000.png" },
  ]).map((f) => f.id);
  assert.deepEqual(dirs, ["a/good/000.png", "b/good/000.png"]);
});

test("the same file given twice keeps its id, the second time marked #2; the paths are kept", () => {
  const f = { path: "frames/000.png", id: "000.png" };
  const out = uniqueFrameIds([f, { path: path.resolve("frames/000.png"), id: "000.png" }, { path: "other/000.png", id: "000.png" }]);
  assert.deepEqual(out.map((o) => o.id), ["frames/000.png", "frames/000.png#2", "other/000.png"]);
  assert.deepEqual(out.map((o) => o.path), ["frames/000.png", path.resolve("frames/000.png"), "other/000.png"]);
  assert.equal(new Set(out.map((o) => o.id)).size, 3);
});
