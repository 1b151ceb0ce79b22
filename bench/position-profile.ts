/**
 * `npm run bench:profile`: what standardizing the anomaly map by each class's
 * normal profile (model/scoring/position-profile.ts) does to the image score
 * of every class that has the normals for one, whether or not fit kept it
 * (fit keeps it per class on pseudo-validation: tuning.positionProfile).
 *
 * For --bundle and the test images of --data (default: the data set the
 * bundle was fitted on), each class with at least MIN_PROFILE_NORMALS
 * held-out normals (the bundle's, manifest provenance.holdoutFiles) gets a
 * profile from their maps; every test image is scored both ways with the
 * bundle's image-score rule, on the map the bundle serves before its edge
 * correction and without its own profiles. Prints per class the image AUROC and the verdicts at the
 * `threshold.quantile` (default 0.99) of the held-out normals' scores, each
 * normal scored against the profile of the others (as a threshold
 * calibrated on them would have to be), then the mean over those classes
 * and the ratio of the standardized figure to today's.
 *
 * Usage: npm run bench:profile -- --bundle B [--data DIR] [--mode lafite|knn|edit-only|no-edit]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { decodeEncoded } from "../src/image/decode.js";
import { loadDetector } from "../src/pipeline/load.js";
import { imageScoreOf } from "../src/model/scoring/anomaly-map.js";
import { quantile } from "../src/model/scoring/threshold.js";
import { MIN_PROFILE_NORMALS, ProfileSums, standardizeMap } from "../src/model/scoring/position-profile.js";
import { auroc } from "../src/measures/metrics.js";
import { SCORING_MODES, type ScoringMode } from "../src/model/types.js";

const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, mode: { type: "string" } } });
if (!values.bundle) throw new Error("usage: npm run bench:profile -- --bundle B [--data DIR] [--mode lafite|knn|edit-only|no-edit]");
if (values.mode !== undefined && !(SCORING_MODES as readonly string[]).includes(values.mode)) throw new Error(`--mode must be one of ${SCORING_MODES.join(", ")}`);
const manifest = JSON.parse(await readFile(join(values.bundle, "manifest.json"), "utf8")) as {
  scoring: { imageScore?: "pool" | "top"; pool: number; top?: number };
  threshold: { quantile?: number };
  provenance: { dataset: string; holdoutFiles: string[] };
};
const data = values.data ?? manifest.provenance.dataset;
const q = manifest.threshold.quantile ?? 0.99;
// Without the bundle's own profiles: "today" is the score they would replace.
const detector = await loadDetector(values.bundle, { edgeCorrection: false, positionProfile: false, ...(values.mode ? { mode: values.mode as ScoringMode } : {}) });
try {
  const S = detector.info.inputSize;
  const score = (map: Float32Array) => imageScoreOf(map, S, manifest.scoring);
  const mapOf = async (path: string) => (await detector.scoreImage(await decodeEncoded(await readFile(path)))).map;
  interface Figures { auroc: number; caught: number; flagged: number }
  const rows: { cls: string; normals: number; defects: number; good: number; today: Figures; standardized: Figures }[] = [];
  for (const cls of await scanDataset(data)) {
    const held = manifest.provenance.holdoutFiles.filter((f) => f.startsWith(`${cls.name}/`)).map((f) => join(data, f));
    if (held.length < MIN_PROFILE_NORMALS) {
      console.log(`${cls.name}: ${held.length} held-out normals, under ${MIN_PROFILE_NORMALS}: no profile`);
      continue;
    }
    const normals: Float32Array[] = [];
    for (const path of held) normals.push(await mapOf(path));
    const sums = new ProfileSums(S * S);
    for (const m of normals) sums.add(m);
    const profile = sums.profile();
    const labels: boolean[] = [];
    const today: number[] = [];
    const standardized: number[] = [];
    for (const item of cls.test) {
      const map = await mapOf(item.path);
      labels.push(item.anomalous);
      today.push(score(map));
      standardized.push(score(standardizeMap(map, profile)));
    }
    const figures = (scores: number[], normalScores: number[]): Figures => {
      const threshold = quantile(normalScores, q);
      return {
        auroc: 100 * auroc(scores, labels),
        caught: scores.filter((s, i) => labels[i] && s > threshold).length,
        flagged: scores.filter((s, i) => !labels[i] && s > threshold).length,
      };
    };
    rows.push({
      cls: cls.name,
      normals: normals.length,
      defects: labels.filter(Boolean).length,
      good: labels.filter((a) => !a).length,
      today: figures(today, normals.map(score)),
      standardized: figures(standardized, normals.map((m) => score(standardizeMap(m, sums.profileWithout(m))))),
    });
  }
  if (rows.length === 0) throw new Error(`no class of ${data} has ${MIN_PROFILE_NORMALS} held-out normals in ${values.bundle}`);
  const cell = (f: Figures, r: { defects: number; good: number }) => `${f.auroc.toFixed(1).padStart(5)}  ${`${f.caught}/${r.defects}`.padStart(6)}  ${`${f.flagged}/${r.good}`.padStart(6)}`;
  const width = Math.max(5, ...rows.map((r) => r.cls.length));
  console.log(`mode ${detector.info.mode}, image score ${manifest.scoring.imageScore ?? "pool"}, verdicts at the ${q} quantile of the held-out normals`);
  console.log(`${"class".padEnd(width)}  normals  ${"today: AUROC caught flagged".padStart(27)}  ${"standardized: AUROC caught flagged".padStart(34)}`);
  for (const r of rows) console.log(`${r.cls.padEnd(width)}  ${String(r.normals).padStart(7)}  ${cell(r.today, r).padStart(27)}  ${cell(r.standardized, r).padStart(34)}`);
  const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const [a0, a1] = [mean((r) => r.today.auroc), mean((r) => r.standardized.auroc)];
  console.log(`mean image AUROC over ${rows.length} classes: today ${a0.toFixed(2)}, standardized ${a1.toFixed(2)} (ratio ${(a1 / a0).toFixed(3)}); defects caught ${sum((r) => r.today.caught)} → ${sum((r) => r.standardized.caught)}, good flagged ${sum((r) => r.today.flagged)} → ${sum((r) => r.standardized.flagged)}`);
} finally {
  await detector.close();
}
