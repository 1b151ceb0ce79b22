import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseAutoTiling, describeAutoTiling, medianLongSide } from "../../src/pipeline/tiling/auto-tiling.js";

const rule = { autoScale: 3, autoTiles: 500, grid: "auto" as const };
const nut = { name: "nut", longSides: [256, 256, 256], bankFrames: 230, heldOutFrames: 20 }; // 1.14× the input: small frames (grid 2, 920 tiles)
const sheet = { name: "sheet", longSides: [1024, 1024, 1024], bankFrames: 23, heldOutFrames: 2 }; // 4.57×, grid 4: 368 tiles
const tall = { name: "tall", longSides: [800, 800], bankFrames: 230, heldOutFrames: 20 }; // 3.57×, grid 3: 2,070 tiles
const plate = { name: "plate", longSides: [720, 680, 700], bankFrames: 14, heldOutFrames: 2 }; // lower median 700: 3.125×, grid 3: 126 tiles
const roll = { name: "roll", longSides: [672], bankFrames: 1, heldOutFrames: 1 }; // exactly 3×, grid 3: 9 tiles

const row = (v: ReturnType<typeof chooseAutoTiling>[number]) => [v.name, v.grid, v.tiles, v.chosen, v.reason ?? null];

test("auto tiling: classes whose median long side is at least autoScale × the input, within the tile budget; small frames never", () => {
  // Fewest tiles first: plate 126, then sheet (126 + 368 = 494 ≤ 500); tall's 2,070 would pass the budget.
  assert.deepEqual(chooseAutoTiling([nut, sheet, tall, plate], 224, rule).map(row), [
    ["nut", 2, 920, false, "small frames"],
    ["sheet", 4, 368, true, null],
    ["tall", 3, 2070, false, "over the tile budget"],
    ["plate", 3, 126, true, null],
  ]);
});

test("auto tiling spends the budget on the classes with the fewest tiles: 9 + 126 leave 365, under the sheet's 368", () => {
  assert.deepEqual(chooseAutoTiling([sheet, plate, roll], 224, rule).map(row), [
    ["sheet", 4, 368, false, "over the tile budget"],
    ["plate", 3, 126, true, null],
    ["roll", 3, 9, true, null],
  ]);
  // A fixed tiling.grid counts the tiles the fit will cut: 2×2 makes the sheet 92 tiles, and all three fit in 500.
  assert.deepEqual(chooseAutoTiling([sheet, plate, roll], 224, { ...rule, grid: 2 }).map((v) => [v.grid, v.tiles, v.chosen]), [[2, 92, true], [2, 56, true], [2, 4, true]]);
  // A larger budget takes it too; autoScale above the sheet's 4.57 leaves every class whole; a budget of 0 tiles nothing.
  assert.deepEqual(chooseAutoTiling([sheet, plate, roll], 224, { ...rule, autoTiles: 503 }).map((v) => v.chosen), [true, true, true]);
  assert.deepEqual(chooseAutoTiling([sheet, plate, roll], 224, { ...rule, autoScale: 4.6, autoTiles: 10_000 }).map((v) => v.reason), ["small frames", "small frames", "small frames"]);
  assert.deepEqual(chooseAutoTiling([sheet, plate, roll], 224, { ...rule, autoTiles: 0 }).map((v) => v.chosen), [false, false, false]);
});

test("auto tiling: a class whose frames could not be read is left out; the log names the choice and what the budget left out", () => {
  const verdicts = chooseAutoTiling([{ name: "gone", longSides: [], bankFrames: 5, heldOutFrames: 1 }, sheet, tall], 224, rule);
  assert.deepEqual(verdicts.map((v) => v.name), ["sheet", "tall"]);
  assert.equal(
    describeAutoTiling(verdicts, rule),
    "fit: tiling.classes auto (classes whose frames are at least 3× the input, within 500 bank tiles): tiles for sheet (frames 4.6× the input, 4×4, 368 bank tiles); over the budget of 500 tiles: tall (2070) (name it in tiling.classes to tile it)",
  );
  assert.equal(medianLongSide([5, 1, 9, 7]), 5, "the lower median");
  assert.throws(() => medianLongSide([]), RangeError);
});

test("auto tiling passes over a class with no held-out frame (its tiles' frame threshold could not be measured), and the log says so", () => {
  const few = { name: "few", longSides: [1024, 1024], bankFrames: 2, heldOutFrames: 0 };
  const verdicts = chooseAutoTiling([few, sheet], 224, rule);
  assert.deepEqual(verdicts.map(row), [
    ["few", 4, 32, false, "no held-out frame"],
    ["sheet", 4, 368, true, null],
  ]);
  assert.match(describeAutoTiling(verdicts, rule), /; too few frames to hold one out and measure its tiles on: few$/);
});

test("a class the auto rule chose whose tiles fail is served whole with the reason logged; a named class's failure, and a cancellation, fail the fit", async () => {
  const { orServedWhole } = await import("../../src/pipeline/tiling/fit-tiles.js");
  const { ErrorCode, LafiteError } = await import("../../src/util/errors.js");
  const logged: string[] = [];
  const boom = async () => {
    throw new LafiteError(ErrorCode.BAD_DATASET, "no frame decodes");
  };
  await orServedWhole("sheet", true, (m) => logged.push(m), boom);
  assert.deepEqual(logged, ["fit: sheet: its tiles could not be fitted, so it is served whole (tiling.classes auto): no frame decodes"]);
  await assert.rejects(orServedWhole("sheet", false, (m) => logged.push(m), boom), /no frame decodes/);
  const cancelled = async () => {
    throw new LafiteError(ErrorCode.CANCELLED, "fit cancelled");
  };
  await assert.rejects(orServedWhole("sheet", true, (m) => logged.push(m), cancelled), (err: unknown) => err instanceof LafiteError && err.code === ErrorCode.CANCELLED);
  assert.equal(logged.length, 1);
  let ran = false;
  await orServedWhole("sheet", true, (m) => logged.push(m), async () => {
    ran = true;
  });
  assert.ok(ran && logged.length === 1);
});
