import { test } from "node:test";
import assert from "node:assert/strict";
import { classOfVotes, classVotes, frameClass, UNTAGGED, votingClasses } from "../../../src/model/memory/row-classes.js";

test("frameClass: the class most positions' nearest rows belong to; ties to the lower index; unknown rows do not vote", () => {
  // Rows 0–3 are class 1, rows 4–5 class 0, row 6 class 2.
  const rowClass = Int32Array.from([1, 1, 1, 1, 0, 0, 2]);
  assert.equal(frameClass(Int32Array.from([0, 1, 4, 2]), rowClass, 3), 1); // 3 votes for 1, 1 for 0
  assert.equal(frameClass(Int32Array.from([4, 5, 6, 0]), rowClass, 3), 0); // 0 twice
  assert.equal(frameClass(Int32Array.from([4, 0]), rowClass, 3), 0); // a tie: the lower index
  assert.equal(frameClass(Int32Array.from([6, 0]), rowClass, 3), 1);
  // A row past the bank, a negative index, or a class past the table cast no vote.
  assert.equal(frameClass(Int32Array.from([99, -1, 6]), rowClass, 3), 2);
  assert.equal(frameClass(Int32Array.from([6, 6, 4]), rowClass, 2), 0);
  assert.equal(frameClass(Int32Array.from([]), rowClass, 3), -1);
  assert.equal(frameClass(Int32Array.from([99]), rowClass, 3), -1);
  // The votes themselves, as classShares reports them: rows out of range do not vote.
  assert.deepEqual([...classVotes(Int32Array.from([0, 1, 4, 2, 99]), rowClass, 3)], [1, 3, 0]);
  assert.equal(classOfVotes(Int32Array.from([0, 0, 0])), -1);
});

test("votingClasses: rows added from untagged frames cast no vote, so a refreshed class is still read as itself", () => {
  const rc = { classes: Int32Array.from([0, 0, 1, 2, 2, 2]), names: ["nut", "plate", UNTAGGED] };
  assert.deepEqual([...votingClasses(rc)], [0, 0, 1, -1, -1, -1]);
  // Three nearest rows untagged, one a nut's: the frame is a nut, not "(untagged)".
  assert.equal(frameClass(Int32Array.from([3, 4, 5, 0]), votingClasses(rc), rc.names.length), 0);
  assert.equal(frameClass(Int32Array.from([3, 4, 5, 0]), rc.classes, rc.names.length), 2);
  // No untagged class: the table as it is.
  const plain = { classes: Int32Array.from([1, 0]), names: ["a", "b"] };
  assert.equal(votingClasses(plain), plain.classes);
});

test("frameClass with a grid: only the cells that show the frame vote, so a letterbox border cannot outvote the frame", () => {
  // A 4×4 grid whose middle 2 columns show a narrow frame of class 1; the border columns find class-0 rows (0, 1).
  const rowClass = Int32Array.from([0, 0, 1, 1]);
  const nearest = Int32Array.from([0, 2, 3, 1, 0, 2, 2, 1, 1, 3, 2, 0, 0, 2, 3, 1]);
  assert.equal(frameClass(nearest, rowClass, 2), 0); // every cell: 8 border votes for 0 beat 8 for 1 on the tie rule
  const frame = { x0: 1, y0: 0, x1: 3, y1: 4 };
  assert.equal(frameClass(nearest, rowClass, 2, { w: 4, frame }), 1);
  // No frame rectangle: every cell votes, as without a grid.
  assert.equal(frameClass(nearest, rowClass, 2, { w: 4 }), 0);
  // A rectangle whose cells all find rows of no class: no vote.
  assert.equal(frameClass(Int32Array.from([9, 9, 9, 9]), rowClass, 2, { w: 2, frame: { x0: 0, y0: 0, x1: 1, y1: 2 } }), -1);
});
