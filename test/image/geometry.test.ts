/**
 * Fitting frames into the backbone's square input: stretch and letterbox
 * placements against hand-computed rectangles, masks and maps through the
 * same placement, and the letterboxed input's gray border.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cropToPlacement, frameCells, frameFitOf, LETTERBOX_GRAY, maskToInput, perPlacement, placement, type Aspect, type Placement } from "../../src/image/geometry.js";
import { toModelInput } from "../../src/image/decode.js";
import { mapToFrame } from "../../src/pipeline/bundle-detector.js";

/** [W, H, S, aspect, expected placement, why], each expected rectangle computed by hand. */
const PLACEMENTS: [number, number, number, Aspect, Placement, string][] = [
  [400, 800, 224, "stretch", { x: 0, y: 0, w: 224, h: 224 }, "stretch fills the square"],
  [400, 800, 224, "letterbox", { x: 56, y: 0, w: 112, h: 224 }, "scale 0.28 → 112×224, centred horizontally"],
  [458, 332, 224, "letterbox", { x: 0, y: 31, w: 224, h: 162 }, "scale 224/458 → 224×162.4 → 162 rows, (224 − 162)/2 = 31 above"],
  [256, 256, 224, "letterbox", { x: 0, y: 0, w: 224, h: 224 }, "a square frame fills the square"],
  [1000, 1, 10, "letterbox", { x: 0, y: 4, w: 10, h: 1 }, "a sliver keeps at least one pixel"],
  [400, 800, 224, "balanced", { x: 33, y: 0, w: 158, h: 224 }, "short side 400 · 0.28 · √2 = 158.4 → 158, (224 − 158)/2 = 33 left"],
  [458, 332, 224, "balanced", { x: 0, y: 16, w: 224, h: 191 }, "332 · 224/458 · √(458/332) = 162.38 · 1.1745 = 190.7 → 191 rows, 16 above"],
  [100, 400, 224, "balanced", { x: 56, y: 0, w: 112, h: 224 }, "a 1:4 strip fills half the square (letterbox: a quarter)"],
  [256, 256, 224, "balanced", { x: 0, y: 0, w: 224, h: 224 }, "a square frame fills the square"],
  [1000, 1, 10, "balanced", { x: 0, y: 4, w: 10, h: 1 }, "a sliver keeps at least one pixel"],
];

test("placement: stretch fills the square; letterbox scales by S / max(W, H) and centres; balanced also stretches the short side by √(long / short)", () => {
  for (const [w, h, size, aspect, expected, why] of PLACEMENTS) assert.deepEqual(placement(w, h, size, aspect), expected, `${w}×${h} ${aspect}: ${why}`);
});

test("maskToInput letterboxes a mask like its image (0 on the border); cropToPlacement takes the frame's part back", () => {
  // 2×4 mask (W 2, H 4), left column set → S 4: placement x 1, w 2, full height.
  const mask = Uint8Array.from([9, 0, 9, 0, 9, 0, 9, 0]);
  const placed = maskToInput(mask, { width: 2, height: 4 }, 4, "letterbox");
  assert.deepEqual([...placed], [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
  const p = placement(2, 4, 4, "letterbox");
  assert.deepEqual([...cropToPlacement(Float32Array.from(placed), 4, p)], [1, 0, 1, 0, 1, 0, 1, 0]);
  // Stretch is the old nearest-neighbour resize.
  assert.deepEqual([...maskToInput(mask, { width: 2, height: 4 }, 2)], [1, 0, 1, 0]);
});

test("mapToFrame inverts the letterbox: a map that is the placed mask comes back as the mask", () => {
  const W = 6, H = 12, S = 24;
  const mask = new Uint8Array(W * H);
  for (let y = 3; y < 9; y++) for (let x = 0; x < 3; x++) mask[y * W + x] = 1;
  const map = Float32Array.from(maskToInput(mask, { width: W, height: H }, S, "letterbox"));
  const back = mapToFrame(map, S, W, H, "letterbox");
  assert.equal(back.length, W * H);
  // Downsampling by exactly 2 bilinearly: each frame pixel averages a 2×2 block of one value, away from edges of the region.
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = back[y * W + x]!;
    assert.ok(Math.abs(v - mask[y * W + x]!) <= 0.5, `(${x},${y}) ${v} vs ${mask[y * W + x]}`);
  }
  // Border values never reach the frame: a map that is 7 on the border and 0 inside maps back to all 0.
  const bordered = new Float32Array(S * S).fill(7);
  const p = placement(W, H, S, "letterbox");
  for (let y = p.y; y < p.y + p.h; y++) for (let x = p.x; x < p.x + p.w; x++) bordered[y * S + x] = 0;
  assert.ok(mapToFrame(bordered, S, W, H, "letterbox").every((v) => v === 0));
});

test("mapToFrame crops the border of a letterboxed frame as long as the input: its map has the frame's size", () => {
  const S = 8, W = 8, H = 4;
  const p = placement(W, H, S, "letterbox");
  assert.deepEqual(p, { x: 0, y: 2, w: 8, h: 4 });
  const map = new Float32Array(S * S).fill(7);
  for (let y = p.y; y < p.y + p.h; y++) for (let x = 0; x < S; x++) map[y * S + x] = y;
  const back = mapToFrame(map, S, W, H, "letterbox");
  assert.equal(back.length, W * H);
  // The frame's rows are the input's rows 2..5, unresized.
  assert.deepEqual([...back].filter((_, i) => i % W === 0), [2, 3, 4, 5]);
  // A square frame of the input's size is the map itself.
  const whole = new Float32Array(S * S).fill(1);
  assert.equal(mapToFrame(whole, S, S, S, "letterbox"), whole);
});

test("mapToFrame, any frame size and aspect: the map comes back at the frame's size, a constant map stays that constant, and border values never reach the frame", () => {
  const S = 32;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), fc.constantFrom<Aspect>("stretch", "letterbox", "balanced"), (w, h, aspect) => {
      const p = placement(w, h, S, aspect);
      // 5 inside the frame's rectangle, 100 on the border.
      const map = new Float32Array(S * S).fill(100);
      for (let y = p.y; y < p.y + p.h; y++) for (let x = p.x; x < p.x + p.w; x++) map[y * S + x] = 5;
      const back = mapToFrame(map, S, w, h, aspect);
      assert.equal(back.length, w * h);
      assert.ok(back.every((v) => Math.abs(v - 5) < 1e-5), `${w}×${h} ${aspect}: a border value reached the frame`);
    }),
    { numRuns: 300 },
  );
  // The sizes that once slipped through: as wide (or as tall) as the input.
  for (const [w, h] of [[S, 20], [20, S], [S, S]] as const) assert.equal(mapToFrame(new Float32Array(S * S).fill(1), S, w, h, "letterbox").length, w * h);
});

test("toModelInput letterbox, gray border: the image in its rectangle, mid-gray around it", async () => {
  // A 4×2 red image into S = 4: rows 1–2 red, rows 0 and 3 gray.
  const rgb = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < 8; i++) rgb.set([200, 10, 20], 3 * i);
  const x = await toModelInput({ width: 4, height: 2, rgb, gray: false }, 4, { aspect: "letterbox", border: "gray" });
  const plane = 16;
  for (let y = 0; y < 4; y++) for (let c = 0; c < 4; c++) {
    const i = y * 4 + c;
    const inside = y === 1 || y === 2;
    assert.deepEqual([x[i], x[plane + i], x[2 * plane + i]], inside ? [200, 10, 20] : [LETTERBOX_GRAY, LETTERBOX_GRAY, LETTERBOX_GRAY], `row ${y} col ${c}`);
  }
});

test("toModelInput letterbox, edge and mirror borders: the frame's outer rows repeated, or reflected, into the border", async () => {
  // A 6×2 frame into S = 6: rows 2–3 hold it (row 2 values 10, row 3 values 50, per channel +0/+1/+2), rows 0–1 and 4–5 the border.
  const rgb = new Uint8Array(6 * 2 * 3);
  for (let i = 0; i < 12; i++) {
    const v = i < 6 ? 10 : 50;
    rgb.set([v, v + 1, v + 2], 3 * i);
  }
  const frame = { width: 6, height: 2, rgb, gray: false };
  const plane = 36;
  const rows = (x: Float32Array) => [0, 1, 2, 3, 4, 5].map((y) => [x[y * 6]!, x[plane + y * 6]!, x[2 * plane + y * 6]!]);
  const row10 = [10, 11, 12];
  const row50 = [50, 51, 52];
  // Edge: above the frame its top row, below it its bottom row.
  assert.deepEqual(rows(await toModelInput(frame, 6, { aspect: "letterbox", border: "edge" })), [row10, row10, row10, row50, row50, row50]);
  // Mirror (edge pixel included): row 1 reflects row 2, row 0 reflects row 3; below likewise.
  assert.deepEqual(rows(await toModelInput(frame, 6, { aspect: "letterbox", border: "mirror" })), [row50, row10, row10, row50, row50, row10]);
  // Every column the same, as the frame's rows are.
  const x = await toModelInput(frame, 6, { aspect: "letterbox", border: "mirror" });
  for (let y = 0; y < 6; y++) for (let c = 1; c < 6; c++) assert.equal(x[y * 6 + c], x[y * 6], `row ${y} col ${c}`);
});

test("frameFitOf: a manifest's backbone block without aspect or border reads as what bundles before them did", () => {
  assert.deepEqual(frameFitOf({}), { aspect: "stretch", border: "gray" });
  assert.deepEqual(frameFitOf({ aspect: "letterbox" }), { aspect: "letterbox", border: "gray" });
  assert.deepEqual(frameFitOf({ aspect: "balanced", border: "mirror" }), { aspect: "balanced", border: "mirror" });
});

test("frameCells: the grid cells whose centres fall inside the frame's placement; none listed when the frame fills the input", () => {
  // 1:2 frame, letterboxed into 224: x 56..168, so on a 28-grid (8 px cells, centres 4, 12, …) cells 7..20 of each row.
  assert.deepEqual(frameCells(placement(400, 800, 224, "letterbox"), 224, 28, 28), { x0: 7, y0: 0, x1: 21, y1: 28 });
  // 1:4 tile: x 84..140, cells 10..16.
  assert.deepEqual(frameCells(placement(100, 400, 224, "letterbox"), 224, 28, 28), { x0: 10, y0: 0, x1: 17, y1: 28 });
  // Wide frame: 630×220 → 224×78 at y 73; centres 76..148 fall inside 73..151: rows 9..18.
  assert.deepEqual(frameCells(placement(630, 220, 224, "letterbox"), 224, 28, 28), { x0: 0, y0: 9, x1: 28, y1: 19 });
  // A sliver one pixel wide still has the cell it lies in (x 111, cell 13 covers 104..112).
  assert.deepEqual(frameCells(placement(1, 400, 224, "letterbox"), 224, 28, 28), { x0: 13, y0: 0, x1: 14, y1: 28 });
  // Frames that fill the input: square, or stretched.
  assert.equal(frameCells(placement(300, 300, 224, "letterbox"), 224, 28, 28), undefined);
  assert.equal(frameCells(placement(100, 400, 224, "stretch"), 224, 28, 28), undefined);
});

test("perPlacement computes once per placement, and starts again past its limit", () => {
  const made: string[] = [];
  const of = perPlacement((p: Placement) => {
    made.push(`${p.w}x${p.h}`);
    return { area: p.w * p.h };
  }, 2);
  const a = { x: 0, y: 10, w: 8, h: 4 };
  const first = of(a);
  assert.equal(of({ ...a }), first, "the same placement, another object: the kept value");
  assert.deepEqual(of({ x: 1, y: 0, w: 6, h: 8 }), { area: 48 });
  assert.deepEqual(made, ["8x4", "6x8"]);
  // A third placement over the limit of 2: the memo starts again, so the first is made anew.
  of({ x: 0, y: 0, w: 8, h: 8 });
  assert.notEqual(of(a), first);
  assert.deepEqual(made, ["8x4", "6x8", "8x8", "8x4"]);
});
