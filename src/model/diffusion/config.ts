/**
 * Configuration of the diffusion model and its training, with presets.
 * `paper` follows LafitE 4.1 (base 256, mults (1,2,3,4), batch 64, AdamW
 * lr 1e-4, wd 1e-4) and is meant for GPU boxes; `cpu` is the default on this
 * class of machine; `tiny` serves tests and the daemon's first-start budget.
 */
export interface UNetConfig {
  /** Channels after the input conv (c → base). */
  readonly baseChannels: number;
  /** Channel multiplier per resolution level; a level ends with a stride-2 conv except the last. */
  readonly channelMults: readonly number[];
  readonly resBlocksPerLevel: number;
  /** Residual blocks at the lowest resolution. */
  readonly midBlocks: number;
  /** GroupNorm groups (the largest divisor of the channel count not above this is used). */
  readonly groups: number;
  /** Width d of the sinusoidal embedding fed as `temb` [N, d]; the MLP maps d → 4·base. */
  readonly timeEmbedDim: number;
  /** Kernel of the input (c → base) and output (base → c) convs: 3 as in ADM, 1 to save FLOPs for wide c. */
  readonly ioKernel: 1 | 3;
}

export type LrSchedule = "constant" | "cosine";
export type ExecutionProviderName = "cpu" | "cuda";

export interface DiffusionConfig {
  readonly unet: UNetConfig;
  /** Diffusion steps T (paper: 1000). */
  readonly T: number;
  readonly batchSize: number;
  readonly epochs: number;
  /** Optional cap on optimizer steps (overrides epochs when smaller). */
  readonly maxSteps?: number;
  /**
   * Optional cap on training samples (steps × batch), whichever of epochs,
   * maxSteps and this ends first: a budget that does not grow with the data
   * set, so a big unified fit costs what a small one does.
   */
  readonly maxSamples?: number;
  readonly lr: number;
  readonly lrSchedule: LrSchedule;
  readonly warmupSteps: number;
  readonly adamw: { readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number };
  readonly seed: number;
  readonly checkpointEverySteps: number;
  /** Training features held in memory, in MB; above it a random subset is used. */
  readonly maxDataMB: number;
  readonly executionProvider: ExecutionProviderName;
  readonly intraOpNumThreads?: number;
  /**
   * Train on t uniform in [1, tMax] instead of [1, T] (t-sampling.ts):
   * inference only uses t ≤ τ. Absent = T (the paper's Eq. 6).
   */
  readonly tMax?: number;
  /** Decay of the weight EMA exported as the inference model (weight-ema.ts), e.g. 0.999; absent = off (the last weights). */
  readonly ema?: number;
  /** γ of the min-SNR loss weighting (loss-weight.ts), e.g. 5; absent = off (Eq. 6's plain mean). */
  readonly minSnr?: number;
}

export const UNET_PRESETS = {
  paper: { baseChannels: 256, channelMults: [1, 2, 3, 4], resBlocksPerLevel: 2, midBlocks: 2, groups: 32, timeEmbedDim: 256, ioKernel: 3 },
  cpu: { baseChannels: 64, channelMults: [1, 2], resBlocksPerLevel: 1, midBlocks: 1, groups: 16, timeEmbedDim: 64, ioKernel: 1 },
  tiny: { baseChannels: 16, channelMults: [1, 2], resBlocksPerLevel: 1, midBlocks: 1, groups: 4, timeEmbedDim: 16, ioKernel: 1 },
} as const satisfies Record<string, UNetConfig>;

export type PresetName = keyof typeof UNET_PRESETS;

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 } as const;

export const DIFFUSION_PRESETS = {
  paper: {
    unet: UNET_PRESETS.paper, T: 1000, batchSize: 64, epochs: 1000, lr: 1e-4, lrSchedule: "constant", warmupSteps: 0,
    adamw: ADAMW, seed: 0, checkpointEverySteps: 500, maxDataMB: 4096, executionProvider: "cuda",
  },
  cpu: {
    // 4,000 samples (about 4 minutes here) bound big unified fits: on the realistic suite 2,000 to 29,000 samples gave the same lafite AUROC (bench:budget).
    unet: UNET_PRESETS.cpu, T: 1000, batchSize: 8, epochs: 20, maxSamples: 4000, lr: 1e-3, lrSchedule: "cosine", warmupSteps: 50,
    adamw: ADAMW, seed: 0, checkpointEverySteps: 200, maxDataMB: 1024, executionProvider: "cpu", intraOpNumThreads: 2,
  },
  tiny: {
    unet: UNET_PRESETS.tiny, T: 1000, batchSize: 8, epochs: 10, lr: 2e-3, lrSchedule: "cosine", warmupSteps: 20,
    adamw: ADAMW, seed: 0, checkpointEverySteps: 200, maxDataMB: 256, executionProvider: "cpu", intraOpNumThreads: 2,
  },
} as const satisfies Record<PresetName, DiffusionConfig>;

export function diffusionPreset(name: PresetName, overrides: Partial<DiffusionConfig> = {}): DiffusionConfig {
  return { ...DIFFUSION_PRESETS[name], ...overrides };
}

/** A stable JSON of the parts that decide the model and its training trajectory. */
export function configKey(cfg: DiffusionConfig, shape: { c: number; h: number; w: number }): string {
  const { checkpointEverySteps: _a, executionProvider: _b, intraOpNumThreads: _c, ...rest } = cfg;
  return stableStringify({ ...rest, shape });
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
