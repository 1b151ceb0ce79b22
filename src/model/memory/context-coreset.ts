/**
 * The context bank's rows (scoring/context-bank.ts), chosen apart from the
 * main bank's: per class, greedy k-center over that class's candidate
 * slices, each extended with λ times its frame's context.
 *
 * Why not the main rows with their frames' contexts: k-center keeps one
 * row where many slices look alike, and the plate between a kit's nuts
 * looks alike in steel and brass frames, so the main bank kept it from
 * whichever frames it met first. A brass frame's plate then found only
 * steel-frame rows in the context search, and every normal brass frame
 * scored above the anomalous ones (kit image AUROC 30.8 at W 1). Chosen
 * with the context in the distance, the rows cover each kind of frame.
 */
import type { FeatureMap } from "../types.js";
import { candidateIds, gatherCandidateRows, type CandidateSampling } from "./candidates.js";
import { greedyCoresetSelectionAsync, type CoresetOptions } from "./coreset.js";
import { gatherRows } from "./rows.js";
import { contextRows, frameContext } from "../scoring/context-bank.js";
import type { ChannelRange } from "../scoring/detail-bank.js";
import { invalidInput } from "../../util/errors.js";

/** A context bank as fit keeps it: `size` rows of the features (c) then the frame's context (cc), unscaled, and each row's class (an index into the main bank's row-class names). */
export interface ContextBankRows {
  readonly rows: Float32Array;
  readonly size: number;
  readonly c: number;
  readonly channels: ChannelRange;
  readonly classes: Int32Array;
}

/**
 * Rows for each class in `counts` (class name → rows), from the same
 * candidate draw as the main bank's (so the same plan gives the same slices),
 * chosen in the space the search uses: features, then λ·context. The
 * covering radius (in the selection's projection, the largest of the
 * classes') is what a lifecycle refresh grows the bank to.
 */
export async function contextCoreset(
  bank: readonly FeatureMap[],
  bankClasses: readonly string[],
  classNames: readonly string[],
  counts: Readonly<Record<string, number>>,
  plan: { readonly candidates: number; readonly sampling: CandidateSampling; readonly seed: number; readonly projectionDim: number; readonly lambda: number; readonly channels: ChannelRange },
  options: Omit<CoresetOptions, "seed" | "projectionDim" | "initial"> = {},
): Promise<ContextBankRows & { readonly coverageRadius: number }> {
  const { c, h, w } = bank[0]!;
  const hw = h * w;
  const [lo, hi] = plan.channels;
  const cc = hi - lo;
  const contexts = bank.map((x) => frameContext(x, plan.channels));
  const ids = candidateIds({ imageClasses: bankClasses, positionsPerImage: hw, count: plan.candidates, seed: plan.seed, sampling: plan.sampling });
  const parts: { rows: Float32Array; classIndex: number; n: number }[] = [];
  let coverageRadius = 0;
  for (const [cls, want] of Object.entries(counts)) {
    const classIndex = classNames.indexOf(cls);
    if (classIndex < 0) throw invalidInput(`class ${cls} is not among the bank's classes`);
    const mine = ids.filter((id) => bankClasses[Math.floor(id / hw)] === cls);
    if (mine.length === 0 || want <= 0) continue;
    const features = gatherCandidateRows(bank, mine);
    const ctx = new Float32Array(mine.length * cc);
    mine.forEach((id, r) => ctx.set(contexts[Math.floor(id / hw)]!, r * cc));
    const count = Math.min(want, mine.length);
    const sel = await greedyCoresetSelectionAsync(contextRows(features, mine.length, c, ctx, cc, plan.lambda), mine.length, c + cc, count, { ...options, seed: plan.seed, projectionDim: plan.projectionDim });
    coverageRadius = Math.max(coverageRadius, sel.coverageRadius);
    // Kept unscaled, so the search can be rebuilt at the stored λ from the stored rows alone.
    parts.push({ rows: contextRows(gatherRows(features, c, sel.selected), count, c, gatherRows(ctx, cc, sel.selected), cc, 1), classIndex, n: count });
  }
  const size = parts.reduce((a, p) => a + p.n, 0);
  const rows = new Float32Array(size * (c + cc));
  const classes = new Int32Array(size);
  let at = 0;
  for (const p of parts) {
    rows.set(p.rows, at * (c + cc));
    classes.fill(p.classIndex, at, at + p.n);
    at += p.n;
  }
  return { rows, size, c, channels: plan.channels, classes, coverageRadius };
}

/** The search's rows: the stored rows with their context columns times λ. */
export function scaledContextRows(bank: Pick<ContextBankRows, "rows" | "size" | "c" | "channels">, lambda: number): Float32Array {
  const cc = bank.channels[1] - bank.channels[0];
  const width = bank.c + cc;
  if (bank.rows.length !== bank.size * width) throw invalidInput(`context bank holds ${bank.rows.length} values, not ${bank.size}×${width}`);
  const out = Float32Array.from(bank.rows);
  for (let i = 0; i < bank.size; i++) for (let j = bank.c; j < width; j++) out[i * width + j] = lambda * out[i * width + j]!;
  return out;
}
