/**
 * `tiling.classes: auto`, the default: which classes fit also scores in tiles
 * when the config names none.
 *
 * Tiles pay where the input size throws away what a defect is made of: a
 * frame whose long side is several times the input is shrunk that many times
 * before the backbone sees it, and a hairline one pixel wide vanishes. On the
 * realistic suite the 1024-px sheet (4.6× the input, 25 frames) kept its
 * tiles: hairlines' pixel AUROC 57.7 → 74.0 and AUPRO 14.8 → 43.3, the
 * class's AUPRO 51.7 → 63.2, in 179 s more of fit. A tile fit costs about a
 * whole fit of grid² times the class's bank frames, so the rule spends a
 * budget in tiles (machine-independent, so a data set always gets the same
 * choice): the classes whose median long side is at least `autoScale` times
 * the input and that have a held-out frame to measure their tiles on
 * (frame-units.ts; a class of 2 frames has none), fewest tiles first, while
 * their bank tiles stay within `autoTiles`. Classes with many frames stay
 * whole by default: naming them (`tiling.classes: [...]`) still tiles them.
 * Pseudo-validation then keeps each chosen class's tiles only where they gain
 * (tile-choice.ts).
 */

/** The lower median of a class's frames' long sides. */
export function medianLongSide(longSides: readonly number[]): number {
  if (longSides.length === 0) throw new RangeError("no frame sizes to choose a grid from");
  const sorted = [...longSides].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The grid `auto` gives a class: its frames' median long side over the input size, rounded down, within 2..4. */
export function autoGrid(longSides: readonly number[], inputSize: number): number {
  return Math.min(4, Math.max(2, Math.floor(medianLongSide(longSides) / inputSize)));
}

/** A class as the rule sees it: its frames' long sides, its bank frames and its held-out ones. */
export interface AutoTilingCandidate {
  readonly name: string;
  readonly longSides: readonly number[];
  readonly bankFrames: number;
  /** A tiled class's frame threshold and map units are measured on its held-out frames (frame-units.ts): it needs one. */
  readonly heldOutFrames: number;
}

/** How the rule judged one class. */
export interface AutoTilingVerdict {
  readonly name: string;
  /** Median long side over the input size. */
  readonly scale: number;
  readonly grid: number;
  /** Bank frames × grid². */
  readonly tiles: number;
  readonly chosen: boolean;
  /** Why not, when not chosen. */
  readonly reason?: "small frames" | "no held-out frame" | "over the tile budget";
}

export interface AutoTilingRule {
  /** Least median long side over the input size that makes a class a candidate. */
  readonly autoScale: number;
  /** Most bank tiles the chosen classes may have together. */
  readonly autoTiles: number;
  /** tiling.grid: the grid the chosen classes are cut into, so their tiles are counted as they will be fitted. */
  readonly grid: "auto" | number;
}

/** The rule itself: pure, every class judged, in the candidates' order. */
export function chooseAutoTiling(candidates: readonly AutoTilingCandidate[], inputSize: number, rule: AutoTilingRule): AutoTilingVerdict[] {
  const judged = candidates
    .filter((c) => c.longSides.length > 0)
    .map((c) => {
      // As tileGrids cuts the class (tiling.grid, or autoGrid over the same frames).
      const grid = rule.grid === "auto" ? autoGrid(c.longSides, inputSize) : rule.grid;
      return { name: c.name, scale: medianLongSide(c.longSides) / inputSize, grid, tiles: c.bankFrames * grid * grid, measurable: c.heldOutFrames > 0 && c.bankFrames > 0 };
    });
  // Fewest tiles first (ties in the candidates' order), each while the budget holds.
  const eligible = judged.filter((j) => j.scale >= rule.autoScale && j.measurable).sort((a, b) => a.tiles - b.tiles);
  const chosen = new Set<string>();
  let spent = 0;
  for (const j of eligible) {
    if (spent + j.tiles > rule.autoTiles) continue;
    spent += j.tiles;
    chosen.add(j.name);
  }
  return judged.map(({ measurable, ...j }): AutoTilingVerdict => {
    if (chosen.has(j.name)) return { ...j, chosen: true };
    return { ...j, chosen: false, reason: j.scale < rule.autoScale ? "small frames" : !measurable ? "no held-out frame" : "over the tile budget" };
  });
}

/** The fit log's line for the rule's choice. */
export function describeAutoTiling(verdicts: readonly AutoTilingVerdict[], rule: AutoTilingRule): string {
  const chosen = verdicts.filter((v) => v.chosen);
  const over = verdicts.filter((v) => v.reason === "over the tile budget");
  const unmeasured = verdicts.filter((v) => v.reason === "no held-out frame");
  const head = chosen.length > 0 ? `tiles for ${chosen.map((v) => `${v.name} (frames ${v.scale.toFixed(1)}× the input, ${v.grid}×${v.grid}, ${v.tiles} bank tiles)`).join(", ")}` : "no class tiled";
  const rest = over.length > 0 ? `; over the budget of ${rule.autoTiles} tiles: ${over.map((v) => `${v.name} (${v.tiles})`).join(", ")} (name it in tiling.classes to tile it)` : "";
  const unheld = unmeasured.length > 0 ? `; too few frames to hold one out and measure its tiles on: ${unmeasured.map((v) => v.name).join(", ")}` : "";
  return `fit: tiling.classes auto (classes whose frames are at least ${rule.autoScale}× the input, within ${rule.autoTiles} bank tiles): ${head}${rest}${unheld}`;
}
