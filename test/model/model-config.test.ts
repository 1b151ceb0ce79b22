import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModelConfig, pseudoRecipe } from "../../src/model/model-config.js";
import { LafiteError } from "../../src/util/errors.js";
import { tileFitConfig } from "../../src/pipeline/tiling/fit-tiles.js";

test("a partial backbone block keeps the other defaults (every key is optional)", () => {
  const c = parseModelConfig({ backbone: { pool: 3 } });
  assert.deepEqual(c.backbone, { kind: "builtin", arch: "mobilenet_v2", stages: ["block_2_add", "block_5_add", "block_9_add"], pool: 3 });
});

test("no backbone block gives the default builtin backbone", () => {
  const c = parseModelConfig({});
  assert.deepEqual(c.backbone, { kind: "builtin", arch: "mobilenet_v2", stages: ["block_2_add", "block_5_add", "block_9_add"], pool: 0 });
});

test("choosing only the arch fills in that arch's stages", () => {
  const c = parseModelConfig({ backbone: { arch: "inception_v3" } });
  assert.equal(c.backbone.kind, "builtin");
  if (c.backbone.kind === "builtin") assert.deepEqual(c.backbone.stages, ["mixed2"]);
});

test("an onnx backbone still needs its path and outputs, and the error names them", () => {
  assert.throws(
    () => parseModelConfig({ backbone: { kind: "onnx", inputSize: 224 } }),
    (err: unknown) => err instanceof LafiteError && /backbone\.path/.test(err.message) && /backbone\.outputs/.test(err.message),
  );
});

test("an unknown backbone key is refused by name", () => {
  assert.throws(() => parseModelConfig({ backbone: { pool: 3, stage: ["x"] } }), (err: unknown) => err instanceof LafiteError && /stage/.test(err.message));
});

test("config/model.example.yaml shows exactly the defaults (it says every value shown is the default)", async () => {
  const { readFile } = await import("node:fs/promises");
  const { parse } = await import("yaml");
  const text = await readFile(new URL("../../../config/model.example.yaml", import.meta.url), "utf8");
  assert.deepEqual(parseModelConfig(parse(text)), parseModelConfig({}));
});

test("the pseudo-validation recipe carries the seamless, logical, shade and warp shares only when there are some (logical 0.5 by default), and the shares are checked", () => {
  assert.deepEqual(pseudoRecipe(parseModelConfig({}).tuning), { seed: 0, perClass: 20, crossClass: false, logical: 0.5 });
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { logical: 0 } }).tuning), { seed: 0, perClass: 20, crossClass: false });
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { seed: 3, seamless: 0.5, logical: 0 } }).tuning), { seed: 3, perClass: 20, crossClass: false, anomaly: { seamless: 0.5 } });
  assert.throws(() => parseModelConfig({ tuning: { seamless: 1.5 } }), (err: unknown) => err instanceof LafiteError && /tuning\.seamless/.test(err.message));
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { logical: 0.25 } }).tuning), { seed: 0, perClass: 20, crossClass: false, logical: 0.25 });
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { logical: 0.25, seamless: 0.5, shade: 1 } }).tuning), { seed: 0, perClass: 20, crossClass: false, anomaly: { seamless: 0.5 }, logical: 0.25, shade: 1 });
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { logical: 0, shade: 0.5 } }).tuning), { seed: 0, perClass: 20, crossClass: false, shade: 0.5 });
  assert.throws(() => parseModelConfig({ tuning: { logical: -0.1 } }), (err: unknown) => err instanceof LafiteError && /tuning\.logical/.test(err.message));
  assert.throws(() => parseModelConfig({ tuning: { shade: 1.1 } }), (err: unknown) => err instanceof LafiteError && /tuning\.shade/.test(err.message));
  assert.deepEqual(pseudoRecipe(parseModelConfig({ tuning: { logical: 0, warp: 0.5 } }).tuning), { seed: 0, perClass: 20, crossClass: false, warp: 0.5 });
  assert.throws(() => parseModelConfig({ tuning: { warp: -0.5 } }), (err: unknown) => err instanceof LafiteError && /tuning\.warp/.test(err.message));
});

test("tiling.samples and tiling.ks: a tile model trains 1,000 samples (never more than the whole model's; null: the whole model's) and sweeps K 3 by default", () => {
  const d = parseModelConfig({});
  assert.deepEqual([d.tiling.samples, d.tiling.ks], [1000, [3]]);
  const tile = tileFitConfig(d);
  assert.deepEqual([tile.diffusion.samples, tile.tuning.ks, tile.tiling.classes], [1000, [3], []]);
  assert.deepEqual(tile.tuning.taus, d.tuning.taus, "the rest of tuning is the whole model's");
  assert.equal(tileFitConfig(parseModelConfig({ diffusion: { samples: 400 } })).diffusion.samples, 400);
  assert.equal(tileFitConfig(parseModelConfig({ tiling: { samples: null } })).diffusion.samples, undefined, "the preset's");
  assert.equal(tileFitConfig(parseModelConfig({ diffusion: { samples: 8000 }, tiling: { samples: null, ks: [1, 3, 5] } })).diffusion.samples, 8000);
  assert.deepEqual(tileFitConfig(parseModelConfig({ tiling: { ks: [1, 3, 5] } })).tuning.ks, [1, 3, 5]);
  assert.throws(() => parseModelConfig({ tiling: { samples: 0 } }), (err: unknown) => err instanceof LafiteError && /tiling\.samples/.test(err.message));
  assert.throws(() => parseModelConfig({ tiling: { ks: [] } }), (err: unknown) => err instanceof LafiteError && /tiling\.ks/.test(err.message));
});

test("tiling.mapOnly: auto by default, true or false forced; anything else is refused by name", () => {
  assert.equal(parseModelConfig({}).tiling.mapOnly, "auto");
  assert.equal(parseModelConfig({ tiling: { mapOnly: true } }).tiling.mapOnly, true);
  assert.equal(parseModelConfig({ tiling: { classes: ["sheet"], mapOnly: false } }).tiling.mapOnly, false);
  assert.throws(() => parseModelConfig({ tiling: { mapOnly: "sometimes" } }), (err: unknown) => err instanceof LafiteError && /tiling\.mapOnly/.test(err.message));
});

test("tiling.classes: auto by default (autoScale 3, autoTiles 500); a list or [] names them; anything else is refused by name", () => {
  const d = parseModelConfig({});
  assert.deepEqual([d.tiling.classes, d.tiling.autoScale, d.tiling.autoTiles], ["auto", 3, 500]);
  assert.deepEqual(parseModelConfig({ tiling: { classes: [] } }).tiling.classes, []);
  assert.deepEqual(parseModelConfig({ tiling: { classes: ["sheet"], autoTiles: 0 } }).tiling.classes, ["sheet"]);
  assert.throws(() => parseModelConfig({ tiling: { classes: "all" } }), (err: unknown) => err instanceof LafiteError && /tiling\.classes/.test(err.message));
  assert.throws(() => parseModelConfig({ tiling: { autoScale: 0.5 } }), (err: unknown) => err instanceof LafiteError && /tiling\.autoScale/.test(err.message));
  assert.throws(() => parseModelConfig({ tiling: { autoTiles: -1 } }), (err: unknown) => err instanceof LafiteError && /tiling\.autoTiles/.test(err.message));
});
