/**
 * Everything the HTML report shows, as plain data: collected while `lafite
 * eval` runs (see collect.ts, gallery.ts, tuning-curves.ts) and rendered by
 * render-html.ts. Tests can build one by hand.
 */
import type { EdgeTuningRecord } from "../../model/scoring/edge-profile.js";
import type { ProfileTuningRecord } from "../../model/scoring/position-profile.js";
import type { ClassTagMismatch } from "../../pipeline/class-tag.js";
import type { ClassMetrics, EvalReport } from "../evaluate.js";
import type { ScoringMode } from "../../model/types.js";
import type { ImageScoreRule } from "../../model/scoring/anomaly-map.js";
import type { Point } from "./curves.js";

export interface CurvePair {
  readonly roc: readonly Point[];
  readonly pr: readonly Point[];
}

export interface GalleryItem {
  /** The image's path as given under the data set (shown, never used as a link). */
  readonly path: string;
  readonly defect: string;
  readonly anomalous: boolean;
  readonly score: number;
  /** PNG files relative to the report folder. */
  readonly image: string;
  readonly overlay: string;
  readonly truth: string;
}

export interface Gallery {
  readonly misses: readonly GalleryItem[];
  readonly falseAlarms: readonly GalleryItem[];
  readonly borderline: readonly GalleryItem[];
}

export interface ClassReport {
  readonly name: string;
  readonly metrics: ClassMetrics;
  readonly images: number;
  readonly anomalous: number;
  readonly threshold: number;
  /** Null when the class's test images are all good or all defective. */
  readonly imageCurves: CurvePair | null;
  /** Null without usable ground truth. */
  readonly pixelCurves: CurvePair | null;
  /** The PRO curve up to FPR 0.3, null without ground-truth regions. */
  readonly pro: readonly Point[] | null;
  readonly scores: { readonly good: readonly number[]; readonly defect: readonly number[] };
  readonly gallery: Gallery;
}

export interface TuningMetrics {
  readonly image_auroc: number | null;
  readonly pixel_auroc: number | null;
}

/** How the report names each swept hyperparameter. */
export const PARAM_NAMES: Record<TuningCurveReport["param"], string> = { tau: "τ", k: "K", detailWeight: "W" };

export interface TuningCurveReport {
  /** The swept hyperparameter: τ, K or the detail bank's weight W. */
  readonly param: "tau" | "k" | "detailWeight";
  readonly mode: ScoringMode;
  readonly chosen: number;
  readonly points: readonly {
    readonly value: number;
    /** The image-score rule the point was scored with, when the sweep tried several (K: pool and top from the same maps). */
    readonly rule?: ImageScoreRule;
    readonly pseudo: TuningMetrics;
    /** Mean over the test classes, re-scored at this grid point; null when not computed. */
    readonly test: TuningMetrics | null;
  }[];
}

export type TuningReport =
  | { readonly state: "absent" }
  | {
      readonly state: "present";
      readonly seed: number;
      readonly perClass: number;
      readonly images: { readonly anomalous: number; readonly good: number };
      readonly tau: TuningCurveReport;
      readonly k: TuningCurveReport;
      /** The detail bank's weight sweep, when the bundle has one. */
      readonly detail?: TuningCurveReport;
      /** The detail bank's W chosen per class, and each class's pseudo-validation AUPRO at every W, when tuning chose one per class. */
      readonly detailClasses?: Readonly<Record<string, { readonly chosen: number; readonly curve: readonly { readonly weight: number; readonly aupro: number | null }[] }>>;
      /**
       * The context bank's W per class, when tuning swept it: each class's normals against its swapped parts
       * (swapsAuroc) and against its other pseudo-anomalies (others: mean of image AUROC and AUPRO) at every W;
       * `chosen` is the heatmap's W, `imageChosen` the image score's (only the others' image AUROC guarded).
       */
      readonly contextClasses?: {
        readonly lambda: number;
        readonly margin: number;
        readonly tolerance: number;
        readonly classes: Readonly<Record<string, { readonly swaps: number; readonly chosen: number; readonly imageChosen: number; readonly curve: readonly { readonly weight: number; readonly swapsAuroc: number | null; readonly others: number | null }[] }>>;
      };
      /** The edge correction's choice per class, when tuning made one: pseudo-validation pixel AUROC and AUPRO without and with it. */
      readonly edges?: EdgeTuningRecord;
      /** The position profile's choice per class, when tuning made one: pseudo-validation image AUROC and separation without and with it, or why a class had none. */
      readonly profiles?: ProfileTuningRecord;
      /** Why the test-set curves are missing, when they are. */
      readonly testNote?: string;
      /**
       * Spearman's rank correlation of pseudo-validation image AUROC against
       * test image AUROC over the re-scored grid points: does the pseudo set
       * order the settings as real defects do? Per curve, and over both
       * together (which also rewards telling the two modes apart).
       */
      /** What the bundle serves: the tuned values, or the configured defaults when they scored better on the pseudo set. */
      readonly served?: { readonly tau?: number; readonly k?: number; readonly rule?: ImageScoreRule; readonly kept: "tuned" | "defaults" };
      readonly rankCorrelation: { readonly spearman: number | null; readonly points: number; readonly tau: number | null; readonly k: number | null };
    };

export interface ReportData {
  readonly createdAt: string;
  readonly bundle: {
    readonly dir: string;
    readonly version: string;
    readonly mode: string;
    readonly threshold: number;
    /** Each class's own threshold, where the model has one (threshold.perClass); the class sections use it. */
    readonly classThresholds?: Readonly<Record<string, number>>;
  };
  readonly data: string;
  readonly mean: ClassMetrics;
  readonly classes: readonly ClassReport[];
  /** OK/NG outcomes at the served thresholds, per class and over all (as `lafite eval` prints them). */
  readonly verdicts: EvalReport["verdicts"];
  /** Per class, each defect type against the class's good images (as `lafite eval` prints them); absent in a report written before them. */
  readonly defects?: EvalReport["defects"];
  /** Whether each image was judged as its own class by a class tag (eval --class-tags), not as the class it read as. */
  readonly classTags?: boolean;
  /** With classTags: how an image read as another class than its tag was judged. */
  readonly classTagMismatch?: ClassTagMismatch;
  readonly tuning: TuningReport;
  readonly seconds: number;
}
