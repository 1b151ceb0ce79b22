/**
 * What the line would have seen: each test image's OK/NG verdict at the
 * threshold the daemon judges it by (its class's, as read off the bank, else
 * the model's), counted per class. AUROC says how well scores rank; these
 * counts say how many defects the served thresholds catch and how many good
 * parts they reject, and how often a frame was read as another class (whose
 * detail weight and threshold it then got).
 */
import type { ClassTagMismatch } from "../pipeline/class-tag.js";
import type { ImageScore } from "./evaluate.js";

export interface VerdictCounts {
  /** Anomalous test images, and how many of them were judged NG. */
  defects: number;
  caught: number;
  /** Good test images, and how many of them were judged NG (false alarms). */
  good: number;
  flagged: number;
  /** Images read as a class other than their own (0 when the bank records no row classes). */
  misread: number;
  /** The classes those images were read as, with counts. */
  misreadAs: Record<string, number>;
  /** Images NG as like none of the model's classes (their look ratio above the unlike margin), whatever their score. */
  unlike: number;
}

/** One class's counts, and the threshold a frame read as that class is judged by. */
export interface ClassVerdicts extends VerdictCounts {
  threshold: number;
  /** Whether that threshold is the class's own (threshold.perClass) rather than the model's. */
  ownThreshold: boolean;
  /** Bank images scored with their rows left out that the class's own threshold was calibrated on beside its held-out normals (too few of those); absent = none. */
  leftOutImages?: number;
}

export function emptyVerdicts(): VerdictCounts {
  return { defects: 0, caught: 0, good: 0, flagged: 0, misread: 0, misreadAs: {}, unlike: 0 };
}

/** Adds one scored image to `counts` (in place) and returns it. */
export function countVerdict(counts: VerdictCounts, image: Pick<ImageScore, "class" | "anomalous" | "verdict" | "readAs" | "unlike">): VerdictCounts {
  if (image.unlike) counts.unlike++;
  if (image.anomalous) {
    counts.defects++;
    if (image.verdict === "NG") counts.caught++;
  } else {
    counts.good++;
    if (image.verdict === "NG") counts.flagged++;
  }
  if (image.readAs !== undefined && image.readAs !== image.class) {
    counts.misread++;
    counts.misreadAs[image.readAs] = (counts.misreadAs[image.readAs] ?? 0) + 1;
  }
  return counts;
}

/** The classes' counts summed (the misread-as tallies merged). */
export function sumVerdicts(parts: readonly VerdictCounts[]): VerdictCounts {
  const total = emptyVerdicts();
  for (const p of parts) {
    total.defects += p.defects;
    total.caught += p.caught;
    total.good += p.good;
    total.flagged += p.flagged;
    total.misread += p.misread;
    total.unlike += p.unlike;
    for (const [cls, n] of Object.entries(p.misreadAs)) total.misreadAs[cls] = (total.misreadAs[cls] ?? 0) + n;
  }
  return total;
}

/**
 * The table's second block: per class, defects caught and good images
 * flagged as counts and percentages, and the frames read as another class.
 */
export function formatVerdictTable(verdicts: Record<string, ClassVerdicts>, total: VerdictCounts, classTags?: { readonly mismatch: ClassTagMismatch }): string {
  const names = Object.keys(verdicts);
  const width = Math.max(8, ...names.map((n) => n.length));
  const threshold = (v: ClassVerdicts | VerdictCounts) =>
    ("threshold" in v ? `${v.threshold.toPrecision(4)}${v.ownThreshold ? "" : " (model's)"}` : "").padStart(17);
  const share = (n: number, of: number) => `${`${n}/${of}`.padStart(9)} ${of === 0 ? "     -" : `${(100 * n / of).toFixed(1).padStart(5)}%`}`;
  const row = (name: string, v: ClassVerdicts | VerdictCounts) => `${name.padEnd(width)}  ${threshold(v)}  ${share(v.caught, v.defects)}  ${share(v.flagged, v.good)}  ${describeMisreads(v)}`;
  return [
    classTags
      ? `verdicts at the served thresholds (each image tagged with its class, as a line that sends its recipe: judged by its class's threshold, else the model's; ${taggedMismatchRule(classTags.mismatch)}):`
      : "verdicts at the served thresholds (each image judged as the daemon would: by the threshold of the class it was read as, else the model's):",
    `${"class".padEnd(width)}  ${"threshold".padStart(17)}  ${"defects caught".padStart(16)}  ${"good flagged NG".padStart(16)}  read as another class`,
    ...names.map((n) => row(n, verdicts[n]!)),
    row("all", total),
    ...names.flatMap((n) => (verdicts[n]!.unlike ? [`${n}: ${verdicts[n]!.unlike} of its images like none of the model's classes (their look over the unlike margin from their class's), NG whatever their score`] : [])),
    ...names.flatMap((n) => (verdicts[n]!.leftOutImages ? [`${n}: its own threshold is calibrated on ${verdicts[n]!.leftOutImages} of its bank images scored with their own rows left out, beside its few held-out normals`] : [])),
  ].join("\n");
}

/** How many frames were read as another class, and as which, the most frequent first: "3 (2 as plate, 1 as fabric)". */
export function describeMisreads(v: VerdictCounts): string {
  const as = Object.entries(v.misreadAs).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return `${v.misread}${as.length ? ` (${as.map(([c, n]) => `${n} as ${c}`).join(", ")})` : ""}`;
}

/** How an image tagged with its class but read as another is judged (the daemon's model.classTagMismatch), in words. */
export function taggedMismatchRule(mismatch: ClassTagMismatch): string {
  if (mismatch === "distinct") return "one read as another class is NG whatever its score, unless the two classes look alike to the model (then judged by its score)";
  return mismatch === "ng" ? "one read as another class is NG whatever its score" : "one read as another class is judged by its score";
}
