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
 * Profiles are kept on the 28×28 grid, as fit keeps them. --coords frame
 * (the default, as fit measures them): a position is a place of the frame,
 * each map's placement (the frame's rectangle in the letterboxed input)
 * divided into the grid, so frames of different sizes and aspect ratios
 * share positions; --coords input: a place of the S×S input, as session 29's
 * bundles were measured.
 *
 * Usage: npm run bench:profile -- --bundle B [--data DIR] [--mode lafite|knn|edit-only|no-edit] [--coords input|frame]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { decodeEncoded } from "../src/image/decode.js";
import { loadDetector } from "../src/pipeline/load.js";
import { imageScoreOf } from "../src/model/scoring/anomaly-map.js";
import { placement, type Aspect, type Placement } from "../src/image/geometry.js";
import { quantile } from "../src/model/scoring/threshold.js";
import { MIN_PROFILE_NORMALS, PROFILE_GRID, ProfileSums, profileGridMap, profileOnRect, profileRect, standardizeInRect, type PositionProfile, type ProfileCoords } from "../src/model/scoring/position-profile.js";
import { auroc } from "../src/measures/metrics.js";
import { SCORING_MODES, type ScoringMode } from "../src/model/types.js";

const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, mode: { type: "string" }, coords: { type: "string" } } });
// frame (as fit measures them): a position is a place of the frame, its placement divided into the grid; input: a place of the S×S input.
const coords = (values.coords ?? "frame") as ProfileCoords;
if (coords !== "input" && coords !== "frame") throw new Error("--coords must be input or frame");
if (!values.bundle) throw new Error("usage: npm run bench:profile -- --bundle B [--data DIR] [--mode lafite|knn|edit-only|no-edit] [--coords frame|input]");
if (values.mode !== undefined && !(SCORING_MODES as readonly string[]).includes(values.mode)) throw new Error(`--mode must be one of ${SCORING_MODES.join(", ")}`);
const manifest = JSON.parse(await readFile(join(values.bundle, "manifest.json"), "utf8")) as {
  scoring: { imageScore?: "pool" | "top"; pool: number; top?: number };
  backbone: { aspect?: Aspect };
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
  const aspect = manifest.backbone.aspect ?? "stretch";
  interface Scored { map: Float32Array; place: Placement }
  const mapOf = async (path: string): Promise<Scored> => {
    const image = await decodeEncoded(await readFile(path));
    return { map: (await detector.scoreImage(image)).map, place: placement(image.width, image.height, S, aspect) };
  };
  // As served (model/scoring/position-profile.ts ClassProfile): the grid's view of a frame's rectangle, and the map standardized by a grid profile brought to it.
  const rectOf = (s: Scored) => profileRect(coords, S, s.place);
  const view = (s: Scored): Float32Array => profileGridMap(s.map, S, PROFILE_GRID, rectOf(s));
  const standardize = (s: Scored, profile: PositionProfile): Float32Array => standardizeInRect(s.map, S, rectOf(s), profileOnRect(profile, PROFILE_GRID, rectOf(s)));
  interface Figures { auroc: number; caught: number; flagged: number }
  const rows: { cls: string; normals: number; defects: number; good: number; today: Figures; standardized: Figures }[] = [];
  for (const cls of await scanDataset(data)) {
    const held = manifest.provenance.holdoutFiles.filter((f) => f.startsWith(`${cls.name}/`)).map((f) => join(data, f));
    if (held.length < MIN_PROFILE_NORMALS) {
      console.log(`${cls.name}: ${held.length} held-out normals, under ${MIN_PROFILE_NORMALS}: no profile`);
      continue;
    }
    const normals: Scored[] = [];
    for (const path of held) normals.push(await mapOf(path));
    const sums = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
    for (const m of normals) sums.add(view(m));
    const profile = sums.profile();
    const labels: boolean[] = [];
    const today: number[] = [];
    const standardized: number[] = [];
    for (const item of cls.test) {
      const scored = await mapOf(item.path);
      labels.push(item.anomalous);
      today.push(score(scored.map));
      standardized.push(score(standardize(scored, profile)));
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
      today: figures(today, normals.map((m) => score(m.map))),
      standardized: figures(standardized, normals.map((m) => score(standardize(m, sums.profileWithout(view(m)))))),
    });
  }
  if (rows.length === 0) throw new Error(`no class of ${data} has ${MIN_PROFILE_NORMALS} held-out normals in ${values.bundle}`);
  const cell = (f: Figures, r: { defects: number; good: number }) => `${f.auroc.toFixed(1).padStart(5)}  ${`${f.caught}/${r.defects}`.padStart(6)}  ${`${f.flagged}/${r.good}`.padStart(6)}`;
  const width = Math.max(5, ...rows.map((r) => r.cls.length));
  console.log(`positions of the ${coords === "input" ? "S×S input" : "frame"} on a ${PROFILE_GRID}×${PROFILE_GRID} grid; mode ${detector.info.mode}, image score ${manifest.scoring.imageScore ?? "pool"}, verdicts at the ${q} quantile of the held-out normals`);
  console.log(`${"class".padEnd(width)}  normals  ${"today: AUROC caught flagged".padStart(27)}  ${"standardized: AUROC caught flagged".padStart(34)}`);
  for (const r of rows) console.log(`${r.cls.padEnd(width)}  ${String(r.normals).padStart(7)}  ${cell(r.today, r).padStart(27)}  ${cell(r.standardized, r).padStart(34)}`);
  const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const [a0, a1] = [mean((r) => r.today.auroc), mean((r) => r.standardized.auroc)];
  console.log(`mean image AUROC over ${rows.length} classes: today ${a0.toFixed(2)}, standardized ${a1.toFixed(2)} (ratio ${(a1 / a0).toFixed(3)}); defects caught ${sum((r) => r.today.caught)} → ${sum((r) => r.standardized.caught)}, good flagged ${sum((r) => r.today.flagged)} → ${sum((r) => r.standardized.flagged)}`);
} finally {
  await detector.close();
}
