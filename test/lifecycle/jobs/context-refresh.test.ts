/**
 * A model with a context bank through a memory-bank refresh: fit builds the
 * bank for the class whose held-out frames yield swapped parts, the refresh
 * grows it from the accepted frames of that class (tagged so, or untagged and
 * served by its context search; frames of a new look add rows), re-measures its normalizers, and the candidate loads and
 * scores with it; a second refresh past the ceiling consolidates it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { contextBankOf, readBundle, writeBundle } from "../../../src/model/bundle.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { modelInfoMessage } from "../../../src/server/detector-service.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { mkdir } from "node:fs/promises";
import sharp from "sharp";
import { acceptedFrom, fitBundle, jobContext } from "./support.js";
import { partsPlate } from "../../image/pseudo/helpers.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-context-refresh-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Plates of four parts (test/image/pseudo/helpers.ts partsPlate), the parts' bright faces at `face`: one "material" per frame. */
async function writePlates(root: string, faces: readonly number[], seed: number): Promise<string[]> {
  const dirOut = join(root, "board", "train", "good");
  await mkdir(dirOut, { recursive: true });
  return Promise.all(
    faces.map(async (face, i) => {
      const plate = partsPlate(96, 96, [[10, 10], [60, 12], [12, 62], [62, 60]], 20, seed + i);
      const rgb = plate.rgb.map((v) => (v === 230 ? face : v));
      const file = join(dirOut, `${String(i).padStart(3, "0")}.png`);
      await sharp(Buffer.from(rgb), { raw: { width: 96, height: 96, channels: 3 } }).png().toFile(file);
      return file;
    }),
  );
}

test("fit builds a context bank for the class with swapped parts; a refresh grows it from that class's tagged frames and serves it", async () => {
  const data = join(dir, "normal");
  const shifted = join(dir, "shifted");
  // Frames of two materials (all parts of a frame alike), in fours so the held-out quarter (every fourth frame from the third) holds both; the accepted frames bring a third.
  await writePlates(data, Array.from({ length: 16 }, (_, i) => (i % 8 < 4 ? 230 : 140)), 10);
  await writePlates(shifted, Array.from({ length: 8 }, () => 60), 40);
  const base = join(dir, "base");
  // A quarter held out, so the class has frames to swap parts between.
  await fitBundle(data, base, join(dir, "cache"), { scoring: { mode: "knn" }, diffusion: { preset: "none" }, threshold: { holdout: 0.25, perClass: false }, tuning: { swaps: 8, minSwaps: 1 } });
  const fitted = await readBundle(base);
  const cb = fitted.manifest.memory.contextBank!;
  assert.ok(cb, "a context bank");
  assert.equal(fitted.manifest.tuning!.context!.swaps["board"], 8);
  assert.equal(cb.size, fitted.manifest.memory.classRows!["board"]);
  assert.equal(cb.fitSize, cb.size);
  assert.equal(cb.lambda, 4);
  // Here the swapped parts are plain to the main bank already (swaps AUROC 1 at W 0), so tuning keeps W 0; the refresh
  // must carry a bank that is served, so the fixture serves it at the swept 0.5, and the image score at 1 (its own W).
  assert.ok(Object.keys(fitted.manifest.scoring.context!.classWeights!).includes("board"), JSON.stringify(fitted.manifest.tuning!.context));
  const files = Object.fromEntries(Object.keys(fitted.manifest.files).map((name) => [name, fitted.file(name)]));
  const { files: _hashes, ...rest } = fitted.manifest;
  // And an edge correction for the board, zero everywhere, for the refresh to measure again.
  await writeBundle(base, { ...rest, scoring: { ...rest.scoring, context: { ...rest.scoring.context!, classWeights: { board: 0.5 }, imageClassWeights: { board: 1 } }, edges: { mode: "knn", reach: 32, classes: { board: Array<number>(33).fill(0) } } } }, files, true);
  const parent = await readBundle(base);
  const m = parent.manifest;
  const before = contextBankOf(parent)!;

  const out = join(dir, "refreshed");
  const accepted = await acceptedFrom(shifted, 8);
  // And two frames of the new look sent without a class tag.
  const loose = join(dir, "untagged");
  await writePlates(loose, [60, 60], 90);
  const untaggedFrames = (await acceptedFrom(loose, 2)).map(({ path, sha256 }) => ({ path, sha256 }));
  const ctx = jobContext("refresh", base, out, [...accepted, ...untaggedFrames]);
  await refreshMemoryBank(ctx);
  // The calibration's progress ends at its total (job-sizes.test.ts counts the edge pass apart).
  const calibration = ctx.reports.filter((r) => r.message.includes("threshold calibration"));
  assert.ok(calibration.length > 0 && calibration.every((r) => r.done <= r.total), JSON.stringify(calibration.slice(-3)));
  assert.equal(calibration.at(-1)!.done, calibration.at(-1)!.total);
  const refreshed = await readBundle(out);
  const r = refreshed.manifest;
  const grown = contextBankOf(refreshed)!;
  const refreshRecord = r.metrics["refresh"] as { contextBank: { frames: number; added: number; size: number }; untagged: unknown };
  const record = refreshRecord.contextBank;
  // The untagged copies read as the board, whose context search (W 0.5) served them: they count as the board's.
  const untaggedSnapshot = r.dataSnapshot!.accepted.filter((a) => a.classTag === undefined);
  assert.deepEqual(untaggedSnapshot.map((a) => a.readAs), ["board", "board"]);
  assert.deepEqual(refreshRecord.untagged, { frames: 2, unread: 0, readAs: { board: 2 }, contextClass: { board: 2 } });
  // Every frame the refresh learns from offers slices (not those it holds out), the untagged ones too.
  assert.equal(record.frames, r.dataSnapshot!.accepted.filter((a) => a.use === "bank").length, JSON.stringify(record));
  assert.ok(untaggedSnapshot.some((a) => a.use === "bank"), JSON.stringify(untaggedSnapshot));
  assert.ok(record.added > 0, `a new look adds context rows: ${JSON.stringify(record)}`);
  assert.equal(grown.size, before.size + record.added);
  assert.equal(r.memory.contextBank!.size, grown.size);
  assert.ok(grown.size <= Math.floor(cb.fitSize * 1.25));
  assert.deepEqual(Array.from(grown.rows.subarray(0, before.rows.length)), Array.from(before.rows), "the old rows first, unchanged");
  // The edge profile measured again on the held-out normals (square frames: the middle, distance 32, is the reference).
  const profile = r.scoring.edges!.classes["board"]!;
  assert.equal(profile.length, 33);
  assert.ok(profile.every((v) => Number.isFinite(v)) && profile[32] === 0 && profile.some((v) => v !== 0), JSON.stringify(profile));
  // Normalizers measured again on the grown banks; the candidate serves the context bank.
  assert.notDeepEqual(r.scoring.context!.normalizers, m.scoring.context!.normalizers);
  // The weights are the parent's, the image score's own included.
  assert.deepEqual([r.scoring.context!.classWeights, r.scoring.context!.imageClassWeights], [{ board: 0.5 }, { board: 1 }]);
  const detector = await loadDetector(out);
  try {
    // What GetModelInfo, `lafite info` and /metrics show of it.
    assert.deepEqual(detector.info.context, { lambda: 4, weight: 0, classWeights: { board: 0.5 }, imageClassWeights: { board: 1 } });
    const message = modelInfoMessage(detector.info);
    assert.deepEqual([message.contextClassWeights, message.contextImageClassWeights, message.optionalContextLambda, message.optionalContextWeight.case], [{ board: 0.5 }, { board: 1 }, { case: "contextLambda", value: 4 }, undefined]);
    const [frame] = await acceptedFrom(shifted, 1);
    const { decodeEncoded } = await import("../../../src/image/decode.js");
    const scored = await detector.scoreImage(await decodeEncoded(await readFile(frame!.path)));
    assert.ok(Number.isFinite(scored.score));
  } finally {
    await detector.close();
  }
  // A malformed weight in a hand-edited manifest is refused at load, not scored as NaN.
  const bad = join(dir, "bad-weights");
  await cp(out, bad, { recursive: true });
  const badManifest = JSON.parse(await readFile(join(bad, "manifest.json"), "utf8")) as { scoring: { context: Record<string, unknown> } };
  badManifest.scoring.context.imageClassWeights = { board: 1.5 };
  await writeFile(join(bad, "manifest.json"), JSON.stringify(badManifest));
  await assert.rejects(loadDetector(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /scoring\.context\.imageClassWeights\.board is 1\.5, not a weight from 0 to 1/.test(e.message));
  // A second refresh brings a fourth material: past the ceiling, the context bank is cut back to it, every added row kept.
  const darker = join(dir, "darker");
  await writePlates(darker, Array.from({ length: 8 }, () => 20), 70);
  const again = join(dir, "again");
  await refreshMemoryBank(jobContext("refresh", out, again, await acceptedFrom(darker, 8)));
  const second = await readBundle(again);
  const record2 = (second.manifest.metrics["refresh"] as { contextBank: { added: number; size: number; consolidation?: unknown } }).contextBank;
  const ceiling = Math.floor(cb.fitSize * 1.25);
  assert.equal(grown.size, ceiling, "the first refresh filled the headroom");
  assert.ok(record2.added > 0, JSON.stringify(record2));
  assert.deepEqual(record2.consolidation, { ceiling, dropped: record2.added, addedKept: record2.added, classRows: { board: { before: ceiling + record2.added, after: ceiling } } });
  const cut = contextBankOf(second)!;
  assert.equal(cut.size, ceiling);
  assert.equal(second.manifest.memory.contextBank!.size, ceiling);
  assert.equal(second.manifest.memory.contextBank!.fitSize, cb.fitSize, "the ceiling stays fit's");
});
