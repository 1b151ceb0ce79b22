/**
 * The product classes of the demo data set. Sizes and channel counts differ
 * on purpose: the pipeline must cope with mixed frame sizes and with
 * grayscale cameras next to colour ones.
 */
import type { CameraRanges } from "./camera.js";
import type { DefectKind } from "./defects.js";
import { renderHexNut } from "./object.js";
import type { Channels } from "./raster.js";
import type { Rng } from "./rng.js";
import type { Scene } from "./scene.js";
import { renderBrushedMetal, renderFabric } from "./textures.js";

export interface DefectType {
  /** Folder name under test/ and ground_truth/. */
  readonly name: string;
  readonly kind: DefectKind;
}

export interface ProductClass {
  readonly name: string;
  readonly kind: "texture" | "object";
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  readonly defects: readonly DefectType[];
  readonly camera: CameraRanges;
  render(rng: Rng, width: number, height: number): Scene;
}

const TEXTURE_DEFECTS: readonly DefectType[] = [
  { name: "scratch", kind: "scratch" },
  { name: "hole", kind: "hole" },
  { name: "contamination", kind: "contamination" },
  { name: "color", kind: "color" },
];

export const PRODUCT_CLASSES: readonly ProductClass[] = [
  {
    name: "fabric",
    kind: "texture",
    width: 256,
    height: 256,
    channels: 3,
    defects: TEXTURE_DEFECTS,
    camera: { gain: [0.88, 1.12], slope: 0.08, vignette: [0, 0.12], balance: 0.03, noiseSigma: [0.006, 0.012] },
    render: renderFabric,
  },
  {
    name: "brushed_metal",
    kind: "texture",
    width: 320,
    height: 320,
    channels: 1,
    defects: TEXTURE_DEFECTS,
    camera: { gain: [0.88, 1.12], slope: 0.1, vignette: [0, 0.1], balance: 0, noiseSigma: [0.006, 0.014] },
    render: renderBrushedMetal,
  },
  {
    name: "hex_nut",
    kind: "object",
    width: 224,
    height: 224,
    channels: 3,
    defects: [
      { name: "scratch", kind: "scratch" },
      { name: "missing_part", kind: "hole" },
      { name: "contamination", kind: "contamination" },
      { name: "color", kind: "color" },
    ],
    camera: { gain: [0.9, 1.1], slope: 0.06, vignette: [0.02, 0.15], balance: 0.025, noiseSigma: [0.005, 0.01] },
    render: renderHexNut,
  },
];
