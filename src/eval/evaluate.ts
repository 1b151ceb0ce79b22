/**
 * `lafite eval`: scores every test image of an MVTec-layout data set with a
 * bundle's Detector — the same code path as serving — and reports per class
 * image AUROC / AP and, where ground truth exists, pixel AUROC / AP and
 * AUPRO at the images' own resolution (Table 1 of the paper; AUPRO as MVTec
 * AD defines it, see pro.ts). Images and pixels are ranked relative to the
 * threshold each image was judged by (judged-units.ts): a unified model's
 * classes score in units of their own.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, parse } from "node:path";
import { scanDataset, type DatasetClass } from "../dataset/mvtec-layout.js";
import { readMask } from "../dataset/masks.js";
import { auroc, averagePrecision, type PixelMetricAccumulator } from "../measures/metrics.js";
import type { ProAccumulator } from "../measures/pro.js";
import { decodeEncoded } from "../image/decode.js";
import type { BundleDetector } from "../pipeline/bundle-detector.js";
import { DEFAULT_CLASS_TAG_MISMATCH, frameIsNg, type ClassTagMismatch } from "../pipeline/class-tag.js";
import { renderHeatmapPng, overlayHeatmap } from "../image/heatmap.js";
import { Progress, throwIfCancelled, type ProgressSink } from "../util/progress.js";
import { countVerdict, emptyVerdicts, formatVerdictTable, sumVerdicts, type ClassVerdicts, type VerdictCounts } from "./verdicts.js";
import { DefectGroups, formatDefectTable, type DefectMetrics } from "./by-defect.js";
import { pixelsRelativeToThreshold, relativeToThreshold } from "../measures/judged-units.js";

export interface ClassMetrics {
  image_auroc: number | null;
  pixel_auroc: number | null;
  image_ap: number | null;
  pixel_ap: number | null;
  /** Area under the per-region-overlap curve up to 30 % FPR, divided by 0.3. */
  pixel_aupro: number | null;
}

export interface EvalReport {
  mode: string;
  classes: Record<string, ClassMetrics>;
  mean: ClassMetrics;
  /** Extra facts: image counts, skipped files, timing. */
  details: Record<string, { images: number; anomalous: number; skipped: string[]; pixelImages: number }>;
  /** OK/NG outcomes at the thresholds the daemon would judge each image by, per class and over all of them. */
  verdicts: { classes: Record<string, ClassVerdicts>; all: VerdictCounts };
  /** Per class, each defect type's images against the class's good images (by-defect.ts). */
  defects: Record<string, Record<string, DefectMetrics>>;
  /** Whether each image was tagged with its class (EvalOptions.classTags) and judged as it, not as the class it read as. */
  classTags: boolean;
  /** With classTags: the verdict rule for an image read as another class than its tag (EvalOptions.classTagMismatch). */
  classTagMismatch?: ClassTagMismatch;
  seconds: number;
}

/** One scored test image (eval --scores). */
export interface ImageScore {
  readonly path: string;
  readonly class: string;
  readonly defect: string;
  readonly anomalous: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly verdict: "OK" | "NG";
  /** The class the model read the frame as (by its class means, else its nearest bank rows), when the bank records its rows' classes; its threshold is that class's unless the image was tagged. */
  readonly readAs?: string;
  /** With class tags (EvalOptions.classTags): the class it was judged as, its own when the model has it. */
  readonly judgedAs?: string;
  /** Each class's share of the frame's voting cells (DetectResponse.class_shares), rounded to 0.001. */
  readonly classShares?: Readonly<Record<string, number>>;
  /** DetectResponse.look_ratio, rounded to 0.001: how far its look lies from its class's, in that class's reach; absent without one. */
  readonly lookRatio?: number;
  /** DetectResponse.light_ratio, rounded to 0.001: how far its light lies from the middle of its class's range, in half its width; absent without one. */
  readonly lightRatio?: number;
  /** Its look ratio is above the model's unlike margin: NG whatever its score, as like none of the model's classes. */
  readonly unlike?: true;
  /** A frame of a tiled class (model/tiling.ts): the whole frame's score and its tiles' (in the class's threshold units); `score` is the larger. */
  readonly tiles?: { readonly wholeScore: number; readonly tileScore: number };
}

/** What one class's evaluation accumulated, handed to {@link EvalOptions.onClass} before it is dropped. */
export interface ClassAccumulators {
  readonly name: string;
  readonly scores: readonly number[];
  readonly labels: readonly number[];
  /** Present when the class has ground truth with both normal and anomalous pixels. */
  readonly pixels?: PixelMetricAccumulator;
  /** Present when, in addition, some mask held a region. */
  readonly pro?: ProAccumulator;
  readonly metrics: ClassMetrics;
}

export interface EvalOptions {
  readonly data: string;
  /** Receives every scored image, in data-set order. */
  readonly onImage?: (s: ImageScore) => void;
  /** Receives each class's accumulators when the class is done (report curves). */
  readonly onClass?: (c: ClassAccumulators) => void;
  readonly classes?: readonly string[];
  /** Tag each image with its class, as a line that sends its recipe does: it is judged as its class (detail weight, threshold) when the model has it, not as the class it reads as. */
  readonly classTags?: boolean;
  /** With classTags, the verdict of an image that reads as another class than its tag, as the daemon's model.classTagMismatch: ng (the default), judge (by its score) or distinct (ng unless the classes look alike to the model). */
  readonly classTagMismatch?: ClassTagMismatch;
  readonly heatmapsDir?: string;
  readonly signal?: AbortSignal;
  readonly progressSink?: ProgressSink;
  readonly log?: (msg: string) => void;
}

const METRIC_KEYS = ["image_auroc", "pixel_auroc", "image_ap", "pixel_ap", "pixel_aupro"] as const;

function safeMetric(f: () => number): number | null {
  try {
    return f();
  } catch {
    return null; // one class only (e.g. no anomalous test images): the metric is undefined
  }
}

export async function evaluate(detector: BundleDetector, options: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const classes = await scanDataset(options.data, options.classes ? { classes: options.classes } : {});
  const total = classes.reduce((n, c) => n + c.test.length, 0);
  const progress = new Progress("eval", total, { unit: "images", ...(options.progressSink ? { sink: options.progressSink } : {}) });
  const report: EvalReport = { mode: detector.info.mode, classes: {}, mean: { image_auroc: null, pixel_auroc: null, image_ap: null, pixel_ap: null, pixel_aupro: null }, details: {}, verdicts: { classes: {}, all: emptyVerdicts() }, defects: {}, classTags: options.classTags ?? false, ...(options.classTags ? { classTagMismatch: mismatchRule(options) } : {}), seconds: 0 };
  for (const cls of classes) {
    report.classes[cls.name] = await evaluateClass(detector, cls, options, progress, log, report);
  }
  report.verdicts.all = sumVerdicts(Object.values(report.verdicts.classes));
  for (const key of METRIC_KEYS) {
    const values = Object.values(report.classes).map((m) => m[key]).filter((v): v is number => v !== null);
    report.mean[key] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

async function evaluateClass(detector: BundleDetector, cls: DatasetClass, options: EvalOptions, progress: Progress, log: (m: string) => void, report: EvalReport): Promise<ClassMetrics> {
  const scores: number[] = [];
  const labels: number[] = [];
  const groups = new DefectGroups();
  const skipped: string[] = [];
  // The threshold a frame read as this class gets: its own, else the model's.
  const leftOut = detector.info.classLeftOutImages?.[cls.name];
  const verdicts: ClassVerdicts = { ...emptyVerdicts(), threshold: detector.thresholdOf(cls.name), ownThreshold: detector.info.classThresholds?.[cls.name] !== undefined, ...(leftOut ? { leftOutImages: leftOut } : {}) };
  report.verdicts.classes[cls.name] = verdicts;
  const mismatch = mismatchRule(options);
  let pixelImages = 0;
  for (const item of cls.test) {
    throwIfCancelled(options.signal, "eval");
    let bytes: Buffer;
    try {
      bytes = await readFile(item.path);
      const image = await decodeEncoded(bytes);
      const scored = await detector.scoreImage(image, 0, options.classTags ? cls.name : undefined);
      // The threshold the daemon would judge this frame by: its class's (its tag's, or as read off the bank), else the model's.
      const threshold = scored.threshold;
      const ranked = relativeToThreshold(scored.score, threshold);
      scores.push(ranked);
      labels.push(item.anomalous ? 1 : 0);
      const judged: ImageScore = {
        path: item.path,
        class: cls.name,
        defect: item.defect,
        anomalous: item.anomalous,
        score: scored.score,
        threshold,
        // Tagged, but read as another class: the daemon's model.classTagMismatch decides (ng by default).
        verdict: frameIsNg(scored, scored.score > threshold, mismatch, detector.info.alikeClasses) ? "NG" : "OK",
        ...(scored.class !== undefined ? { readAs: scored.class } : {}),
        ...(options.classTags && scored.judgedAs !== undefined ? { judgedAs: scored.judgedAs } : {}),
        ...(scored.classShares !== undefined ? { classShares: Object.fromEntries(Object.entries(scored.classShares).map(([c, v]) => [c, Math.round(v * 1000) / 1000])) } : {}),
        ...(scored.lookRatio !== undefined ? { lookRatio: Math.round(scored.lookRatio * 1000) / 1000 } : {}),
        ...(scored.lightRatio !== undefined ? { lightRatio: Math.round(scored.lightRatio * 1000) / 1000 } : {}),
        ...(scored.unlike ? { unlike: true as const } : {}),
        ...(scored.tiled ? { tiles: { wholeScore: scored.tiled.wholeScore, tileScore: scored.tiled.tileScore } } : {}),
      };
      countVerdict(verdicts, judged);
      groups.addImage(item.defect, item.anomalous, ranked, judged.verdict === "NG");
      options.onImage?.(judged);
      const usePixels = cls.hasMasks && (!item.anomalous || item.maskPath !== undefined);
      let frameMap: Float32Array | undefined;
      if (usePixels) {
        let mask: Uint8Array;
        let mw = image.width;
        let mh = image.height;
        if (item.maskPath) {
          const m = await readMask(item.maskPath);
          mask = m.mask;
          mw = m.width;
          mh = m.height;
        } else {
          mask = new Uint8Array(mw * mh);
        }
        // Scores are compared at the mask's resolution (normally the image's own).
        // The map as the daemon serves it with this verdict (verdict-map.ts).
        const map = detector.servedMap(scored, mw, mh, threshold);
        if (mw === image.width && mh === image.height) frameMap = map;
        groups.addPixels(item.defect, item.anomalous, pixelsRelativeToThreshold(map, threshold), mask, mw);
        pixelImages++;
      }
      if (options.heatmapsDir) {
        frameMap ??= detector.servedMap(scored, image.width, image.height, threshold);
        const dir = join(options.heatmapsDir, cls.name, item.defect);
        await mkdir(dir, { recursive: true });
        const heat = await renderHeatmapPng(frameMap, image.width, image.height, scored.threshold);
        await writeFile(join(dir, `${parse(item.path).name}.png`), await overlayHeatmap(bytes, heat));
      }
    } catch (err) {
      if ((err as { code?: string }).code === "CANCELLED") throw err;
      skipped.push(item.path);
      log(`eval: skipping ${item.path}: ${(err as Error).message}`);
    }
    progress.tick();
  }
  for (const p of cls.missingMasks) log(`eval: ${cls.name}: no mask for ${p}; left out of pixel metrics`);
  const summed = groups.classPixels();
  const pixels = summed?.pixels;
  const pro = summed?.pro;
  const havePixels = cls.hasMasks && pixels !== undefined && pixels.positives > 0 && pixels.negatives > 0;
  report.details[cls.name] = { images: scores.length, anomalous: labels.filter((l) => l === 1).length, skipped, pixelImages };
  report.defects[cls.name] = groups.metrics();
  const havePro = havePixels && pro !== undefined && pro.regions > 0;
  const metrics: ClassMetrics = {
    image_auroc: safeMetric(() => auroc(scores, labels)),
    pixel_auroc: havePixels ? pixels.auroc() : null,
    image_ap: safeMetric(() => averagePrecision(scores, labels)),
    pixel_ap: havePixels ? pixels.averagePrecision() : null,
    pixel_aupro: havePro ? pro.aupro() : null,
  };
  options.onClass?.({ name: cls.name, scores, labels, metrics, ...(havePixels ? { pixels } : {}), ...(havePro ? { pro } : {}) });
  return metrics;
}

/** How an image read as another class than its tag is judged: the option, else the daemon's default. */
function mismatchRule(options: EvalOptions): ClassTagMismatch {
  return options.classTagMismatch ?? DEFAULT_CLASS_TAG_MISMATCH;
}

/** The paper's Table 1 shape: one row per class, percentages, then the mean. */
export function formatTable(report: EvalReport): string {
  const pct = (v: number | null) => (v === null ? "   -  " : (100 * v).toFixed(1).padStart(6));
  const names = Object.keys(report.classes);
  const width = Math.max(8, ...names.map((n) => n.length));
  const header = `${"class".padEnd(width)}  img AUROC  pix AUROC  img AP  pix AP  pix AUPRO`;
  const row = (name: string, m: ClassMetrics) => `${name.padEnd(width)}  ${pct(m.image_auroc)}     ${pct(m.pixel_auroc)}     ${pct(m.image_ap)}  ${pct(m.pixel_ap)}     ${pct(m.pixel_aupro)}`;
  return [`mode: ${report.mode}`, header, ...names.map((n) => row(n, report.classes[n]!)), row("mean", report.mean), "", formatVerdictTable(report.verdicts.classes, report.verdicts.all, report.classTags ? { mismatch: report.classTagMismatch ?? DEFAULT_CLASS_TAG_MISMATCH } : undefined), ...defectBlock(report)].join("\n");
}

/** The per-defect rows after a blank line, or nothing when no class has anomalous test images. */
function defectBlock(report: EvalReport): string[] {
  const table = formatDefectTable(report.defects);
  return table ? ["", table] : [];
}
