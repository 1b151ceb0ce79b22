import { test } from "node:test";
import assert from "node:assert/strict";
import { frameIsNg, isNg, looksAlike, readAsAnotherClass } from "../../src/pipeline/class-tag.js";

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

test("frameIsNg: NG by its score, by being like no class, or by a tag its reading contradicts (as isNg rules)", () => {
  const alike = { kit: ["assembly"], assembly: ["kit"] };
  assert.equal(frameIsNg({ class: "kit", judgedAs: "kit" }, false, "ng", alike), false);
  assert.equal(frameIsNg({ class: "kit", judgedAs: "kit" }, true, "ng", alike), true);
  assert.equal(frameIsNg({ class: "kit", judgedAs: "kit", unlike: true }, false, "judge", alike), true, "unlike: NG whatever its score");
  assert.equal(frameIsNg({ class: "kit", judgedAs: "kit", unlike: false }, false, "judge", alike), false);
  assert.equal(frameIsNg({ class: "assembly", judgedAs: "kit" }, false, "ng", alike), true);
  assert.equal(frameIsNg({ class: "assembly", judgedAs: "kit" }, false, "distinct", alike), false, "alike classes: by the score");
  assert.equal(frameIsNg({ class: "assembly", judgedAs: "kit" }, false, "distinct", undefined), true, "no alike classes known");
  assert.equal(frameIsNg({ class: "assembly", judgedAs: "kit" }, false, "judge", alike), false);
});
