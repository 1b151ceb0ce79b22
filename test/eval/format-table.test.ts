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
    seconds: 1,
  };
  const lines = formatTable(report).split("\n");
  assert.match(lines[1]!, /pix AUPRO$/);
  assert.match(lines[2]!, /^fabric .* 91\.2$/);
  assert.match(lines[3]!, /^hex_nut .* -\s*$/);
  assert.match(lines[4]!, /^mean .* 91\.2$/);
});
