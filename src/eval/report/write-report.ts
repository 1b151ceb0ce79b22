/**
 * `lafite eval --report DIR`: after the evaluation, turns what the collector
 * kept into ReportData (gallery images re-scored and written under DIR/img/,
 * tuning curves re-scored when asked) and writes DIR/index.html, and the
 * same data as DIR/report.json.
 */
import { DEFAULT_CLASS_TAG_MISMATCH } from "../../pipeline/class-tag.js";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { scanDataset } from "../../dataset/mvtec-layout.js";
import type { BundleDetector } from "../../pipeline/bundle-detector.js";
import type { TuningRecord } from "../../model/bundle.js";
import type { EvalReport } from "../evaluate.js";
import type { ReportCollector } from "./collect.js";
import { renderGallery } from "./gallery.js";
import { renderReportHtml } from "./render-html.js";
import type { ClassReport, ReportData } from "./report-data.js";
import { tuningReport, type TuningScorer } from "./tuning-curves.js";

export interface ReportRun {
  readonly reportDir: string;
  readonly bundleDir: string;
  readonly data: string;
  readonly classes?: readonly string[];
  readonly detector: BundleDetector;
  readonly tuning: TuningRecord | undefined;
  readonly evalReport: EvalReport;
  readonly collector: ReportCollector;
  /** Re-scores the test set at a tuning grid point; null skips that (with `skipNote` shown instead). */
  readonly tuningScorer: TuningScorer | null;
  readonly skipNote?: string;
  /** Gallery images per kind (misses, false alarms, borderline) and class. */
  readonly perKind?: number;
  readonly signal?: AbortSignal;
  readonly log?: (msg: string) => void;
  readonly now?: () => Date;
}

/** Writes the report; returns the path of its index.html. */
export async function writeReport(run: ReportRun): Promise<string> {
  await mkdir(run.reportDir, { recursive: true });
  const scanned = await scanDataset(run.data, run.classes ? { classes: run.classes } : {});
  const masks = new Map<string, string>();
  for (const c of scanned) for (const t of c.test) if (t.maskPath) masks.set(t.path, t.maskPath);
  const classes: ClassReport[] = [];
  for (const [i, c] of run.collector.classes.entries()) {
    const images = run.collector.images.get(c.name) ?? [];
    run.log?.(`eval report: ${c.name}: rendering the gallery`);
    // The class's own threshold when the model has one (threshold.perClass): what its frames are judged by.
    const threshold = run.detector.thresholdOf(c.name);
    const gallery = await renderGallery({
      threshold,
      detector: run.detector,
      images,
      masks,
      dataRoot: run.data,
      reportDir: run.reportDir,
      folder: join("img", `${i}-${c.name.replace(/[^A-Za-z0-9_-]/g, "_")}`),
      perKind: run.perKind ?? 4,
      ...(run.signal ? { signal: run.signal } : {}),
      ...(run.log ? { log: run.log } : {}),
    });
    const details = run.evalReport.details[c.name];
    classes.push({
      name: c.name,
      metrics: c.metrics,
      images: details?.images ?? images.length,
      anomalous: details?.anomalous ?? images.filter((s) => s.anomalous).length,
      threshold,
      imageCurves: c.imageCurves,
      pixelCurves: c.pixelCurves,
      pro: c.pro,
      scores: { good: images.filter((s) => !s.anomalous).map((s) => s.score), defect: images.filter((s) => s.anomalous).map((s) => s.score) },
      gallery,
    });
  }
  const tuning = await tuningReport(run.tuning, { scorer: run.tuningScorer, ...(run.skipNote ? { skipNote: run.skipNote } : {}), ...(run.log ? { log: run.log } : {}) });
  const data: ReportData = {
    createdAt: (run.now?.() ?? new Date()).toISOString(),
    bundle: {
      dir: run.bundleDir,
      version: run.detector.info.version,
      mode: run.detector.info.mode,
      threshold: run.detector.info.threshold,
      ...(run.detector.info.classThresholds ? { classThresholds: run.detector.info.classThresholds } : {}),
    },
    data: run.data,
    mean: run.evalReport.mean,
    classes,
    verdicts: run.evalReport.verdicts,
    defects: run.evalReport.defects,
    ...(run.evalReport.classTags ? { classTags: true, classTagMismatch: run.evalReport.classTagMismatch ?? DEFAULT_CLASS_TAG_MISMATCH } : {}),
    tuning,
    seconds: run.evalReport.seconds,
  };
  const index = join(run.reportDir, "index.html");
  await writeFile(index, renderReportHtml(data));
  // The same numbers for scripts (and tests): what the page shows, without parsing it.
  await writeFile(join(run.reportDir, "report.json"), `${JSON.stringify(data)}\n`);
  return index;
}
