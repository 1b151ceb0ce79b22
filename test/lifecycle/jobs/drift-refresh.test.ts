/**
 * Issue 9 part 8 at small scale, memory bank: a knn model fitted on the normal
 * demo false-alarms on the shifted variant's good parts (coreset chosen per
 * class, the default, and globally, as older bundles); refreshMemoryBank
 * with 20 accepted shifted good frames brings the false alarms on other
 * shifted good frames down while shifted defects are still ranked as well
 * (image AUROC within 0.01 of before, or better).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { UNTAGGED } from "../../../src/model/memory/row-classes.js";
import { acceptedFrom, fitBundle, jobContext, makeData, measure } from "./support.js";

let dir = "";
let normal = "";
let shifted = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-drift-"));
  normal = join(dir, "normal");
  shifted = join(dir, "shifted");
  await makeData(normal, 1, "normal", { train: 12, testGood: 0, testDefect: 0 });
  await makeData(shifted, 2, "shifted", { train: 7, testGood: 6, testDefect: 2 });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// 0.75 is the default (most rows chosen per class, the rest globally); 0 is one global selection, as bundles before it.
// The third fit serves its detail bank at W 0.33 whatever tuning would pick: the refresh must carry it and re-measure its normalizers.
// The first three judge by one model threshold (threshold.perClass false): fit's 1 held-out frame per class sets it, so the base
// model false-alarms on the shifted frames, which the refresh must cut (per class, each would be calibrated on its bank frames
// left out too, which already tolerates the shift).
// The fourth holds out 3 of each class's 12 frames, enough here for each class's own threshold: the refresh calibrates them again.
// The fifth is the fourth on a line that sends no class tags: each held-out frame counts for the class it reads as.
for (const { perClassShare, detailWeight, classThresholds, untagged } of [
  { perClassShare: 0.75, detailWeight: undefined, classThresholds: false, untagged: false },
  { perClassShare: 0, detailWeight: undefined, classThresholds: false, untagged: false },
  { perClassShare: 0.75, detailWeight: 0.33, classThresholds: false, untagged: false },
  { perClassShare: 0.75, detailWeight: undefined, classThresholds: true, untagged: false },
  { perClassShare: 0.75, detailWeight: undefined, classThresholds: true, untagged: true },
]) {
  const label = `${perClassShare}${detailWeight ? `-detail-${detailWeight}` : ""}${classThresholds ? "-class-thresholds" : ""}${untagged ? "-untagged" : ""}`;
  test(`refreshMemoryBank on 20 accepted shifted good frames cuts false alarms on other shifted good frames and keeps defect AUROC (coreset per-class share ${perClassShare}${detailWeight ? `, detail bank at W ${detailWeight}` : ""}${classThresholds ? ", a threshold per class" : ""}${untagged ? ", frames accepted without class tags" : ""})`, async (t) => {
    const base = join(dir, `base-${label}`);
    const detail = detailWeight ? { scoring: { mode: "knn", detail: { weight: detailWeight } }, tuning: { detailWeights: [detailWeight] } } : { scoring: { mode: "knn" } };
    await fitBundle(normal, base, join(dir, "cache"), { memory: { perClassShare }, diffusion: { preset: "none" }, ...detail, threshold: classThresholds ? { holdout: 0.25, minClassNormals: 3 } : { perClass: false } });
    if (detailWeight) {
      // And a W of its own for the first class, as per-class tuning writes it: the refresh must carry that too.
      const path = join(base, "manifest.json");
      const raw = JSON.parse(await readFile(path, "utf8")) as { scoring: { detail: { classWeights?: Record<string, number> } }; memory: { rowClasses: { names: string[] } } };
      raw.scoring.detail.classWeights = { [raw.memory.rowClasses.names[0]!]: 0.5 };
      await writeFile(path, JSON.stringify(raw, null, 2));
    }
    const before = await measure(base, shifted);

    const tagged = await acceptedFrom(shifted, 20);
    assert.equal(tagged.length, 20);
    const accepted = untagged ? tagged.map(({ path, sha256 }) => ({ path, sha256 })) : tagged;
    const out = join(dir, `refreshed-${label}`);
    const ctx = jobContext("refresh", base, out, accepted);
    const { summary } = await refreshMemoryBank(ctx);
    const afterRefresh = await measure(out, shifted);
    t.diagnostic(`before: FA ${before.falseAlarmRate.toFixed(3)} AUROC ${before.auroc.toFixed(4)} unlike ${before.unlikeRate.toFixed(3)}; after refresh: FA ${afterRefresh.falseAlarmRate.toFixed(3)} AUROC ${afterRefresh.auroc.toFixed(4)} unlike ${afterRefresh.unlikeRate.toFixed(3)}; added ${String(summary.added)}`);
    // Good frames of the shifted line judged like no class: none once the refresh has learnt from 20 of them.
    assert.equal(afterRefresh.unlikeRate, 0, `after the refresh ${afterRefresh.unlikeRate} of the shifted good frames are unlike any class`);

    assert.ok(before.falseAlarmRate >= 0.5, `the base model should false-alarm on most shifted good parts (${before.falseAlarmRate})`);
    assert.ok(afterRefresh.falseAlarmRate < before.falseAlarmRate / 2, `false alarms ${before.falseAlarmRate} → ${afterRefresh.falseAlarmRate}`);
    assert.ok(afterRefresh.auroc >= before.auroc - 0.01, `defect AUROC ${before.auroc} → ${afterRefresh.auroc}`);

    const m = (await readBundle(out)).manifest;
    const parent = (await readBundle(base)).manifest;
    // Fit stored what the refresh needs, so it measured coverage against fit's own radius.
    assert.ok(parent.memory.coverageRadius! > 0 && parent.memory.projection !== undefined);
    assert.equal(summary.coverageRadiusSource, "manifest");
    assert.equal(m.memory.coverageRadius, parent.memory.coverageRadius);
    assert.equal(m.memory.perClassShare, perClassShare);
    assert.equal(m.parentVersion, parent.version);
    assert.notEqual(m.version, parent.version);
    assert.equal(m.memory.coresetSize, parent.memory.coresetSize + Number(summary.added));
    assert.deepEqual(m.dataSnapshot?.accepted.map((a) => a.sha256), accepted.map((a) => a.sha256));
    assert.ok(ctx.calls > 0, "progress was reported");
    // Every bank row's class: fit's rows as the manifest counts them, the added rows by their frames' class tags.
    const classesOf = async (dirOf: string, mm: typeof m) => [...new Int32Array((await readFile(join(dirOf, mm.memory.rowClasses!.file))).buffer.slice(0))].map((i) => mm.memory.rowClasses!.names[i]!);
    const parentClasses = await classesOf(base, parent);
    assert.deepEqual(Object.fromEntries(Object.keys(parent.memory.classRows!).map((k) => [k, parentClasses.filter((x) => x === k).length])), parent.memory.classRows);
    const refreshedClasses = await classesOf(out, m);
    assert.equal(refreshedClasses.length, m.memory.coresetSize);
    assert.deepEqual(refreshedClasses.slice(0, parent.memory.coresetSize), parentClasses);
    // Rows of untagged frames stay UNTAGGED (read-untagged.ts: the main bank's votes are not filed by a reading).
    assert.ok(refreshedClasses.slice(parent.memory.coresetSize).every((k) => (untagged ? k === UNTAGGED : tagged.some((a) => a.classTag === k))));
    // The class means a frame is read by: fit's over each class's bank images; the refresh folds in the tagged frames the bank learnt from, never untagged ones.
    const [pm, mm] = [parent.memory.classMeans!, m.memory.classMeans!];
    assert.deepEqual(Object.fromEntries(Object.entries(pm.classes).map(([k, v]) => [k, v.count])), Object.fromEntries(Object.entries(parent.provenance.classes).map(([k, v]) => [k, v.train])));
    assert.deepEqual(mm.spread, pm.spread);
    const learnt: Record<string, number> = {};
    for (const a of m.dataSnapshot!.accepted) if (a.use === "bank" && a.classTag !== undefined) learnt[a.classTag] = (learnt[a.classTag] ?? 0) + 1;
    assert.deepEqual(Object.keys(mm.classes).sort(), Object.keys(pm.classes).sort());
    for (const [cls, mean] of Object.entries(mm.classes)) assert.equal(mean.count, pm.classes[cls]!.count + (learnt[cls] ?? 0), cls);
    // Each class's reach (the look gate) never narrows, and widens to the shifted frames the refresh learnt from, which lie
    // farther from the means than fit's normals: accepted as normal, they pass the gate.
    for (const [cls, mean] of Object.entries(mm.classes)) assert.ok(mean.reach! >= pm.classes[cls]!.reach!, `${cls}: reach ${mean.reach} narrower than fit's ${pm.classes[cls]!.reach}`);
    assert.ok(Object.entries(mm.classes).some(([cls, mean]) => mean.reach! > pm.classes[cls]!.reach!), "no reach widened");
    // The summary lists each widened reach, before and after, for the operator to audit.
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const widened = Object.fromEntries(Object.entries(mm.classes).filter(([cls, mean]) => mean.reach !== pm.classes[cls]!.reach).map(([cls, mean]) => [cls, { before: round(pm.classes[cls]!.reach!), after: round(mean.reach!) }]));
    assert.deepEqual(summary.reaches, widened);
    // Each class's light range likewise never narrows, and widens to the colour-shifted frames.
    for (const [cls, mean] of Object.entries(mm.classes)) {
      const was = pm.classes[cls]!.light!;
      assert.ok(mean.light!.lo.every((lo, ch) => lo <= was.lo[ch]!) && mean.light!.hi.every((hi, ch) => hi >= was.hi[ch]!), `${cls}: light ${JSON.stringify(mean.light)} narrower than fit's ${JSON.stringify(was)}`);
    }
    assert.ok(Object.entries(mm.classes).some(([cls, mean]) => JSON.stringify(mean.light) !== JSON.stringify(pm.classes[cls]!.light)), "no light range widened");
    // And the summary lists them, before and after.
    const lit = Object.entries(mm.classes).filter(([cls, mean]) => JSON.stringify(mean.light) !== JSON.stringify(pm.classes[cls]!.light));
    assert.deepEqual(Object.keys(summary.lights as object).sort(), lit.map(([cls]) => cls).sort());
    const withoutReach = (classes: typeof mm.classes) => Object.fromEntries(Object.entries(classes).map(([cls, { reach: _reach, light: _light, ...rest }]) => [cls, rest]));
    if (untagged) assert.deepEqual(withoutReach(mm.classes), withoutReach(pm.classes));
    else {
      assert.ok(Object.keys(learnt).length > 0, "some tagged frames went to the bank");
      for (const cls of Object.keys(learnt)) assert.notDeepEqual(mm.classes[cls]!.mean, pm.classes[cls]!.mean, cls);
    }
    if (untagged) {
      // The parent read every untagged frame as the class it was made as, and the snapshot says so.
      assert.deepEqual(m.dataSnapshot!.accepted.map((a) => [a.classTag, a.readAs]), tagged.map((a) => [undefined, a.classTag]));
      const counts: Record<string, number> = {};
      for (const a of tagged) counts[a.classTag!] = (counts[a.classTag!] ?? 0) + 1;
      assert.deepEqual(summary.untagged, { frames: 20, unread: 0, readAs: counts, contextClass: {} });
    } else assert.equal(summary.untagged, undefined);
    // Each class's threshold: fit's over its 3 held-out frames; the refresh's over those and the accepted frames it held out of that class.
    const classesOfThresholds = (mm: typeof m) => Object.fromEntries(Object.entries(mm.thresholds!.knn!.classes ?? {}).map(([k, v]) => [k, v.holdoutImages]));
    if (classThresholds) {
      const fitted = classesOfThresholds(parent);
      assert.deepEqual(Object.keys(fitted).sort(), Object.keys(parent.memory.classRows!).sort());
      assert.ok(Object.values(fitted).every((n) => n === 3), JSON.stringify(fitted));
      const refreshed = classesOfThresholds(m);
      const heldOut = m.thresholds!.knn!.holdoutImages - 3 * Object.keys(fitted).length;
      assert.ok(heldOut > 0, "the refresh held some accepted frames out");
      assert.deepEqual(Object.keys(refreshed).sort(), Object.keys(fitted).sort());
      assert.equal(Object.values(refreshed).reduce((a, b) => a + b, 0), m.thresholds!.knn!.holdoutImages, "every held-out frame is tagged or read, so each counts for its class");
      assert.notDeepEqual(m.thresholds!.knn!.classes, parent.thresholds!.knn!.classes);
    } else {
      assert.equal(m.thresholds!.knn!.classes, undefined, "one model threshold: no class gets its own");
    }
    if (detailWeight) {
      // The detail bank is the new rows' fine channels, at the weight fit served; its normalizers are measured on the new bank.
      const [pd, md] = [parent.scoring.detail!, m.scoring.detail!];
      assert.equal(pd.weight, detailWeight);
      assert.deepEqual({ ...md, normalizers: undefined }, { ...pd, normalizers: undefined });
      assert.equal(Object.values(md.classWeights!)[0], 0.5, "the per-class weight is carried");
      assert.notDeepEqual(md.normalizers, pd.normalizers);
      assert.deepEqual(Object.keys(md.normalizers!.main).sort(), Object.keys(m.thresholds!).sort());
    } else {
      // Whatever tuning chose, one W or per class, is carried.
      assert.equal(m.scoring.detail?.weight ?? 0, parent.scoring.detail?.weight ?? 0);
      assert.deepEqual(m.scoring.detail?.classWeights, parent.scoring.detail?.classWeights);
    }
  });
}
