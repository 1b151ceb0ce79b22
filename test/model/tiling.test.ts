import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseTiles, combineTiles, tileBundleOf, tileFactors, tileFileName, tileFilesInParent, tilingProblem, type Tiling } from "../../src/model/tiling.js";
import { sha256, type BundleManifest, type LoadedBundle } from "../../src/model/bundle.js";

const bytes = (...v: number[]) => Uint8Array.from(v);

test("combineTiles: the larger of the whole map and the scaled tile map pixel by pixel, and of the two scores in class-threshold units", () => {
  // Class threshold 10, tile frame threshold 4: score factor 2.5, so a tile score of 4.4 stands where a whole score of 11 does.
  // Pixel units: whole 6, tiles 2, so a tile pixel of 2 stands where a whole one of 6 does (map factor 3).
  const factors = tileFactors({ frameThreshold: 4, pixelUnits: { whole: 6, tiles: 2 } }, 10);
  assert.deepEqual(factors, { score: 2.5, map: 3 });
  const whole = { map: Float32Array.from([1, 9, 3, 0]), score: 6 };
  const tiles = { map: Float32Array.from([2, 1, 0.5, 4]), score: 4.4 };
  const { map, score } = combineTiles(whole, tiles, factors);
  assert.deepEqual([...map], [6, 9, 3, 12]);
  assert.equal(score, 11);
  // The whole frame's score stands when its tiles' scaled score is lower.
  assert.equal(combineTiles(whole, { ...tiles, score: 2 }, factors).score, 6);
  // Without pixel units the map is scaled as the score is.
  assert.deepEqual(tileFactors({ frameThreshold: 4 }, 10), { score: 2.5, map: 2.5 });
  assert.throws(() => combineTiles(whole, { map: new Float32Array(3), score: 0 }, factors), /4 values and a tile map of 3/);
  assert.throws(() => combineTiles(whole, tiles, { score: 0, map: 1 }), /tile score factor 0 is not a positive number/);
  assert.throws(() => combineTiles(whole, tiles, { score: 1, map: Number.NaN }), /tile map factor NaN is not a positive number/);
});

/** A parent bundle in memory whose files are `files`, with a tiling record for class "sheet" whose manifest lists `tileFiles`. */
function parentWith(files: Record<string, Uint8Array>, tileFiles: Record<string, Uint8Array>): LoadedBundle {
  const hashes = (f: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(f).map(([n, d]) => [n, sha256(d)]));
  const tileManifest = { files: hashes(tileFiles) } as unknown as BundleManifest; // only `files` is read here
  const manifest = { files: hashes(files), tiling: { classes: { sheet: { grid: 2, overlap: 0, frameThreshold: 1, frames: 3, manifest: tileManifest } } } } as unknown as BundleManifest;
  return {
    dir: "/b",
    manifest,
    file(name) {
      const d = files[name];
      if (!d) throw new Error(`no file ${name}`);
      return d;
    },
  };
}

test("a tile bundle's files inside its parent: its own under tiles.<class>., one identical to the parent's shared, and a view that reads both checked", () => {
  const backbone = bytes(1, 2, 3);
  const parentFiles = { "backbone.onnx": backbone, "coreset.f32": bytes(9, 9) };
  const tileFiles = { "backbone.onnx": backbone, "coreset.f32": bytes(7, 7, 7) };
  const stored = tileFilesInParent("sheet", tileFiles, { files: { "backbone.onnx": sha256(backbone), "coreset.f32": sha256(bytes(7, 7, 7)) } } as unknown as BundleManifest, parentFiles);
  assert.deepEqual(Object.keys(stored), [tileFileName("sheet", "coreset.f32")]);
  assert.equal(tileFileName("sheet", "coreset.f32"), "tiles.sheet.coreset.f32");

  const view = tileBundleOf(parentWith({ ...parentFiles, ...stored }, tileFiles), "sheet");
  assert.deepEqual(view.file("coreset.f32"), bytes(7, 7, 7));
  assert.deepEqual(view.file("backbone.onnx"), backbone);
  assert.throws(() => view.file("denoiser.onnx"), /manifest has no file denoiser.onnx/);
  // A parent whose backbone is not the one the tile manifest names (and stores none of its own) is refused, not silently used.
  const other = tileBundleOf(parentWith({ "backbone.onnx": bytes(4), ...stored }, tileFiles), "sheet");
  assert.throws(() => other.file("backbone.onnx"), /missing or not the one its manifest names/);
  assert.throws(() => tileBundleOf(parentWith(parentFiles, tileFiles), "veneer"), /class veneer is not tiled/);
});

test("tilingProblem names a malformed tiling record's field", () => {
  const ok = { grid: 4, overlap: 0, frameThreshold: 3.5, frames: 25, manifest: { files: {} } as unknown as BundleManifest };
  assert.equal(tilingProblem({ classes: { sheet: ok } }), undefined);
  const bad = (patch: object): Tiling => ({ classes: { sheet: { ...ok, ...patch } } });
  assert.match(tilingProblem(bad({ grid: 0 }))!, /tiling\.classes\.sheet\.grid 0/);
  assert.match(tilingProblem(bad({ grid: 2.5 }))!, /grid 2\.5/);
  assert.match(tilingProblem(bad({ overlap: 0.8 }))!, /overlap 0\.8/);
  assert.match(tilingProblem(bad({ frameThreshold: -1 }))!, /frameThreshold -1/);
  assert.match(tilingProblem(bad({ frameThreshold: Number.NaN }))!, /frameThreshold NaN/);
  assert.match(tilingProblem(bad({ manifest: null }))!, /manifest is not a bundle manifest/);
  assert.match(tilingProblem(bad({ pixelUnits: { whole: 1, tiles: 0 } }))!, /pixelUnits are not two positive numbers/);
  assert.match(tilingProblem(bad({ mapOnly: "yes" }))!, /mapOnly yes is not a boolean/);
});

test("chooseTiles: kept for a gain of 0.01 in pixel AUROC, AUPRO or image AUROC, the first two falling by no more than 0.005; in the score only for the image AUROC's", () => {
  const whole = { imageAuroc: 0.6, pixelAuroc: 0.9, aupro: 0.5 };
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.6, pixelAuroc: 0.9, aupro: 0.51 }), { kept: true, mapOnly: true });
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.6, pixelAuroc: 0.91, aupro: 0.5 }), { kept: true, mapOnly: true });
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.6, pixelAuroc: 0.905, aupro: 0.505 }), { kept: false, mapOnly: true }, "no gain reaches 0.01");
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.7, pixelAuroc: 0.894, aupro: 0.6 }), { kept: false, mapOnly: false }, "the pixel AUROC falls by 0.006");
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.5, pixelAuroc: 0.95, aupro: 0.6 }), { kept: true, mapOnly: true }, "the image AUROC falls: the map alone");
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.609, pixelAuroc: 0.95, aupro: 0.6 }), { kept: true, mapOnly: true }, "an image gain under 0.01");
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.61, pixelAuroc: 0.95, aupro: 0.6 }), { kept: true, mapOnly: false });
  assert.deepEqual(chooseTiles(whole, { imageAuroc: 0.7, pixelAuroc: 0.9, aupro: 0.496 }), { kept: true, mapOnly: false }, "the image gain alone keeps them");
  // Undefined figures count as no change: no image AUROC measured, no place in the score.
  assert.deepEqual(chooseTiles({ imageAuroc: null, pixelAuroc: 0.9, aupro: null }, { imageAuroc: null, pixelAuroc: 0.92, aupro: null }), { kept: true, mapOnly: true });
  assert.deepEqual(chooseTiles({ imageAuroc: null, pixelAuroc: null, aupro: null }, { imageAuroc: null, pixelAuroc: null, aupro: null }), { kept: false, mapOnly: true });
});
