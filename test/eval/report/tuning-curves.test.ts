import { test } from "node:test";
import assert from "node:assert/strict";
import { tuningReport, type TuningOverrides } from "../../../src/eval/report/tuning-curves.js";
import type { TuningRecord } from "../../../src/model/bundle.js";
import type { ScoringMode } from "../../../src/model/types.js";
import { LafiteError, ErrorCode } from "../../../src/util/errors.js";

const record: TuningRecord = {
  seed: 7,
  perClass: 10,
  images: { anomalous: 30, good: 15 },
  tau: {
    mode: "no-edit",
    curve: [
      { tau: 10, deltaT: 2, image_auroc: 0.8, pixel_auroc: 0.9 },
      { tau: 20, deltaT: 2, image_auroc: 0.85, pixel_auroc: 0.92 },
    ],
    chosen: { tau: 20, deltaT: 2 },
  },
  k: {
    mode: "lafite",
    curve: [
      { k: 1, image_auroc: 0.86, pixel_auroc: null },
      { k: 4, image_auroc: 0.88, pixel_auroc: 0.93 },
    ],
    chosen: 4,
  },
  seconds: 12,
};

test("no tuning record: the section says so", async () => {
  assert.deepEqual(await tuningReport(undefined, { scorer: null }), { state: "absent" });
});

test("each grid point is re-scored in its curve's mode: τ with its Δt, K at the chosen τ", async () => {
  const calls: [ScoringMode, TuningOverrides][] = [];
  const r = await tuningReport(record, {
    scorer: async (mode, o) => {
      calls.push([mode, o]);
      return { image_auroc: (o.k ?? o.tau!) / 100, pixel_auroc: 0.5 };
    },
  });
  assert.deepEqual(calls, [
    ["no-edit", { tau: 10, deltaT: 2 }],
    ["no-edit", { tau: 20, deltaT: 2 }],
    ["lafite", { tau: 20, deltaT: 2, k: 1 }],
    ["lafite", { tau: 20, deltaT: 2, k: 4 }],
  ]);
  assert.equal(r.state, "present");
  if (r.state !== "present") return;
  assert.equal(r.testNote, undefined);
  assert.deepEqual(r.tau.points.map((p) => [p.value, p.pseudo.image_auroc, p.test?.image_auroc]), [[10, 0.8, 0.1], [20, 0.85, 0.2]]);
  assert.deepEqual(r.k.points.map((p) => [p.value, p.pseudo.pixel_auroc, p.test?.image_auroc]), [[1, null, 0.01], [4, 0.93, 0.04]]);
  assert.equal(r.k.chosen, 4);
  assert.equal(r.tau.chosen, 20);
  // pseudo ranks 1 2 3 4 against test ranks 3 4 1 2: Σd² = 16 → ρ = 1 − 6·16/(4·15) = −0.6
  assert.equal(r.rankCorrelation.points, 4);
  assert.equal(r.rankCorrelation.tau, null); // two points only
  assert.ok(Math.abs(r.rankCorrelation.spearman! + 0.6) < 1e-12);
});

test("a τ curve swept in lafite mode is re-scored in lafite mode at the K it was swept at, not the served K", async () => {
  const lafiteTau: TuningRecord = {
    ...record,
    tau: { mode: "lafite", curve: record.tau.curve.map((p) => ({ ...p, k: 3 })), chosen: record.tau.chosen },
  };
  const calls: [ScoringMode, TuningOverrides][] = [];
  await tuningReport(lafiteTau, {
    scorer: async (mode, o) => {
      calls.push([mode, o]);
      return { image_auroc: 0.5, pixel_auroc: 0.5 };
    },
  });
  assert.deepEqual(calls.slice(0, 2), [
    ["lafite", { tau: 10, deltaT: 2, k: 3 }],
    ["lafite", { tau: 20, deltaT: 2, k: 3 }],
  ]);
});

test("--no-tuning-curves: pseudo-validation only, with the reason; a failing mode stops only its own curve", async () => {
  const skipped = await tuningReport(record, { scorer: null, skipNote: "skipped by flag" });
  assert.ok(skipped.state === "present" && skipped.testNote === "skipped by flag" && skipped.tau.points.every((p) => p.test === null));
  let calls = 0;
  const failing = await tuningReport(record, {
    scorer: async (mode) => {
      calls++;
      if (mode === "no-edit") throw new LafiteError(ErrorCode.BAD_BUNDLE, "no denoiser");
      return { image_auroc: 1, pixel_auroc: 1 };
    },
  });
  assert.equal(calls, 3); // the first τ point fails, so the second is not tried; both K points are.
  assert.ok(failing.state === "present");
  if (failing.state !== "present") return;
  assert.match(failing.testNote ?? "", /τ curve: re-scoring in no-edit mode failed \(no denoiser\)/);
  assert.deepEqual(failing.tau.points.map((p) => p.test), [null, null]);
  assert.deepEqual(failing.k.points.map((p) => p.test?.image_auroc), [1, 1]);
});

test("an interrupt is not swallowed", async () => {
  await assert.rejects(
    tuningReport(record, { scorer: async () => Promise.reject(new LafiteError(ErrorCode.CANCELLED, "interrupted")) }),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED,
  );
});

test("a bundle with a detail-bank sweep: τ and K re-scored with the detail bank off, then the W curve at the served τ and K", async () => {
  const withDetail: TuningRecord = {
    ...record,
    detail: { mode: "lafite", stages: ["block_2_add", "block_5_add"], curve: [{ weight: 0, image_auroc: 0.88, pixel_auroc: 0.93 }, { weight: 0.33, image_auroc: 0.9, pixel_auroc: 0.92 }], chosen: 0.33 },
  };
  const calls: [ScoringMode, TuningOverrides][] = [];
  const r = await tuningReport(withDetail, {
    scorer: async (mode, o) => {
      calls.push([mode, o]);
      return { image_auroc: 0.7 + (o.detailWeight ?? 0), pixel_auroc: 0.5 };
    },
  });
  assert.deepEqual(calls, [
    ["no-edit", { tau: 10, deltaT: 2, detailWeight: 0 }],
    ["no-edit", { tau: 20, deltaT: 2, detailWeight: 0 }],
    ["lafite", { tau: 20, deltaT: 2, k: 1, detailWeight: 0 }],
    ["lafite", { tau: 20, deltaT: 2, k: 4, detailWeight: 0 }],
    ["lafite", { detailWeight: 0 }],
    ["lafite", { detailWeight: 0.33 }],
  ]);
  assert.ok(r.state === "present" && r.detail !== undefined);
  if (r.state !== "present") return;
  assert.deepEqual(r.detail!.points.map((p) => [p.value, p.pseudo.image_auroc, p.test?.image_auroc]), [[0, 0.88, 0.7], [0.33, 0.9, 0.7 + 0.33]]);
  assert.equal(r.detail!.chosen, 0.33);
  assert.equal(r.detail!.param, "detailWeight");
  assert.equal(r.detailClasses, undefined, "no per-class sweep recorded");
  const curve = [{ weight: 0, image_auroc: 0.9, pixel_auroc: 0.8, aupro: 0.7 }];
  const perClass = await tuningReport({ ...withDetail, detail: { ...withDetail.detail!, classes: { a: { curve, chosen: 0 }, b: { curve: [], chosen: 0.5 } } } }, { scorer: null });
  assert.ok(perClass.state === "present");
  if (perClass.state === "present") assert.deepEqual(perClass.detailClasses, { a: { chosen: 0, curve: [{ weight: 0, aupro: 0.7 }] }, b: { chosen: 0.5, curve: [] } });
  // A context sweep: per class its swaps and, at each W, the swaps' AUROC and the mean of the others' image AUROC and AUPRO.
  const context: NonNullable<TuningRecord["context"]> = {
    mode: "lafite",
    lambda: 4,
    margin: 0.005,
    tolerance: 0.03,
    swaps: { kit: 20 },
    // kit from a bundle before the image score had its own W (its W is the heatmap's); odd with one.
    classes: {
      kit: { chosen: 1, curve: [{ weight: 0, swaps_auroc: 0.8, image_auroc: 1, pixel_auroc: 0.9, aupro: 0.9 }, { weight: 1, swaps_auroc: 0.9, image_auroc: 0.9, pixel_auroc: 0.9, aupro: null }, { weight: 2, swaps_auroc: null, image_auroc: null, pixel_auroc: null, aupro: null }] },
      odd: { chosen: 0, imageChosen: 1, curve: [] },
    },
  };
  const withContext = await tuningReport({ ...withDetail, context }, { scorer: null });
  assert.ok(withContext.state === "present");
  if (withContext.state === "present") {
    assert.deepEqual(withContext.contextClasses, {
      lambda: 4,
      margin: 0.005,
      tolerance: 0.03,
      classes: { kit: { swaps: 20, chosen: 1, imageChosen: 1, curve: [{ weight: 0, swapsAuroc: 0.8, others: 0.95 }, { weight: 1, swapsAuroc: 0.9, others: 0.9 }, { weight: 2, swapsAuroc: null, others: null }] }, odd: { swaps: 0, chosen: 0, imageChosen: 1, curve: [] } },
    });
  }
  assert.ok(perClass.state === "present" && perClass.contextClasses === undefined, "no context sweep recorded");
  // Without a detail sweep nothing changes: no override, no W curve.
  const plain = await tuningReport(record, { scorer: async (_m, o) => (assert.equal(o.detailWeight, undefined), { image_auroc: 0.5, pixel_auroc: 0.5 }) });
  assert.ok(plain.state === "present" && plain.detail === undefined);
});

test("each point is re-scored with the image-score rule it was swept with: K's both rules, τ at the configured rule when the defaults name one", async () => {
  const withRules: TuningRecord = {
    ...record,
    k: {
      mode: "lafite",
      curve: [
        { k: 1, imageScore: "pool", image_auroc: 0.8, pixel_auroc: 0.9 },
        { k: 1, imageScore: "top", image_auroc: 0.84, pixel_auroc: 0.9 },
      ],
      chosen: 1,
    },
    final: { mode: "lafite", tuned: { tau: 20, deltaT: 2, k: 1, imageScore: "top", image_auroc: 0.84, pixel_auroc: 0.9 }, defaults: { tau: 20, deltaT: 2, k: 3, imageScore: "pool", image_auroc: 0.8, pixel_auroc: 0.9 }, kept: "tuned" },
  };
  const calls: TuningOverrides[] = [];
  const r = await tuningReport(withRules, {
    scorer: async (_mode, o) => {
      calls.push(o);
      return { image_auroc: o.imageScore === "top" ? 0.6 : 0.5, pixel_auroc: 0.7 };
    },
  });
  assert.deepEqual(calls.map((o) => o.imageScore), ["pool", "pool", "pool", "top"]);
  assert.ok(r.state === "present");
  if (r.state !== "present") return;
  assert.deepEqual(r.k.points.map((p) => [p.value, p.rule, p.test?.image_auroc]), [[1, "pool", 0.5], [1, "top", 0.6]]);
  assert.deepEqual(r.served, { tau: 20, k: 1, rule: "top", kept: "tuned" });
  // A record that names no rule (before the rule sweep) is re-scored with the served rule: no override.
  const old = await tuningReport(record, { scorer: async (_m, o) => (assert.equal(o.imageScore, undefined), { image_auroc: 0.5, pixel_auroc: 0.5 }) });
  assert.ok(old.state === "present" && old.k.points.every((p) => p.rule === undefined));
});
