import { writeFile } from "node:fs/promises";
import type { CliCommand } from "../main.js";
import { choiceFlag, executionProviderFlag, intFlag, parseFlags, requireFlag, shareFlag } from "../args.js";
import { DEFAULT_UNLIKE_MARGIN, loadDetector } from "../../pipeline/load.js";
import { evaluate, formatTable, type ImageScore } from "../../eval/evaluate.js";
import { ReportCollector } from "../../eval/report/collect.js";
import { writeReport } from "../../eval/report/write-report.js";
import type { TuningScorer } from "../../eval/report/tuning-curves.js";
import { readBundle } from "../../model/bundle.js";
import { interruptSignal } from "../../util/progress.js";
import { invalidInput } from "../../util/errors.js";
import type { ScoringMode } from "../../pipeline/types.js";
import { SCORING_MODES } from "../../model/types.js";
import { CLASS_TAG_MISMATCH } from "../../pipeline/class-tag.js";
import { IMAGE_SCORE_RULES } from "../../model/scoring/anomaly-map.js";

const MODES: readonly ScoringMode[] = SCORING_MODES;

export const command: CliCommand = {
  summary: "Evaluate a bundle on an MVTec-layout data set: per-class image/pixel AUROC and AP, pixel AUPRO, and their mean.",
  usage: `lafite eval --bundle BUNDLE --data DIR [--json FILE] [--scores FILE] [--mode knn|edit-only|lafite|no-edit] [--heatmaps DIR] [--report DIR [--no-tuning-curves]] [--class NAME]... [--class-tags [--class-tag-mismatch ng|judge|distinct]] [--no-edge-correction] [--no-size-correction] [--no-position-profile] [--no-tiling] [--unlike-margin X]
  --json FILE     also write {"mode", "classes": {name: {image_auroc, pixel_auroc, image_ap, pixel_ap, pixel_aupro}}, "mean": {...}} (values 0–1, null where undefined;
                  pixel_aupro: area under the per-region-overlap curve up to 30% FPR, divided by 0.3, regions 8-connected, as MVTec AD),
                  and "verdicts": {"classes": {name: {defects, caught, good, flagged, misread, misreadAs: {class: n}, threshold, ownThreshold, leftOutImages (when its own threshold also used bank images scored left out)}}, "all": {...}}: each image judged NG or OK
                  at the threshold the daemon would use (its class's, as read off the bank, else the model's), as the table's second block prints;
                  "classTags": whether --class-tags was given (and then "classTagMismatch"),
                  and "defects": {class: {defect: {images, caught, image_auroc, pixel_auroc, pixel_ap, pixel_aupro}}}: each defect folder's images
                  against the class's good images (null where undefined), and how many of them were judged NG, as the table's last block prints
  --mode M        score with this mode instead of the bundle's own (a tiled class's images are then scored whole: its tiles' units were
                  measured in the bundle's own mode, as the edge and size corrections and position profiles were)
  --scores FILE   write one JSON line per test image: path, class, defect, anomalous, score, threshold, verdict, and readAs (the class the model read it as, whose threshold judged it);
                  and classShares (each class's share of its cells, by their nearest bank rows: how clearly its cells read as readAs; a model
                  with class means reads a frame by its mean look, so readAs need not hold the largest share);
                  with --class-tags also judgedAs (the class it was judged as)
  --class-tags    tag each image with its class (its folder), as a line that sends its recipe in DetectRequest.class_tag: it is judged as that class
                  (its threshold and detail-bank weight) when the model has it, whatever class it reads as; "read as another class" still counts misreadings
  --class-tag-mismatch ng|judge|distinct  with --class-tags, the verdict of an image that reads as another class, as the daemon's model.classTagMismatch:
                  ng (default, as the daemon's default: NG whatever its score), judge (by its score) or distinct (NG unless the two classes
                  look alike to the model, its class means confusing their held-out normals: then by its score)
  --heatmaps DIR  write heatmap overlay PNGs as DIR/<class>/<defect>/<image>.png
  --report DIR    write a self-contained HTML report, DIR/index.html (images under DIR/img/, its data as DIR/report.json; nothing fetched from the network):
                  the metrics table; per class ROC, PR and PRO curves, good vs defect score histograms with the threshold,
                  and a gallery of the worst misses, worst false alarms and borderline images (image, heatmap, ground truth);
                  the bundle's τ, K and detail-bank W tuning curves (pseudo-validation AUROC) beside the test AUROC re-scored at each grid point
  --no-tuning-curves  with --report: skip re-scoring the test set at every tuning grid point (one full eval per point)
  --tau N --delta-t N --eta X --k N   override the bundle's diffusion/editing hyperparameters (sweeps)
  --detail-weight W   override the detail bank's weight W, 0..1 (0: the main bank alone); the verdict threshold stays the bundle's
  --context-weight W  override the context bank's weight W for every class, 0..1 (0: no context search); the verdict threshold stays the bundle's
  --sigma X       override the anomaly map's Gaussian blur σ, in map pixels (Eq. 12, scoring.sigma; > 0); the verdict threshold stays the bundle's
  --image-score pool|top  override the image-score rule (scoring.imageScore: the max of the pool×pool average, or the mean of the map's top fraction);
                  the verdict threshold stays the bundle's
  --no-edge-correction  score the maps without the bundle's edge correction (scoring.edges; it applies only in its own mode and without the overrides above,
                  whose maps it was not measured on); image scores and verdicts do not change
  --no-size-correction  score without the bundle's size correction (scoring.sizes: a class's trend of score with frame size, divided out; it applies
                  only in its own mode); image scores change, the verdict threshold stays the bundle's
  --no-position-profile  score without the bundle's position profiles (scoring.profiles: a class's normal map at every place, by which its image
                  score is standardized; they apply only in their own mode); image scores change, the verdict threshold stays the bundle's
  --no-tiling     score every image whole, without the bundle's tiles (tiling: classes also scored in tiles by a model fitted on their tiles,
                  the larger of the two maps and of the two scores served); image scores change, the threshold stays the bundle's.
                  Without it, --scores gives a tiled class's images' tiles: {wholeScore, tileScore} (tileScore in the class's threshold units)
  --unlike-margin X  an image whose look ratio (its mean features' distance from the mean of the class it reads as, in units of how far that
                  class's normals lie) is above X is NG as like none of the model's classes, as the daemon's model.unlikeMargin (default ${DEFAULT_UNLIKE_MARGIN};
                  0: never); --scores gives each image's lookRatio (and unlike), the verdicts count them per class (unlike)
  --execution-provider cpu|cuda  ONNX Runtime provider (default cpu; falls back to cpu, saying why)`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      bundle: { type: "string" },
      data: { type: "string" },
      json: { type: "string" },
      mode: { type: "string" },
      heatmaps: { type: "string" },
      scores: { type: "string" },
      report: { type: "string" },
      "no-tuning-curves": { type: "boolean" },
      class: { type: "string", multiple: true },
      "class-tags": { type: "boolean" },
      "class-tag-mismatch": { type: "string" },
      threads: { type: "string" },
      tau: { type: "string" },
      "delta-t": { type: "string" },
      eta: { type: "string" },
      k: { type: "string" },
      "detail-weight": { type: "string" },
      "context-weight": { type: "string" },
      sigma: { type: "string" },
      "image-score": { type: "string" },
      "no-edge-correction": { type: "boolean" },
      "no-size-correction": { type: "boolean" },
      "no-position-profile": { type: "boolean" },
      "no-tiling": { type: "boolean" },
      "unlike-margin": { type: "string" },
      "execution-provider": { type: "string" },
    });
    const ep = executionProviderFlag(values["execution-provider"]);
    const overrides = {
      ...(values.tau !== undefined ? { tau: intFlag(values.tau, "tau", 0) } : {}),
      ...(values["delta-t"] !== undefined ? { deltaT: intFlag(values["delta-t"], "delta-t", 0) } : {}),
      ...(values.k !== undefined ? { k: intFlag(values.k, "k", 0) } : {}),
      ...(values.eta !== undefined ? { eta: etaFlag(values.eta) } : {}),
      ...(values["detail-weight"] !== undefined ? { detailWeight: shareFlag(values["detail-weight"], "detail-weight", 0) } : {}),
      ...(values["context-weight"] !== undefined ? { contextWeight: shareFlag(values["context-weight"], "context-weight", 0) } : {}),
      ...(values.sigma !== undefined ? { sigma: sigmaFlag(values.sigma) } : {}),
      ...(values["image-score"] !== undefined ? { imageScore: choiceFlag(values["image-score"], "image-score", IMAGE_SCORE_RULES) } : {}),
    };
    const mode = values.mode === undefined ? undefined : choiceFlag(values.mode, "mode", MODES);
    if (values["class-tag-mismatch"] !== undefined && !values["class-tags"]) throw invalidInput("--class-tag-mismatch only applies with --class-tags");
    const classTagMismatch = values["class-tag-mismatch"] === undefined ? undefined : choiceFlag(values["class-tag-mismatch"], "class-tag-mismatch", CLASS_TAG_MISMATCH);
    const tagOptions = values["class-tags"] ? { classTags: true, ...(classTagMismatch ? { classTagMismatch } : {}) } : {};
    if (values["no-tuning-curves"] && !values.report) throw invalidInput("--no-tuning-curves only applies with --report DIR");
    const detector = await loadDetector(requireFlag(values.bundle, "bundle"), {
      ...(mode ? { mode } : {}),
      overrides,
      ...(values["no-edge-correction"] ? { edgeCorrection: false } : {}),
      ...(values["no-size-correction"] ? { sizeCorrection: false } : {}),
      ...(values["no-position-profile"] ? { positionProfile: false } : {}),
      ...(values["no-tiling"] ? { tiling: false } : {}),
      ...(values["unlike-margin"] !== undefined ? { unlikeMargin: unlikeMarginFlag(values["unlike-margin"]) } : {}),
      ...(values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {}),
      // Say which provider runs (and why not cuda) only when one was asked for.
      ...(ep ? { executionProvider: ep, log: (m: string) => process.stderr.write(`${m}\n`) } : {}),
    });
    const { signal, dispose } = interruptSignal();
    const perImage: ImageScore[] = [];
    const collector = values.report ? new ReportCollector() : undefined;
    const bundleDir = requireFlag(values.bundle, "bundle");
    const data = requireFlag(values.data, "data");
    const threads = values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {};
    try {
      const report = await evaluate(detector, {
        onImage: (s: ImageScore) => {
          if (values.scores) perImage.push(s);
          collector?.onImage(s);
        },
        ...(collector ? { onClass: collector.onClass } : {}),
        data,
        ...(values.class ? { classes: values.class } : {}),
        ...tagOptions,
        ...(values.heatmaps ? { heatmapsDir: values.heatmaps } : {}),
        signal,
      });
      process.stdout.write(`${formatTable(report)}\n`);
      if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
      if (values.scores) await writeFile(values.scores, perImage.map((s) => JSON.stringify(s)).join("\n") + "\n");
      if (values.report && collector) {
        const { manifest } = await readBundle(bundleDir);
        // One full evaluation of the test set per tuning grid point, each with its own detector.
        const scorer: TuningScorer = async (m, o) => {
          const d = await loadDetector(bundleDir, { mode: m, overrides: o, ...threads });
          try {
            const r = await evaluate(d, { data, ...(values.class ? { classes: values.class } : {}), ...tagOptions, signal, progressSink: () => {} });
            return { image_auroc: r.mean.image_auroc, pixel_auroc: r.mean.pixel_auroc };
          } finally {
            await d.close();
          }
        };
        const index = await writeReport({
          reportDir: values.report,
          bundleDir,
          data,
          ...(values.class ? { classes: values.class } : {}),
          detector,
          tuning: manifest.tuning,
          evalReport: report,
          collector,
          tuningScorer: values["no-tuning-curves"] ? null : scorer,
          skipNote: "test-set curves skipped (--no-tuning-curves)",
          signal,
          log: (m) => process.stderr.write(`${m}\n`),
        });
        process.stderr.write(`eval: report written to ${index}\n`);
      }
    } finally {
      dispose();
      await detector.close();
    }
    return 0;
  },
};

/** σ of the map blur, as scoring.sigma takes it: a positive number. */
function sigmaFlag(value: string): number {
  const sigma = Number(value);
  if (!(sigma > 0 && Number.isFinite(sigma))) throw invalidInput(`--sigma must be a positive number, got '${value}'`);
  return sigma;
}

function etaFlag(value: string): number {
  const eta = Number(value);
  if (!(eta >= 0 && eta <= 1)) throw invalidInput(`--eta must be a number from 0 to 1, got '${value}'`);
  return eta;
}

/** The unlike margin, as model.unlikeMargin takes it: a finite number ≥ 0 (0: the look gate off). */
function unlikeMarginFlag(value: string): number {
  const margin = Number(value);
  if (value.trim() === "" || !(margin >= 0 && Number.isFinite(margin))) throw invalidInput(`--unlike-margin must be a number ≥ 0 (0: off), got '${value}'`);
  return margin;
}
