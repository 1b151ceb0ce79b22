/**
 * Deterministic parameter initialization. Each parameter draws from its own
 * stream (seed, hash(name)), so adding or reordering parameters never changes
 * the others' initial values.
 */
import { createRng, hashString } from "./prng.js";
import type { ParamSpec } from "./unet.js";

export function initParams(specs: readonly ParamSpec[], seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of specs) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    switch (p.init.kind) {
      case "zeros":
        break;
      case "ones":
        data.fill(1);
        break;
      case "he": {
        const std = Math.sqrt(2 / p.init.fanIn);
        const rng = createRng(seed, hashString(p.name));
        for (let i = 0; i < n; i++) data[i] = std * rng.normal();
        break;
      }
    }
    out.set(p.name, data);
  }
  return out;
}
