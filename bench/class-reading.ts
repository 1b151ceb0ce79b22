/**
 * `npm run bench:class-reading`: how a bundle reads frames' classes by its
 * class means (memory/class-means.ts, what it serves) against its bank rows'
 * votes (what bundles before the means served), on the held-out normals fit
 * recorded and every test image of --data. Prints, per reader and set, the
 * frames read as another class than their folder's, by pair, and the ratio of
 * misreadings; the bundle's scores do not depend on the reading, so only the
 * reading is compared.
 *
 * --gain G --offset O shift every frame first (each pixel value v becomes
 * G·v + O, clipped): how each reader holds when the line's light drifts.
 *
 * Usage: npm run bench:class-reading -- --bundle B --data DIR [--mode M] [--gain G] [--offset O]
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { readBundle, type LoadedBundle } from "../src/model/bundle.js";
import { detectorFromBundle } from "../src/pipeline/load.js";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { holdoutClasses } from "../src/image/pseudo/holdout.js";
import { decodeEncoded } from "../src/image/decode.js";
import { SCORING_MODES, type ScoringMode } from "../src/model/types.js";

const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, mode: { type: "string" }, gain: { type: "string" }, offset: { type: "string" } } });
if (!values.bundle || !values.data) throw new Error("usage: npm run bench:class-reading -- --bundle B --data DIR [--mode M] [--gain G] [--offset O]");
const gain = Number(values.gain ?? 1);
const offset = Number(values.offset ?? 0);
if (!(Number.isFinite(gain) && gain > 0) || !Number.isFinite(offset)) throw new Error("--gain must be a number above 0 and --offset a number");
const shifted = gain !== 1 || offset !== 0;
/** A test frame's bytes, shifted by --gain and --offset when given. */
const frameBytes = async (path: string): Promise<Uint8Array> => (shifted ? sharp(await readFile(path)).linear(gain, offset).png().toBuffer() : readFile(path));
if (values.mode !== undefined && !SCORING_MODES.includes(values.mode as ScoringMode)) throw new Error(`--mode must be one of ${SCORING_MODES.join(", ")}`);
const mode = values.mode as ScoringMode | undefined;
const bundle = await readBundle(values.bundle);
if (!bundle.manifest.memory.classMeans) throw new Error(`${values.bundle} has no class means (fitted before them): refit it to compare`);
const { classMeans: _means, ...memory } = bundle.manifest.memory;
const byVotes: LoadedBundle = { ...bundle, manifest: { ...bundle.manifest, memory } };

const sets: { name: string; frames: { cls: string; path: string }[] }[] = [
  { name: "held-out normals", frames: holdoutClasses(bundle.manifest.provenance.holdoutFiles, values.data).flatMap((c) => c.images.map((path) => ({ cls: c.name, path }))) },
  { name: "test images", frames: (await scanDataset(values.data)).flatMap((c) => c.test.map((t) => ({ cls: c.name, path: t.path }))) },
];
const results: { reader: string; set: string; frames: number; misread: Map<string, number> }[] = [];
for (const [reader, b] of [["class means", bundle], ["row votes", byVotes]] as const) {
  const detector = await detectorFromBundle(b, mode ? { mode } : {});
  try {
    for (const set of sets) {
      const misread = new Map<string, number>();
      for (const f of set.frames) {
        const read = (await detector.scoreImage(await decodeEncoded(await frameBytes(f.path)), 0)).class ?? "(none)";
        if (read !== f.cls) misread.set(`${f.cls} as ${read}`, (misread.get(`${f.cls} as ${read}`) ?? 0) + 1);
      }
      results.push({ reader, set: set.name, frames: set.frames.length, misread });
    }
  } finally {
    await detector.close();
  }
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
for (const r of results) {
  const pairs = [...r.misread].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
  console.log(`${r.reader.padEnd(11)}  ${r.set.padEnd(16)}  misread ${String(total(r.misread)).padStart(4)} of ${r.frames}${pairs ? `: ${pairs}` : ""}`);
}
if (shifted) console.log(`every frame shifted: v → ${gain}·v + ${offset}`);
for (const set of sets) {
  const [means, votes] = ["class means", "row votes"].map((reader) => total(results.find((r) => r.reader === reader && r.set === set.name)!.misread));
  console.log(`${set.name}: misread by the class means / by the row votes = ${means} / ${votes}${votes > 0 ? ` = ${(means! / votes!).toFixed(2)}` : ""}`);
}
