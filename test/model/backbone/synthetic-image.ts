/**
 * A deterministic natural-looking RGB test image (gradients, discs, a soft
 * texture and noise), HWC float 0–255. Nothing is downloaded.
 */
export function testImage(size: number): Float32Array {
  const img = new Float32Array(size * size * 3);
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const clamp = (v: number) => Math.min(255, Math.max(0, v));
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const d1 = Math.hypot(x - size * 0.3, y - size * 0.4) < size * 0.15 ? 80 : 0;
      const d2 = Math.hypot(x - size * 0.7, y - size * 0.65) < size * 0.2 ? -60 : 0;
      const o = (y * size + x) * 3;
      img[o] = clamp((x / size) * 180 + d1 + 30 * rnd());
      img[o + 1] = clamp((y / size) * 160 + d2 + 30 * rnd() + 40);
      img[o + 2] = clamp(120 + 60 * Math.sin(x / 9) + d1 - d2 + 30 * rnd());
    }
  return img;
}

/** HWC → planar CHW, the layout the ONNX graphs take. */
export function toChw(hwc: Float32Array, size: number): Float32Array {
  const chw = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let ch = 0; ch < 3; ch++) chw[ch * size * size + i] = hwc[i * 3 + ch]!;
  return chw;
}
