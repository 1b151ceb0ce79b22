/**
 * The model (fit-time) configuration: what `lafite fit --config FILE` reads
 * and what the bundle manifest records. Validated once with zod; errors name
 * the key. Defaults are the measured choices recorded in the issue notes.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ASPECTS, BORDERS, type Border } from "../image/geometry.js";
import type { PseudoRecipe } from "../image/pseudo/samples.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

/** The border new fits use (model.example.yaml gives the measurements). */
export const DEFAULT_BORDER: Border = "mirror";

/** The modes pseudo-validation can sweep τ in (tuning.tauMode). */
export const TAU_SWEEP_MODES = ["no-edit", "lafite"] as const;
export type TauSweepMode = (typeof TAU_SWEEP_MODES)[number];

const DEFAULT_STAGES: Record<string, readonly string[]> = {
  mobilenet_v2: ["block_2_add", "block_5_add", "block_9_add"],
  inception_v3: ["mixed2"],
};

const builtinBackbone = z
  .strictObject({
    kind: z.literal("builtin"),
    arch: z.enum(["mobilenet_v2", "inception_v3"]).default("mobilenet_v2"),
    /** Layer names whose outputs are resized to the grid and concatenated; default per arch. */
    stages: z.array(z.string().min(1)).min(1).optional(),
    /** k×k local average pooling of each stage before resizing (0 or 1 = off). */
    pool: z.int().min(0).max(7).default(0),
    inputSize: z.int().min(32).max(1024).optional(),
  })
  .transform((b) => ({ ...b, stages: b.stages ?? [...DEFAULT_STAGES[b.arch]!] }));

const onnxBackbone = z.strictObject({
  kind: z.literal("onnx"),
  /** A user ONNX model taking [N,3,S,S] float RGB in [0,1] normalized by mean/std. */
  path: z.string().min(1),
  input: z.string().min(1).default("input"),
  outputs: z.array(z.string().min(1)).min(1),
  inputSize: z.int().min(32).max(1024),
  mean: z.tuple([z.number(), z.number(), z.number()]).default([0.485, 0.456, 0.406]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.229, 0.224, 0.225]),
  pool: z.int().min(0).max(7).default(3),
});

export const modelConfigSchema = z.strictObject({
  // Every key is optional (config/model.example.yaml): a block without `kind` is the builtin backbone with its defaults filled in.
  backbone: z
    .preprocess(
      (v) => (v !== null && typeof v === "object" && !("kind" in v) ? { ...v, kind: "builtin" } : v),
      z.discriminatedUnion("kind", [builtinBackbone, onnxBackbone]),
    )
    .prefault({}),
  /** Feature grid h = w. */
  grid: z.int().min(4).max(128).default(28),
  /**
   * How a frame is fitted into the backbone's square input: letterbox (keep the aspect ratio, `border` around it), stretch
   * each axis, or balanced (halfway in log scale: the short side stretched by √(long / short); image/geometry.ts).
   * Letterbox is the default since it localizes better on non-square frames than stretch (bench:quality over 3 fit
   * seeds: +2.7 to +3.9 mean pixel AUROC, image AUROC equal; re-measured with today's pipeline, +1.2 lafite); balanced
   * trades (mean AUPRO +1.5, the 1.4:1 cloth −2.2 pixel AUROC, 1:4 strips −9 image AUROC; model.example.yaml).
   * Bundles without the field were fitted stretched.
   */
  aspect: z.enum(ASPECTS).default("letterbox"),
  /**
   * What fills the input around a letterboxed (or balanced) frame: gray, edge (its outermost pixels repeated) or
   * mirror (reflected at its edges; image/geometry.ts). Mirror by default: on the realistic suite with kit (knn, 2 fit
   * seeds) it raised the mean pixel AUROC 95.5 → 96.0 and AUPRO 82.1 → 83.6, the varied-size tiles' AUPRO by 4.7 and
   * their defects caught at the served threshold 9 → 36 of 72; edge did as well on image AUROC but cost the tall object
   * 5.5 AUPRO (model.example.yaml). Bundles without the field had a gray border.
   */
  border: z.enum(BORDERS).default(DEFAULT_BORDER),
  /**
   * Classes also scored in tiles (model/tiling.ts): fit cuts each named class's training frames into grid×grid tiles and
   * fits a bundle of its own on them, which the served frames of that class are scored with beside the whole frame.
   * For frames several times the input size with thin or faint defects. It costs a second fit per class and grid²
   * backbone runs per frame of that class (only when its map is asked for, where the tiles join the map alone).
   * classes auto (pipeline/tiling/auto-tiling.ts): the classes whose median long side is at least autoScale times the
   * input, fewest tiles first, within autoTiles bank tiles in all; [] tiles none. grid auto: the class's median long
   * side over the input size, rounded down, within 2..4.
   */
  tiling: z
    .strictObject({
      classes: z.union([z.literal("auto"), z.array(z.string().min(1))]).default("auto"),
      /** tiling.classes auto: the least median long side, over the input size, of a class it tiles. */
      autoScale: z.number().min(1).default(3),
      /**
       * tiling.classes auto: the most bank tiles (frames × grid²) of the classes it tiles, together; a tile fit costs
       * about a whole fit of that many images (the realistic suite's 1024-px sheet: 400 tiles, 179 s).
       */
      autoTiles: z.int().min(0).default(500),
      grid: z.union([z.literal("auto"), z.int().min(2).max(8)]).default("auto"),
      overlap: z.number().min(0).max(0.5).default(0),
      /**
       * Keep a class's tiles only where pseudo-validation gains by them (pipeline/tiling/tile-choice.ts): its held-out
       * frames with synthesized anomalies scored whole and with the tiles; false keeps every named class's tiles.
       */
      choose: z.boolean().default(true),
      /**
       * Whether a class's tiles join only its heatmap, its frames' score (and verdict) being the whole frame's: auto lets
       * pseudo-validation decide (model/tiling.ts chooseTiles: the score only for an image AUROC gain measured over at
       * least 10 held-out frames), and is false where it does not run (choose false, fit --no-tune).
       */
      mapOnly: z.union([z.literal("auto"), z.boolean()]).default("auto"),
      /**
       * A tile model's U-Net training budget in samples (its diffusion.samples, never above the whole model's); null:
       * the whole model's. Realistic suite: 1,000 samples with K 3 gave the sheet's and the cloth's tiles the figures of
       * 4,000 (sheet 93.4 / 63.7 pixel AUROC / AUPRO against 93.4 / 63.1; cloth 84.0 / 71.4 against 83.8 / 71.2) in
       * 58 % of the tile fit's time.
       */
      samples: z.int().min(1).nullable().default(1000),
      /**
       * The K grid a tile model's tuning sweeps (its tuning.ks). Both tile fits of the realistic suite chose K 3 after
       * 4,000 samples; after 1,000, a sweep chose K 1 for the sheet (pixel AUROC 92.6, below the whole model's 93.0).
       */
      ks: z.array(z.int().min(1).max(64)).min(1).default([3]),
    })
    .prefault({}),
  memory: z
    .strictObject({
      /** Fraction of training feature slices kept in the coreset (paper: 0.1). */
      keepRate: z.number().gt(0).max(1).default(0.02),
      /** Random-projection dimension for greedy k-center. */
      projectionDim: z.int().min(8).max(1024).default(128),
      /** Cap on feature slices fed to coreset selection (random subsample above it), bounding memory and time. */
      maxCandidates: z.int().min(1000).default(250_000),
      /** Upper bound on the coreset size: per-frame search cost and selection time grow with it. */
      maxCoresetSize: z.int().min(1).default(10_000),
      /**
       * How far past maxCoresetSize the lifecycle's memory-bank refreshes may grow the bank, as a fraction of it; past
       * that ceiling a refresh consolidates the bank back to it, each class keeping its share (consolidate.ts). A fit of
       * a big data set fills the bank to the cap, and without room a refresh added nothing however far the line drifted.
       * Each added 10 % costs about 10 % more kNN search per frame; a refit re-selects within maxCoresetSize.
       */
      refreshHeadroom: z.number().min(0).max(4).default(0.25),
      /** How candidates are drawn above maxCandidates: uniform over all slices, an equal share per class (stratified) or one ∝ √class size (balanced), then per image (candidates.ts). */
      sampling: z.enum(["uniform", "stratified", "balanced"]).default("balanced"),
      /**
       * Fraction of the coreset rows chosen within each class (split ∝ √class candidates), the rest by greedy k-center
       * over all classes (class-coreset.ts). 0 is the single global selection of bundles before the key.
       */
      perClassShare: z.number().min(0).max(1).default(0.75),
      index: z.enum(["flat", "hnsw"]).default("flat"),
      /** Neighbours used by feature editing (Eq. 10). */
      k: z.int().min(1).max(64).default(3),
    })
    .prefault({}),
  scoring: z
    .strictObject({
      mode: z.enum(["knn", "edit-only", "lafite", "no-edit"]).default("lafite"),
      /** Gaussian blur σ of the anomaly map (Eq. 12). */
      sigma: z.number().positive().default(4),
      /** Average-pool window on the S×S map before taking the max for the image score. */
      pool: z.int().min(1).max(64).default(8),
      /** Image score: pool (max of the pool×pool average, the paper's) or top (mean of the map's top `top` fraction); tuning may choose the other. */
      imageScore: z.enum(["pool", "top"]).default("pool"),
      top: z.number().gt(0).max(1).default(0.01),
      /** Corruption step τ of Eq. 11 (lafite / no-edit modes). */
      tau: z.int().min(1).max(999).default(20),
      /** DDIM stride Δt. */
      deltaT: z.int().min(1).max(999).default(20),
      /** DDIM η (0 = deterministic DDIM). */
      eta: z.number().min(0).max(1).default(0),
      /**
       * The detail bank (model/scoring/detail-bank.ts): a second kNN over these stages' channels of the same coreset rows,
       * blended into the position scores with weight W. `auto`: every stage but the coarsest (builtin backbones; none for
       * a user ONNX backbone); [] turns it off. `weight` is W without tuning; tuning picks W from tuning.detailWeights.
       */
      detail: z
        .strictObject({
          stages: z.union([z.literal("auto"), z.array(z.string().min(1))]).default("auto"),
          weight: z.number().min(0).max(1).default(0),
        })
        .prefault({}),
      /**
       * The context bank (model/scoring/context-bank.ts): each bank row also carries the mean of its frame's coarsest-stage
       * features, times `lambda`, and a second search with the frame's own finds rows from frames like it. Weighted per class
       * by tuning (tuning.contextWeights over swapped parts); untuned, no class uses it.
       */
      context: z
        .strictObject({
          lambda: z.number().positive().max(100).default(4),
        })
        .prefault({}),
    })
    .prefault({}),
  diffusion: z
    .strictObject({
      /** U-Net and training preset; "none" skips the diffusion model (knn mode only). */
      preset: z.enum(["none", "tiny", "cpu", "paper"]).default("cpu"),
      epochs: z.int().min(1).optional(),
      /** Training budget in samples (steps × batch): training ends at whichever of epochs and this comes first. */
      samples: z.int().min(1).optional(),
      /** Training budget in wall-clock minutes, on top of epochs and samples (not reproducible across machines: prefer samples). */
      minutes: z.number().positive().optional(),
      batchSize: z.int().min(1).optional(),
      lr: z.number().positive().optional(),
      /** Training features held in memory (MB); a random subset above it. */
      maxDataMB: z.int().min(16).optional(),
      executionProvider: z.enum(["cpu", "cuda"]).optional(),
      /** Train on t uniform in [1, tMax] instead of [1, T = 1000]: inference only uses t ≤ τ. Absent = T (paper Eq. 6). */
      tMax: z.int().min(1).max(1000).optional(),
      /** Decay of the weight EMA exported as the inference model (e.g. 0.999); absent = off (the last weights). */
      ema: z.number().gt(0).lt(1).optional(),
      /** The U-Net's capacity over the preset's (a capacity sweep, or a bigger model for a GPU box); absent keys keep the preset's. */
      unet: z
        .strictObject({
          baseChannels: z.int().min(4).max(1024).optional(),
          channelMults: z.array(z.int().min(1).max(16)).min(1).max(6).optional(),
          resBlocksPerLevel: z.int().min(0).max(8).optional(),
          midBlocks: z.int().min(0).max(8).optional(),
        })
        .optional(),
      /** γ of the min-SNR loss weighting (e.g. 5): caps each step's x0 weight at γ; absent = off (paper Eq. 6). */
      minSnr: z.number().positive().max(1000).optional(),
      /** Standardized training features kept in the bundle (float16, MB) to rehearse when fine-tuning later; 0 keeps none. */
      replayMB: z.number().min(0).max(4096).default(16),
    })
    .prefault({}),
  threshold: z
    .strictObject({
      /** Fraction of each class's training images held out of the bank to calibrate the threshold. */
      holdout: z.number().min(0).max(0.5).default(0.1),
      /** How the verdict threshold is chosen (src/model/scoring/threshold.ts). */
      rule: z.enum(["normal-quantile", "pseudo-f1", "false-alarm-rate"]).default("normal-quantile"),
      /** normal-quantile: the quantile of held-out normal scores used as the threshold. */
      quantile: z.number().min(0.5).max(1).default(0.99),
      /** false-alarm-rate: the target false-alarm rate on normal images. */
      falseAlarmRate: z.number().gt(0).max(0.5).default(0.005),
      /** Also a threshold per class by the same rule, served to the frames read as that class (pipeline/frame-scorer.ts frameClass). */
      perClass: z.boolean().default(true),
      /** The fewest held-out normals a class needs for its own threshold; a class with fewer keeps the model's. */
      minClassNormals: z.int().min(2).max(100000).default(10),
      /**
       * A class whose `holdout` share gives it fewer than minClassNormals held-out normals holds out minClassNormals
       * instead, when that is at most this share of its training images, so it gets its own threshold (0: never).
       */
      classHoldoutCap: z.number().min(0).max(0.5).default(0.2),
    })
    .prefault({}),
  /** Pseudo-validation tuning (paper 3.4, 4.5): `lafite fit` runs it unless --no-tune; `lafite tune` reruns it. */
  tuning: z
    .strictObject({
      /** Seed of the synthesized pseudo-validation set (recorded in the manifest). */
      seed: z.int().default(0),
      /** Synthesized anomalies per class. */
      perClass: z.int().min(2).max(1000).default(20),
      /** Paste fragments from other classes too. */
      crossClass: z.boolean().default(false),
      /** Share of the anomalies blended in seamlessly (Poisson, as NSA) instead of hard-pasted: defects without a seam, like a missing or misplaced part. */
      seamless: z.number().min(0).max(1).default(0),
      /** Share of the anomalies that are logical: a part of the image removed or added within it (image/pseudo/logical.ts), no foreign content and no seam. */
      logical: z.number().min(0).max(1).default(0.5),
      /** Share of the other anomalies shaded in place: the target's own pixels re-lit under a mask (image/pseudo/shade.ts), a stain, pit or scratch a texture's pastes cannot show. */
      shade: z.number().min(0).max(1).default(0),
      /** Share of the anomalies left (neither logical nor shaded) warped in place: the target's own pixels moved near an edge (image/pseudo/warp.ts), a dent, chip or turned stretch of rim. */
      warp: z.number().min(0).max(1).default(0),
      /** τ grid, swept in `tauMode`. */
      taus: z.array(z.int().min(1).max(999)).min(1).default([10, 20, 50, 100, 200, 400]),
      /** The mode the τ sweep scores in: lafite (the served mode, at memory.k) or no-edit (editing off, the paper's rule). */
      tauMode: z.enum(TAU_SWEEP_MODES).default("lafite"),
      /** DDIM steps per τ: Δt = round(τ / steps). */
      steps: z.int().min(1).max(50).default(1),
      /** K grid, swept with editing on (lafite mode) at the chosen τ. */
      ks: z.array(z.int().min(1).max(64)).min(1).default([1, 3, 5, 7, 9]),
      /** Image-score rules tried at every K point (from the same maps): pool (max of the pooled map) and top (mean of its top fraction). */
      imageScores: z.array(z.enum(["pool", "top"])).min(1).default(["pool", "top"]),
      /** Detail-bank weights W tried at the chosen τ, K and rule (scoring.detail); 0 = the main bank alone, and ties keep the earlier. */
      detailWeights: z.array(z.number().min(0).max(1)).min(1).default([0, 0.2, 0.33, 0.5, 0.67, 0.85, 1]),
      /** Also choose the detail bank's W per class (a frame gets the W of the class it reads as), by each class's pseudo-validation AUPRO. */
      detailPerClass: z.boolean().default(true),
      /** Context-bank weights W tried per class (scoring.context) over the swapped parts; [0] turns the context bank off. */
      contextWeights: z.array(z.number().min(0).max(1)).min(1).default([0, 0.5, 1]),
      /** How much a W above 0 must raise the class's swapped-part image AUROC over W 0 (0–1) to be kept. */
      contextMargin: z.number().min(0).max(1).default(0.005),
      /** How much it may cost the class's other anomalies (mean of their image AUROC and AUPRO, 0–1). */
      contextTolerance: z.number().min(0).max(1).default(0.03),
      /** Swapped parts per class (image/pseudo/swap.ts): a part of one held-out normal replaced by the same place of another of its size. */
      swaps: z.int().min(0).max(1000).default(20),
      /** A class needs at least this many swapped parts to have its context weight chosen (fewer: W 0). */
      minSwaps: z.int().min(1).max(1000).default(5),
      /**
       * Warped edges per class (image/pseudo/warp.ts): a held-out normal's own pixels moved near an edge; the heatmap's detail
       * bank W per class is chosen on them too, as much as on the set (the image score's stays the set's; 0: off).
       */
      warps: z.int().min(0).max(1000).default(20),
      /** A class needs at least this many warped edges for them to count in its detail weight. */
      minWarps: z.int().min(1).max(1000).default(5),
      /** Choose per class whether its maps get the edge correction (model/scoring/edge-profile.ts); false: no class does. */
      edgeCorrection: z.boolean().default(true),
      /** How much the correction must raise a class's pseudo-validation AUPRO or pixel AUROC (0–1), lowering neither, to be kept. */
      edgeMargin: z.number().min(0).max(1).default(0.005),
      /** Measure per class whether its scores follow its frames' size, and divide the trend out where they clearly do (model/scoring/size-trend.ts); false: no class's. */
      sizeCorrection: z.boolean().default(true),
      /** Measure per class its held-out normals' map at every position, and keep it to standardize the image score where pseudo-validation gains (model/scoring/position-profile.ts); false: no class's. */
      positionProfile: z.boolean().default(true),
    })
    .prefault({}),
  /** Images per backbone call during fit and eval. */
  batchSize: z.int().min(1).max(256).default(8),
  seed: z.int().default(0),
}).superRefine((cfg, ctx) => {
  if (cfg.diffusion.preset === "none" && (cfg.scoring.mode === "lafite" || cfg.scoring.mode === "no-edit")) {
    ctx.addIssue({ code: "custom", path: ["scoring", "mode"], message: `'${cfg.scoring.mode}' needs the diffusion model, but diffusion.preset is none; use mode knn or edit-only, or a diffusion preset` });
  }
});

export type ModelConfig = z.infer<typeof modelConfigSchema>;
export type BackboneConfig = ModelConfig["backbone"];

export function parseModelConfig(value: unknown, source = "model config"): ModelConfig {
  const result = modelConfigSchema.safeParse(value ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `${source} is invalid:\n  ${problems.join("\n  ")}`);
  }
  return result.data;
}

export async function loadModelConfig(path: string | undefined): Promise<ModelConfig> {
  if (path === undefined) return parseModelConfig({});
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `cannot read config ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `config ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseModelConfig(value, `config ${path}`);
}

/** The pseudo-validation set's recipe from the tuning section: fit, tune, the lifecycle's gate and the benches build the same set from it. */
export function pseudoRecipe(tuning: ModelConfig["tuning"]): PseudoRecipe {
  return {
    seed: tuning.seed,
    perClass: tuning.perClass,
    crossClass: tuning.crossClass,
    ...(tuning.seamless > 0 ? { anomaly: { seamless: tuning.seamless } } : {}),
    ...(tuning.logical > 0 ? { logical: tuning.logical } : {}),
    ...(tuning.shade > 0 ? { shade: tuning.shade } : {}),
    ...(tuning.warp > 0 ? { warp: tuning.warp } : {}),
  };
}
