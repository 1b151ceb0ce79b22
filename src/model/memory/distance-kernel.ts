/**
 * The coreset selection's distance loops compiled to WebAssembly SIMD
 * (distance-kernel.wat, assembled into dist/ at build time by
 * scripts/build-wasm.mjs). They compute bit for bit what coreset.ts's
 * JavaScript kernels compute, about 1.7× faster with two threads (bench:coreset),
 * because the loop is bound by widening float32 rows to float64 and V8 does
 * that one value at a time.
 *
 * The loops can only read WebAssembly memory, so a selection that uses them
 * places its arrays in a {@link KernelArena} instead of plain buffers; the
 * arena's memory is shared, and each worker thread instantiates the module
 * over the same memory.
 */
import { readFileSync } from "node:fs";

/** A WebAssembly memory can have at most this many 64-KiB pages here: byte offsets stay below 2³¹ (the kernel's i32 arithmetic). */
const MAX_PAGES = 32_767;
const PAGE_BYTES = 65_536;

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel module, compiled once per thread, or undefined when it
 * cannot be used here (no build output, or a runtime without WebAssembly
 * SIMD): callers then run the JavaScript kernels, which give the same results.
 */
export function distanceKernelModule(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(new URL("./distance-kernel.wasm", import.meta.url)));
    } catch {
      compiled = null;
    }
  }
  return compiled ?? undefined;
}

/** The kernel's loops over one arena; pointers are the views' byteOffsets. See distance-kernel.wat for each. */
export interface DistanceKernel {
  sqDist(a: number, b: number, d: number): number;
  update(points: number, d: number, minDist: number, center: number, lo: number, hi: number): number;
  updatePruned(points: number, d: number, minDist: number, owner: number, pickDist: number, center: number, pick: number, lo: number, hi: number, skipFactor: number): number;
  pickDistances(points: number, d: number, picks: number, pickDist: number, count: number, lo: number, hi: number): void;
  /** Rows the last updatePruned call on this instance measured. */
  measured(): number;
}

/** An instance of the module over `memory`: one per thread. */
export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): DistanceKernel {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  // The module's exports are untyped functions; distance-kernel.wat declares these signatures.
  return exports as unknown as DistanceKernel;
}

/**
 * One shared WebAssembly memory sized up front for a selection's arrays,
 * handed out as typed-array views in order (each 16-byte aligned, so rows of
 * d float32 load as whole vectors when d is a multiple of 4).
 */
export class KernelArena {
  private used = 0;

  private constructor(readonly memory: WebAssembly.Memory, private readonly bytes: number) {}

  /** An arena of at least `bytes`, or undefined when that is more than the kernel can address. */
  static create(bytes: number): KernelArena | undefined {
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) return undefined;
    // Shared so that worker threads can use it; its size never changes, so every view stays valid.
    return new KernelArena(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }), pages * PAGE_BYTES);
  }

  /** Bytes an arena needs for views of these byte sizes, alignment included. */
  static bytesFor(sizes: readonly number[]): number {
    return sizes.reduce((sum, s) => sum + align(s), 0);
  }

  float32(length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.take(length * 4), length);
  }

  float64(length: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.take(length * 8), length);
  }

  int32(length: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.take(length * 4), length);
  }

  private take(size: number): number {
    const at = this.used;
    if (at + size > this.bytes) throw new RangeError(`kernel arena of ${this.bytes} bytes cannot hold ${size} more after ${at}`);
    this.used = at + align(size);
    return at;
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
