import { test } from "node:test";
import assert from "node:assert/strict";
import { isNg, looksAlike, readAsAnotherClass } from "../../src/pipeline/class-tag.js";

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

test("distinct rejects a frame read as another class unless the two look alike to the model; then its score decides", () => {
  for (const anomalous of [false, true]) {
    for (const another of [false, true]) {
      // Not alike: as ng. Alike: as judge.
      assert.equal(isNg(anomalous, another, "distinct", false), isNg(anomalous, another, "ng"), `distinct ${anomalous} ${another}`);
      assert.equal(isNg(anomalous, another, "distinct", true), isNg(anomalous, another, "judge"), `distinct alike ${anomalous} ${another}`);
      // ng and judge do not look at the pair.
      assert.equal(isNg(anomalous, another, "ng", true), isNg(anomalous, another, "ng", false));
      assert.equal(isNg(anomalous, another, "judge", true), isNg(anomalous, another, "judge", false));
    }
  }
  const alike = { kit: ["assembly"], assembly: ["kit"] };
  assert.equal(looksAlike(alike, { class: "assembly", judgedAs: "kit" }), true);
  assert.equal(looksAlike(alike, { class: "kit", judgedAs: "assembly" }), true);
  assert.equal(looksAlike(alike, { class: "veneer", judgedAs: "kit" }), false);
  assert.equal(looksAlike(alike, { class: "kit", judgedAs: "kit" }), false);
  assert.equal(looksAlike(alike, { class: "kit" }), false);
  assert.equal(looksAlike(undefined, { class: "assembly", judgedAs: "kit" }), false);
});
