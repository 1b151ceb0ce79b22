/**
 * Which classes get the edge correction (model/scoring/edge-profile.ts),
 * chosen on the pseudo-validation set in the served mode at the final
 * settings (τ, K, the detail and context weights): each class's profile from
 * its held-out normals, and its pixel AUROC and AUPRO with and without it.
 * A held-out normal is corrected by the profile of the class's other normals,
 * so it is not scored against a profile it shaped (a class of 2 held-out
 * normals would otherwise flatten its own edges).
 *
 * Kept where neither pixel AUROC nor AUPRO falls and one rises by `margin`:
 * on the realistic suite the textures and the tiles of many sizes gain
 * (cast tiles AUPRO +2 to +5), the objects (whose frame edge is plain ground,
 * their profile content) lose a little, and the set tells them apart as the
 * test set does.
 */
import { EDGE_REACH, EdgeProfileSums, correctEdges, edgeDistanceCache, type EdgeProfiles, type EdgeTuningRecord, type PixelFigures } from "../../model/scoring/edge-profile.js";
import { PixelMetricAccumulator } from "../../measures/metrics.js";
import { ProAccumulator } from "../../measures/pro.js";
import { openScorer } from "../open-scorer.js";
import { checkRemeasureInput, type RemeasureInput, type TuneCorrectionInput } from "./correction-input.js";
import { throwIfCancelled } from "../../util/progress.js";
import { framePixels, type PseudoFeature } from "./pseudo-features.js";

/**
 * Whether a class keeps the correction: neither pixel AUROC nor AUPRO down, and one of them up by at least `margin`.
 * Either figure may carry the gain: the tiles' pasted anomalies are near-invisible on the set (AUPRO about 0.38), so in
 * knn mode their AUPRO rose 0.2 points there while their pixel AUROC rose 1 (and the test set's AUPRO 5.5).
 */
export function keepsEdgeCorrection(base: PixelFigures, corrected: PixelFigures, margin: number): boolean {
  if (base.aupro === null || corrected.aupro === null || base.pixel_auroc === null || corrected.pixel_auroc === null) return false;
  const eps = 1e-12;
  if (corrected.aupro < base.aupro - eps || corrected.pixel_auroc < base.pixel_auroc - eps) return false;
  return corrected.aupro >= base.aupro + margin - eps || corrected.pixel_auroc >= base.pixel_auroc + margin - eps;
}

export async function tuneEdgeCorrection(input: TuneCorrectionInput<PseudoFeature> & { readonly margin: number }): Promise<{ edges?: EdgeProfiles; record: EdgeTuningRecord }> {
  const S = input.settings.mapSize;
  const distOf = edgeDistanceCache(S, EDGE_REACH);
  const opened = await openScorer(input.mode, input.parts, input.settings, input.sessionOptions);
  // Normals first: their sums make the profile the anomalies are corrected by.
  const order = [...input.set.keys()].sort((a, b) => Number(input.set[a]!.anomalous) - Number(input.set[b]!.anomalous));
  const sums = new Map<string, EdgeProfileSums>();
  const normals: { map: Float32Array; dist: Int16Array; sample: PseudoFeature }[] = [];
  const figures = new Map<string, { base: [PixelMetricAccumulator, ProAccumulator]; corrected: [PixelMetricAccumulator, ProAccumulator] }>();
  // Over the frame's pixels only (framePixels), as every pseudo-validation pixel figure.
  const add = (sample: PseudoFeature, which: "base" | "corrected", map: Float32Array) => {
    let f = figures.get(sample.cls);
    if (!f) figures.set(sample.cls, (f = { base: [new PixelMetricAccumulator(), new ProAccumulator()], corrected: [new PixelMetricAccumulator(), new ProAccumulator()] }));
    const px = framePixels(sample, map, S);
    f[which][0].add(px.map, px.mask);
    f[which][1].add(px.map, px.mask, px.width);
  };
  try {
    for (const i of order) {
      throwIfCancelled(input.signal, "edge correction");
      const f = input.set[i]!;
      const { map } = await opened.scorer.score(f.x);
      const dist = distOf(f.x);
      if (!f.anomalous) {
        normals.push({ map, dist, sample: f });
        let s = sums.get(f.cls);
        if (!s) sums.set(f.cls, (s = new EdgeProfileSums(EDGE_REACH)));
        s.add(map, dist);
      } else {
        const correction = sums.get(f.cls)?.correction();
        add(f, "base", map);
        add(f, "corrected", correction ? correctEdges(map, dist, correction) : map);
      }
      input.progress?.tick();
    }
  } finally {
    await opened.release();
  }
  for (const n of normals) {
    const correction = sums.get(n.sample.cls)!.without(n.map, n.dist).correction();
    add(n.sample, "base", n.map);
    add(n.sample, "corrected", correction ? correctEdges(n.map, n.dist, correction) : n.map);
  }
  const figuresOf = ([pixels, regions]: [PixelMetricAccumulator, ProAccumulator]): PixelFigures => ({ pixel_auroc: pixels.aurocOrNull(), aupro: regions.regions > 0 && regions.normalPixels > 0 ? regions.aupro() : null });
  const classes: Record<string, EdgeTuningRecord["classes"][string]> = {};
  const chosen: Record<string, number[]> = {};
  for (const [cls, f] of [...figures].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = figuresOf(f.base);
    const corrected = figuresOf(f.corrected);
    const correction = sums.get(cls)?.correction();
    const keep = correction !== undefined && keepsEdgeCorrection(base, corrected, input.margin);
    classes[cls] = { base, corrected, chosen: keep };
    if (keep) chosen[cls] = correction.map((v) => +v.toPrecision(7));
  }
  const record: EdgeTuningRecord = { mode: input.mode, reach: EDGE_REACH, margin: input.margin, classes };
  return { ...(Object.keys(chosen).length > 0 ? { edges: { mode: input.mode, reach: EDGE_REACH, classes: chosen } } : {}), record };
}

/** The choice for a log line: each class's AUPRO without → with the correction, the kept ones marked. */
export function describeEdgeChoice(r: EdgeTuningRecord): string {
  const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));
  const kept = Object.entries(r.classes).filter(([, c]) => c.chosen).map(([cls]) => cls);
  return `edge correction (${r.mode} mode, pseudo-validation AUPRO without → with): ${Object.entries(r.classes).map(([cls, c]) => `${cls} ${pct(c.base.aupro)} → ${pct(c.corrected.aupro)}${c.chosen ? " (kept)" : ""}`).join(", ")}; ${kept.length > 0 ? `kept for ${kept.join(", ")}` : "kept for no class"}`;
}

/**
 * The kept classes' profiles measured again on a model's held-out normals, as it will serve (a lifecycle
 * refresh or retrain moves its maps): which classes keep the correction stays as tuning chose; a class with
 * no held-out normal among `maps` keeps its profile.
 */
export async function remeasureEdges(input: RemeasureInput & { readonly edges: EdgeProfiles }): Promise<{ edges: EdgeProfiles; normals: Record<string, number> }> {
  const { edges } = input;
  checkRemeasureInput(input);
  const distOf = edgeDistanceCache(input.settings.mapSize, edges.reach);
  const sums = new Map<string, EdgeProfileSums>();
  const opened = await openScorer(edges.mode, input.parts, input.settings, input.sessionOptions);
  try {
    for (let i = 0; i < input.maps.length; i++) {
      const cls = input.classes[i];
      if (!profiled(edges, cls)) continue;
      throwIfCancelled(input.signal, "edge correction");
      const x = input.maps[i]!;
      let s = sums.get(cls);
      if (!s) sums.set(cls, (s = new EdgeProfileSums(edges.reach)));
      s.add((await opened.scorer.score(x)).map, distOf(x));
      input.onScored?.();
    }
  } finally {
    await opened.release();
  }
  const classes = Object.fromEntries(Object.entries(edges.classes).map(([cls, old]) => [cls, sums.get(cls)?.correction()?.map((v) => +v.toPrecision(7)) ?? old]));
  const normals = Object.fromEntries(Object.keys(edges.classes).map((cls) => [cls, sums.has(cls) ? input.maps.filter((_, i) => input.classes[i] === cls).length : 0]));
  return { edges: { ...edges, classes }, normals };
}

/** Whether remeasureEdges scores a map of class `cls`: tagged, and of a corrected class. */
function profiled(edges: EdgeProfiles, cls: string | undefined): cls is string {
  return cls !== undefined && cls in edges.classes;
}

/** How many scorings remeasureEdges does over maps of these classes (its progress total). */
export function edgeRemeasureWork(edges: EdgeProfiles, classes: readonly (string | undefined)[]): number {
  return classes.filter((cls) => profiled(edges, cls)).length;
}
