/**
 * Diffusion reconstruction of a feature map (LafitE 3.3): corrupt the
 * (edited) features e to step τ (Eq. 11), then denoise with DDIM from τ to 0
 * with stride Δt (Eq. 7, corrected as in ddim.ts).
 *
 * Noise comes from a PRNG seeded by the caller per frame, so a frame always
 * reconstructs — and scores — the same.
 *
 * Two runners, same arithmetic:
 *  - "loop": one session call of the exported U-Net per DDIM step, the DDIM
 *    update in TypeScript. Works for any τ, Δt, η.
 *  - "unrolled": one ONNX graph holding every step for a fixed (τ, Δt) with
 *    η = 0, U-Net weights shared as initializers; built lazily per (τ, Δt).
 * Measured on this machine (cpu preset, c = 272, 28×28, A/B interleaved),
 * "unrolled" was 3–7 % faster (it skips the per-step copies of x and ε and the
 * host arithmetic), so it is the default for η = 0; η > 0 uses "loop". Its
 * cost is a graph build on the first call for a new (τ, Δt) (0.1–0.8 s) and
 * a second copy of the weights in that session, so only the latest (τ, Δt)
 * is kept.
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder, type Value } from "../../onnx/graph-builder.js";
import type { FeatureMap } from "../types.js";
import { ddimCoefficients, ddimSigma, ddimStep, corrupt, ddimTimesteps } from "./ddim.js";
import { initializerParams } from "./export.js";
import { createRng, fillNormal } from "./prng.js";
import { cosineSchedule, DEFAULT_T, type NoiseSchedule } from "./schedule.js";
import { timestepEmbedding } from "./time-embedding.js";
import { emitUNet } from "./unet.js";
import { readUNetModel, type UNetModel } from "./unet-model.js";

export type DdimRunner = "loop" | "unrolled";

/**
 * A frame's corruption noise ε (Eq. 11): the first `size` normals of the
 * stream of its seed. What reconstructMany draws for each frame, unless a
 * caller that scores the same frames many times (a fit's tuning passes,
 * pipeline/score-memo.ts) hands it the same values kept from before.
 */
export function corruptionNoise(seed: number, size: number): Float32Array {
  return fillNormal(createRng(seed), new Float32Array(size));
}

/** Returns corruptionNoise(seed, size), from wherever the caller keeps it. */
export type NoiseSource = (seed: number, size: number) => Float32Array;

export interface ReconstructorConfig {
  /** Diffusion steps T of the schedule the model was trained with (default 1000). */
  readonly T?: number;
  readonly runner?: DdimRunner;
}

export class Reconstructor {
  private readonly schedule: NoiseSchedule;
  /** The unrolled session of the latest (τ, Δt), with the runs using it. */
  private unrolled?: { key: string; session: Promise<ort.InferenceSession>; users: number; evicted: boolean };

  private constructor(
    private readonly model: UNetModel,
    private readonly session: ort.InferenceSession,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
    readonly runner: DdimRunner,
    T: number,
  ) {
    this.schedule = cosineSchedule(T);
  }

  static async create(unetOnnx: Uint8Array, cfg: ReconstructorConfig = {}, sessionOptions: ort.InferenceSession.SessionOptions = {}): Promise<Reconstructor> {
    const model = readUNetModel(unetOnnx);
    const session = await ort.InferenceSession.create(unetOnnx, sessionOptions);
    return new Reconstructor(model, session, sessionOptions, cfg.runner ?? "unrolled", cfg.T ?? DEFAULT_T);
  }

  get featureShape(): { c: number; h: number; w: number } {
    return this.model.shape;
  }

  /** x_rec for one feature map; `seed` fixes the corruption (and η > 0) noise. */
  async reconstruct(e: FeatureMap, tau: number, deltaT: number, eta: number, seed: number, noise?: NoiseSource): Promise<FeatureMap> {
    const [out] = await this.reconstructMany([e], tau, deltaT, eta, [seed], noise);
    return out!;
  }

  /**
   * Several maps in one batch; each uses its own seed, as if reconstructed alone.
   * `noise` supplies the corruption noise at η = 0 (at η > 0 each stream goes on to draw the steps' noise, so it is drawn here).
   */
  async reconstructMany(es: readonly FeatureMap[], tau: number, deltaT: number, eta: number, seeds: readonly number[], noiseSource?: NoiseSource): Promise<FeatureMap[]> {
    const { c, h, w } = this.model.shape;
    const n = es.length;
    const size = c * h * w;
    if (seeds.length !== n) throw new RangeError(`reconstruct: ${n} maps but ${seeds.length} seeds`);
    if (tau > this.schedule.T) throw new RangeError(`reconstruct: τ = ${tau} exceeds T = ${this.schedule.T}`);
    for (const e of es) {
      if (e.c !== c || e.h !== h || e.w !== w) throw new RangeError(`reconstruct: feature map is ${e.c}×${e.h}×${e.w}, the model expects ${c}×${h}×${w}`);
    }
    const steps = ddimTimesteps(tau, deltaT);
    const ab = this.schedule.alphaBar;
    const rngs = seeds.map((s) => createRng(s));
    // Eq. 11: x_τ = √ᾱ_τ e + √(1−ᾱ_τ) ε, with ε from each frame's own stream.
    const noise = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      if (noiseSource && eta === 0) noise.set(noiseSource(seeds[i]!, size), i * size);
      else fillNormal(rngs[i]!, noise.subarray(i * size, (i + 1) * size));
    }

    let x: Float32Array;
    if (this.runner === "unrolled" && eta === 0) {
      const slot = this.unrolledSlot(tau, deltaT);
      slot.users++;
      try {
        const session = await slot.session;
        const e = new Float32Array(n * size);
        es.forEach((m, i) => e.set(m.data, i * size));
        const out = await session.run({
          e: new ort.Tensor("float32", e, [n, c, h, w]),
          noise: new ort.Tensor("float32", noise, [n, c, h, w]),
        });
        x = out.x0!.data as Float32Array;
      } finally {
        slot.users--;
        if (slot.evicted && slot.users === 0) await (await slot.session).release();
      }
    } else {
      const xl = new Float32Array(n * size);
      x = xl;
      es.forEach((m, i) => corrupt(m.data, ab[tau]!, noise.subarray(i * size, (i + 1) * size), xl.subarray(i * size, (i + 1) * size)));
      const d = this.model.cfg.timeEmbedDim;
      const z = eta > 0 ? new Float32Array(n * size) : undefined;
      for (const t of steps) {
        const prev = Math.max(t - deltaT, 0);
        const temb = timestepEmbedding(new Array<number>(n).fill(t), d);
        const out = await this.session.run({
          x: new ort.Tensor("float32", xl, [n, c, h, w]),
          temb: new ort.Tensor("float32", temb, [n, d]),
        });
        const eps = out.eps!.data as Float32Array;
        if (z && ddimSigma(ab[t]!, ab[prev]!, eta) > 0) for (let i = 0; i < n; i++) fillNormal(rngs[i]!, z.subarray(i * size, (i + 1) * size));
        ddimStep(xl, eps, ab[t]!, ab[prev]!, eta, z, xl);
      }
    }
    return es.map((_, i) => ({ data: x.slice(i * size, (i + 1) * size), c, h, w }));
  }

  private unrolledSlot(tau: number, deltaT: number): NonNullable<Reconstructor["unrolled"]> {
    const key = `${tau}/${deltaT}`;
    const cur = this.unrolled;
    if (cur?.key === key) return cur;
    if (cur) {
      cur.evicted = true;
      if (cur.users === 0) void cur.session.then((s) => s.release());
    }
    const next = { key, session: ort.InferenceSession.create(buildUnrolledDdim(this.model, this.schedule, tau, deltaT), this.sessionOptions), users: 0, evicted: false };
    this.unrolled = next;
    return next;
  }

  async close(): Promise<void> {
    await this.session.release();
    const cur = this.unrolled;
    this.unrolled = undefined;
    if (cur && !cur.evicted) await (await cur.session).release();
  }
}

/**
 * One graph for the whole η = 0 reconstruction: inputs `e`, `noise`
 * [N, c, h, w] → output `x0`. Each step's temb is a [1, d] constant
 * (broadcast over N); the U-Net weights are initializers shared by all steps.
 */
export function buildUnrolledDdim(model: UNetModel, schedule: NoiseSchedule, tau: number, deltaT: number): Uint8Array {
  const { cfg, shape } = model;
  const g = new GraphBuilder("lafite-ddim-unrolled");
  const dims = ["N", shape.c, shape.h, shape.w];
  const e = g.input("e", DataType.FLOAT, dims);
  const noise = g.input("noise", DataType.FLOAT, dims);
  const ab = schedule.alphaBar;
  const param = initializerParams(g, model.weights);
  const axpby = (a: number, x: Value, b: number, y: Value): Value =>
    g.op("Add", [g.op("Mul", [x, g.scalar(a)])[0]!, g.op("Mul", [y, g.scalar(b)])[0]!])[0]!;
  let x = axpby(Math.sqrt(ab[tau]!), e, Math.sqrt(1 - ab[tau]!), noise);
  for (const t of ddimTimesteps(tau, deltaT)) {
    const prev = Math.max(t - deltaT, 0);
    const temb = g.constant(timestepEmbedding([t], cfg.timeEmbedDim), [1, cfg.timeEmbedDim], "temb");
    const eps = emitUNet(g, x, temb, param, cfg, shape);
    const { cx, ce } = ddimCoefficients(ab[t]!, ab[prev]!, 0);
    x = axpby(cx, x, ce, eps);
  }
  g.output(x, DataType.FLOAT, dims, "x0");
  return g.toBytes();
}
