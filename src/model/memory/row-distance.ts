/**
 * ‖a[ao..ao+d) − b[bo..bo+d)‖²: the one distance kernel of coreset
 * selection, so every path (full scan, pruned scan, initial cover) computes
 * bit-identical values for the same pair. Differences rather than the
 * ‖a‖²+‖b‖²−2a·b expansion: the loop is bound by memory either way and
 * differences cannot cancel. Four accumulators break the add dependency chain.
 */
export function sqDistAt(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  const d4 = d - (d % 4);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let t = 0;
  for (; t < d4; t += 4) {
    const e0 = a[ao + t]! - b[bo + t]!;
    const e1 = a[ao + t + 1]! - b[bo + t + 1]!;
    const e2 = a[ao + t + 2]! - b[bo + t + 2]!;
    const e3 = a[ao + t + 3]! - b[bo + t + 3]!;
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; t < d; t++) {
    const e = a[ao + t]! - b[bo + t]!;
    s0 += e * e;
  }
  return s0 + s1 + (s2 + s3);
}

/** ‖x_i‖² of each row of x (n×dim), summed in double precision. */
export function rowNorms(x: Float32Array, n: number, dim: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < dim; t++) {
      const v = x[i * dim + t]!;
      s += v * v;
    }
    out[i] = s;
  }
  return out;
}
