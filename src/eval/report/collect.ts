/**
 * Collects, while `lafite eval` runs, what the report needs and nothing
 * proportional to pixels: every test image's score and path (a few dozen
 * bytes each) and, per class, its curves thinned to a few hundred points
 * taken from the metric accumulators before they are dropped.
 */
import { exactGroups } from "../../measures/metrics.js";
import type { ClassAccumulators, ClassMetrics, ImageScore } from "../evaluate.js";
import { cutAt, prPoints, rocPoints, thinCurve, type Point } from "./curves.js";
import type { CurvePair } from "./report-data.js";
import { PRO_FPR_LIMIT } from "../../measures/pro.js";

/** Curves are drawn ~300 px wide: a vertex every 1/500 of the axis is finer than a pixel. */
const CURVE_STEP = 0.002;

export interface CollectedClass {
  readonly name: string;
  readonly metrics: ClassMetrics;
  readonly imageCurves: CurvePair | null;
  readonly pixelCurves: CurvePair | null;
  readonly pro: Point[] | null;
}

export class ReportCollector {
  readonly images = new Map<string, ImageScore[]>();
  readonly classes: CollectedClass[] = [];

  readonly onImage = (s: ImageScore): void => {
    let list = this.images.get(s.class);
    if (!list) this.images.set(s.class, (list = []));
    list.push(s);
  };

  readonly onClass = (c: ClassAccumulators): void => {
    const both = c.labels.some((l) => l === 1) && c.labels.some((l) => l === 0);
    const image = both ? exactGroups(c.scores, c.labels, "image curves") : null;
    const pixels = c.pixels?.groups();
    this.classes.push({
      name: c.name,
      metrics: c.metrics,
      imageCurves: image ? { roc: rocPoints(image), pr: prPoints(image) } : null,
      pixelCurves: pixels ? { roc: thinCurve(rocPoints(pixels), CURVE_STEP), pr: thinCurve(prPoints(pixels), CURVE_STEP) } : null,
      pro: c.pro ? thinCurve(cutAt(curvePoints(c.pro.curve()), PRO_FPR_LIMIT), CURVE_STEP) : null,
    });
  };
}

function curvePoints(c: { x: Float64Array; y: Float64Array }): Point[] {
  return Array.from(c.x, (x, i) => ({ x, y: c.y[i]! }));
}
