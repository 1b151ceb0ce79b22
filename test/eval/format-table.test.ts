import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, type EvalReport } from "../../src/eval/evaluate.js";

test("the table has a pix AUPRO column: percentages per class and the mean, '-' where undefined", () => {
  const report: EvalReport = {
    mode: "knn",
    classes: {
      fabric: { image_auroc: 1, pixel_auroc: 0.98, image_ap: 1, pixel_ap: 0.5, pixel_aupro: 0.912 },
      hex_nut: { image_auroc: 0.9, pixel_auroc: null, image_ap: 0.8, pixel_ap: null, pixel_aupro: null },
    },
    mean: { image_auroc: 0.95, pixel_auroc: 0.98, image_ap: 0.9, pixel_ap: 0.5, pixel_aupro: 0.912 },
    details: {},
    classTags: false,
    verdicts: {
      classes: {
        fabric: { defects: 8, caught: 6, good: 5, flagged: 1, misread: 0, misreadAs: {}, unlike: 0, threshold: 1.23456, ownThreshold: true, leftOutImages: 23 },
        hex_nut: { defects: 3, caught: 3, good: 0, flagged: 0, misread: 3, misreadAs: { fabric: 1, plate: 2 }, unlike: 0, threshold: 90.991, ownThreshold: false },
      },
      all: { defects: 11, caught: 9, good: 5, flagged: 1, misread: 3, misreadAs: { fabric: 1, plate: 2 }, unlike: 0 },
    },
    defects: {
      fabric: {
        hole: { images: 5, caught: 5, image_auroc: 1, pixel_auroc: 0.99, pixel_ap: 0.6, pixel_aupro: 0.955 },
        thread_pulled: { images: 3, caught: 1, image_auroc: 0.6, pixel_auroc: 0.9, pixel_ap: 0.2, pixel_aupro: 0.801 },
      },
      hex_nut: { scratch: { images: 3, caught: 3, image_auroc: null, pixel_auroc: null, pixel_ap: null, pixel_aupro: null } },
    },
    seconds: 1,
  };
  const lines = formatTable(report).split("\n");
  assert.match(lines[1]!, /pix AUPRO$/);
  assert.match(lines[2]!, /^fabric .* 91\.2$/);
  assert.match(lines[3]!, /^hex_nut .* -\s*$/);
  assert.match(lines[4]!, /^mean .* 91\.2$/);
  // Then the verdicts at the served thresholds: counts, shares, and the classes a frame was misread as (most first).
  assert.equal(lines[5], "");
  assert.match(lines[6]!, /^verdicts at the served thresholds/);
  assert.match(lines[8]!, /^fabric\s+1\.235\s+6\/8\s+75\.0%\s+1\/5\s+20\.0%\s+0$/);
  assert.match(lines[9]!, /^hex_nut\s+90\.99 \(model's\)\s+3\/3\s+100\.0%\s+0\/0\s+-\s+3 \(2 as plate, 1 as fabric\)$/);
  assert.match(lines[10]!, /^all\s+9\/11\s+81\.8%\s+1\/5\s+20\.0%\s+3 \(2 as plate, 1 as fabric\)$/);
  // A class whose own threshold used left-out bank images says so under the table.
  assert.equal(lines[11], "fabric: its own threshold is calibrated on 23 of its bank images scored with their own rows left out, beside its few held-out normals");
  // Then each defect type against its class's good images.
  assert.equal(lines[12], "");
  assert.match(lines[13]!, /^per defect type/);
  assert.match(lines[14]!, /^class\s+defect\s+img AUROC\s+pix AUROC\s+pix AUPRO\s+caught$/);
  assert.match(lines[15]!, /^fabric\s+hole\s+100\.0\s+99\.0\s+95\.5\s+5\/5$/);
  assert.match(lines[16]!, /^fabric\s+thread_pulled\s+60\.0\s+90\.0\s+80\.1\s+1\/3$/);
  assert.match(lines[17]!, /^hex_nut\s+scratch\s+-\s+-\s+-\s+3\/3$/);
  assert.equal(lines.length, 18);
});

test("no per-defect block when no class has anomalous test images", () => {
  const report: EvalReport = {
    mode: "knn",
    classes: { fabric: { image_auroc: null, pixel_auroc: null, image_ap: null, pixel_ap: null, pixel_aupro: null } },
    mean: { image_auroc: null, pixel_auroc: null, image_ap: null, pixel_ap: null, pixel_aupro: null },
    details: {},
    classTags: false,
    verdicts: { classes: { fabric: { defects: 0, caught: 0, good: 2, flagged: 0, misread: 0, misreadAs: {}, unlike: 0, threshold: 1, ownThreshold: true } }, all: { defects: 0, caught: 0, good: 2, flagged: 0, misread: 0, misreadAs: {}, unlike: 0 } },
    defects: { fabric: {} },
    seconds: 1,
  };
  const lines = formatTable(report).split("\n");
  assert.doesNotMatch(lines.at(-1)!, /per defect type|^$/);
  assert.ok(!lines.some((l) => l.startsWith("per defect type")));
});
