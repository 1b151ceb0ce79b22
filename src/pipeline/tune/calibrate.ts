/**
 * Verdict thresholds for every mode a bundle serves, from the pseudo-
 * validation set scored at the chosen settings: its normals are the held-out
 * training images; its anomalies feed the pseudo-f1 rule and the F1 / false-
 * alarm figures recorded beside every threshold.
 */
import type * as ort from "onnxruntime-node";
import type { ScoringMode } from "../../model/types.js";
import { calibrateThreshold, type ThresholdInfo, type ThresholdParams } from "../../model/scoring/threshold.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { scorePseudoSet } from "./score-set.js";

export async function calibrateModes(
  set: readonly PseudoFeature[],
  parts: ScorerParts,
  settings: ScorerSettings,
  modes: readonly ScoringMode[],
  params: ThresholdParams,
  sessionOptions: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; log?: (msg: string) => void; scored?: { readonly mode: ScoringMode; readonly scores: readonly number[] } } = {},
): Promise<Partial<Record<ScoringMode, ThresholdInfo>>> {
  const out: Partial<Record<ScoringMode, ThresholdInfo>> = {};
  for (const mode of modes) {
    let scores: readonly number[];
    if (options.scored?.mode === mode && options.scored.scores.length === set.length) {
      // Tuning already scored the set at exactly these settings in this mode.
      scores = options.scored.scores;
    } else {
      const opened = await openScorer(mode, parts, settings, sessionOptions);
      try {
        scores = (await scorePseudoSet(set, opened.scorer, options.signal ? { signal: options.signal } : {})).scores;
      } finally {
        await opened.release();
      }
    }
    const normals = scores.filter((_, i) => !set[i]!.anomalous);
    const anomalies = scores.filter((_, i) => set[i]!.anomalous);
    const t = calibrateThreshold(params, normals, anomalies);
    out[mode] = t;
    const p = t.pseudo;
    options.log?.(`${mode} threshold ${t.value.toPrecision(5)} (${t.method})${p ? `: pseudo-validation F1 ${p.f1.toFixed(3)}, recall ${p.recall.toFixed(3)}, false alarms ${(100 * p.falseAlarmRate).toFixed(1)}%` : ""}`);
  }
  return out;
}
