/**
 * The figures per defect type: each defect folder's images against the
 * class's good images, the way MVTec LOCO AD reports its logical and
 * structural anomalies apart. A class's mean hides which kind of defect the
 * model misses (a tile class at image AUROC 78 may catch every crack and
 * no blowhole); these rows say it, with how many of them the served
 * thresholds caught.
 *
 * One accumulator per group (the good images, each defect type) instead of
 * one per class: a defect type's pixel metrics are its group plus the good
 * group, and the class's are the sum of all groups, so every map is binned
 * once.
 */
import { auroc, PixelMetricAccumulator } from "../measures/metrics.js";
import { ProAccumulator } from "../measures/pro.js";

export interface DefectMetrics {
  /** Images of this defect type that were scored. */
  images: number;
  /** Of them, judged NG at the served thresholds. */
  caught: number;
  /** Against the class's good images; null without good images. */
  image_auroc: number | null;
  /** Over this type's images and the good images; null without masks for it. */
  pixel_auroc: number | null;
  pixel_ap: number | null;
  pixel_aupro: number | null;
}

/** The pixel accumulators of some maps: the two always take the same maps. */
interface Maps {
  readonly pixels: PixelMetricAccumulator;
  readonly pro: ProAccumulator;
}

interface Group {
  readonly scores: number[];
  caught: number;
  maps?: Maps;
}

function emptyGroup(): Group {
  return { scores: [], caught: 0 };
}

/** One class's scored test images, grouped by defect type. */
export class DefectGroups {
  private readonly good = emptyGroup();
  private readonly defects = new Map<string, Group>();

  private groupOf(defect: string, anomalous: boolean): Group {
    if (!anomalous) return this.good;
    let g = this.defects.get(defect);
    if (!g) this.defects.set(defect, (g = emptyGroup()));
    return g;
  }

  /** One scored image and whether it was judged NG. */
  addImage(defect: string, anomalous: boolean, score: number, ng: boolean): void {
    const g = this.groupOf(defect, anomalous);
    g.scores.push(score);
    if (ng) g.caught++;
  }

  /** One image's map at its mask's resolution (row-major, `width` wide), for the pixel metrics. */
  addPixels(defect: string, anomalous: boolean, map: Float32Array, mask: Uint8Array, width: number): void {
    const g = this.groupOf(defect, anomalous);
    g.maps ??= { pixels: new PixelMetricAccumulator(), pro: new ProAccumulator() };
    // pixels.add refuses a bad map before counting anything, and pro.add checks the same things, so both count or neither does.
    g.maps.pixels.add(map, mask);
    g.maps.pro.add(map, mask, width);
  }

  /** The class's pixel accumulators: every group's maps summed (undefined when no map was added). */
  classPixels(): Maps | undefined {
    return summedMaps([this.good, ...this.defects.values()]);
  }

  /** Each defect type's figures, in the order the types were first seen. */
  metrics(): Record<string, DefectMetrics> {
    const out: Record<string, DefectMetrics> = {};
    for (const [defect, g] of this.defects) {
      // Without maps of its own the type has no pixel figures, whatever the good images have.
      const maps = g.maps ? summedMaps([g, this.good]) : undefined;
      // Both accumulators took the same maps, so normal pixels for one are normal pixels for the other.
      const defined = maps !== undefined && maps.pixels.positives > 0 && maps.pixels.negatives > 0;
      out[defect] = {
        images: g.scores.length,
        caught: g.caught,
        image_auroc: this.good.scores.length > 0 && g.scores.length > 0 ? imageAuroc(g.scores, this.good.scores) : null,
        pixel_auroc: defined ? maps.pixels.auroc() : null,
        pixel_ap: defined ? maps.pixels.averagePrecision() : null,
        pixel_aupro: defined && maps.pro.regions > 0 ? maps.pro.aupro() : null,
      };
    }
    return out;
  }
}

/** The groups' maps summed into one pair of accumulators; undefined when none of them has maps. */
function summedMaps(groups: readonly Group[]): Maps | undefined {
  const maps = groups.flatMap((g) => (g.maps ? [g.maps] : []));
  if (maps.length === 0) return undefined;
  return { pixels: PixelMetricAccumulator.sum(maps.map((m) => m.pixels)), pro: ProAccumulator.sum(maps.map((m) => m.pro)) };
}

function imageAuroc(anomalous: readonly number[], good: readonly number[]): number {
  return auroc([...anomalous, ...good], [...anomalous.map(() => 1), ...good.map(() => 0)]);
}

/**
 * The per-defect block of `lafite eval`'s table: one row per class and
 * defect type, image / pixel AUROC and AUPRO in %, and defects caught.
 */
export function formatDefectTable(defects: Readonly<Record<string, Readonly<Record<string, DefectMetrics>>>>): string {
  const rows = Object.entries(defects).flatMap(([cls, byDefect]) => Object.entries(byDefect).map(([defect, m]) => ({ cls, defect, m })));
  if (rows.length === 0) return "";
  const pct = (v: number | null) => (v === null ? "-" : (100 * v).toFixed(1)).padStart(9);
  const cw = Math.max(5, ...rows.map((r) => r.cls.length));
  const dw = Math.max(6, ...rows.map((r) => r.defect.length));
  return [
    "per defect type (its images against the class's good images; caught: judged NG at the served thresholds):",
    `${"class".padEnd(cw)}  ${"defect".padEnd(dw)}  img AUROC  pix AUROC  pix AUPRO     caught`,
    ...rows.map(({ cls, defect, m }) => `${cls.padEnd(cw)}  ${defect.padEnd(dw)}  ${pct(m.image_auroc)}  ${pct(m.pixel_auroc)}  ${pct(m.pixel_aupro)}  ${`${m.caught}/${m.images}`.padStart(9)}`),
  ].join("\n");
}
