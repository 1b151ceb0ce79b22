import { test } from "node:test";
import assert from "node:assert/strict";
import { isNg, readAsAnotherClass } from "../../src/pipeline/class-tag.js";

test("a frame is read as another class only when both its tag's class and its read class are known and differ", () => {
  assert.equal(readAsAnotherClass({ class: "plate", judgedAs: "nut" }), true);
  assert.equal(readAsAnotherClass({ class: "plate", judgedAs: "plate" }), false);
  assert.equal(readAsAnotherClass({ class: "plate" }), false); // no class judged by (no row classes)
  assert.equal(readAsAnotherClass({ judgedAs: "nut" }), false); // nothing read
  assert.equal(readAsAnotherClass({}), false);
  // A DetectResponse leaves an unset class empty: empty is none.
  assert.equal(readAsAnotherClass({ class: "", judgedAs: "nut" }), false);
  assert.equal(readAsAnotherClass({ class: "plate", judgedAs: "" }), false);
});

test("ng rejects a frame read as another class whatever its score; judge leaves the verdict to the score", () => {
  const table: [anomalous: boolean, another: boolean, ng: boolean, judge: boolean][] = [
    [false, false, false, false],
    [true, false, true, true],
    [false, true, true, false],
    [true, true, true, true],
  ];
  for (const [anomalous, another, ng, judge] of table) {
    assert.equal(isNg(anomalous, another, "ng"), ng, `ng ${anomalous} ${another}`);
    assert.equal(isNg(anomalous, another, "judge"), judge, `judge ${anomalous} ${another}`);
  }
});
