/**
 * bench:accept — what an operator's accepted frames teach a model through the
 * real refresh job (src/lifecycle/jobs/refresh-memory-bank.ts), under each
 * coverage rule: `class` (the default: every accepted slice covered to its
 * class's radius) and `fit` (to fit's covering radius alone, the rule before).
 *
 * The scenario: a data set's test frames, optionally made brighter by
 * --gain (a lighting change on the line); every second good frame of each
 * class (in name order) is accepted as normal, untagged as from a line that
 * sends no recipe (or with --tagged, tagged with its class and scored so);
 * the other good frames and every defect are the frames the line sees next.
 * Prints, for the bundle and for each refreshed candidate: rows added,
 * accepted frames still NG (those the bank learnt from, and those the
 * refresh held out for the thresholds), good frames flagged among the
 * others, defects caught, mean image and pixel AUROC, and the refresh's time.
 *
 * Usage: node dist/bench/accept.js --bundle DIR --data DIR [--gain 1.1] [--tagged] [--work DIR]
 *   --bundle DIR   the model (any mode; the refresh keeps it)
 *   --data DIR     an MVTec-layout data set of the model's classes (its test frames are used)
 *   --gain G       multiply every test frame's pixel values by G (default 1: the frames as they are)
 *   --tagged       accept and score every frame with its class tag
 *   --work DIR     where the scenario and candidates go (default: a new temporary folder, removed at the end)
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, parse } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { evaluate } from "../src/eval/evaluate.js";
import { refreshMemoryBank } from "../src/lifecycle/jobs/index.js";
import type { AcceptedFrame } from "../src/lifecycle/jobs/types.js";
import { readBundle } from "../src/model/bundle.js";
import { loadDetector } from "../src/pipeline/load.js";
import { silentLogger } from "../src/util/log.js";

const { values } = parseArgs({
  options: {
    bundle: { type: "string" },
    data: { type: "string" },
    gain: { type: "string", default: "1" },
    tagged: { type: "boolean", default: false },
    work: { type: "string" },
  },
});
if (!values.bundle || !values.data) throw new Error("usage: node dist/bench/accept.js --bundle DIR --data DIR [--gain 1.1] [--tagged] [--work DIR]");
const gain = Number(values.gain);
if (!(gain > 0)) throw new Error(`--gain must be a positive number, got ${values.gain}`);
const work = values.work ?? (await mkdtemp(join(tmpdir(), "lafite-bench-accept-")));
const quiet = () => {};

/** The frame at `src` as the line sees it now: brighter by `gain`, or unchanged. */
async function place(src: string, dst: string): Promise<void> {
  if (gain === 1) await copyFile(src, dst);
  else await writeFile(dst, await sharp(src).linear(gain, 0).png().toBuffer());
}

// The scenario: work/next (an MVTec-layout set of the frames the line sees next) and work/accepted/<class>/test/good.
const classes = await scanDataset(values.data);
const accepted: AcceptedFrame[] = [];
for (const cls of classes) {
  const good = cls.test.filter((t) => !t.anomalous).sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const [i, item] of cls.test.filter((t) => t.anomalous).concat(good).entries()) {
    const acceptedFrame = !item.anomalous && good.indexOf(item) % 2 === 0;
    const dir = acceptedFrame ? join(work, "accepted", cls.name, "test", "good") : join(work, "next", cls.name, "test", item.defect);
    await mkdir(dir, { recursive: true });
    const { name: stem, ext } = parse(item.path);
    const dst = join(dir, `${i}-${stem}${gain === 1 ? ext : ".png"}`);
    await place(item.path, dst);
    if (acceptedFrame) accepted.push({ path: dst, sha256: createHash("sha256").update(await readFile(dst)).digest("hex"), ...(values.tagged ? { classTag: cls.name } : {}) });
    if (item.maskPath && !acceptedFrame) {
      const masks = join(work, "next", cls.name, "ground_truth", item.defect);
      await mkdir(masks, { recursive: true });
      // A mask file keeps its extension; an MVTec LOCO folder of masks is named by the image's stem.
      const isFolder = (await stat(item.maskPath)).isDirectory();
      await symlink(item.maskPath, join(masks, isFolder ? `${i}-${stem}` : `${i}-${stem}_mask${parse(item.maskPath).ext}`));
    }
  }
  // The scanner reads a class by its training folder; nothing here trains.
  for (const set of ["next", "accepted"]) {
    const train = join(work, set, cls.name, "train");
    if (!existsSync(train)) {
      await mkdir(join(train, "good"), { recursive: true });
      if (cls.train[0]) await symlink(cls.train[0], join(train, "good", basename(cls.train[0])));
    }
  }
}
console.log(`bench:accept — ${values.bundle} on ${values.data}: ${accepted.length} good frames accepted${values.tagged ? " with their class tags" : " untagged"}, test frames ×${gain}`);

interface Outcome {
  readonly goodFlagged: number;
  readonly good: number;
  readonly caught: number;
  readonly defects: number;
  readonly image: number;
  readonly pixel: number;
  /** Paths of the accepted frames judged NG. */
  readonly acceptedNg: Set<string>;
}

async function score(bundle: string): Promise<Outcome> {
  const detector = await loadDetector(bundle);
  try {
    let good = 0, goodFlagged = 0, defects = 0, caught = 0;
    const report = await evaluate(detector, {
      data: join(work, "next"), classTags: values.tagged, log: quiet, progressSink: quiet,
      onImage: (s) => {
        if (s.anomalous) (defects++, s.verdict === "NG" && caught++);
        else (good++, s.verdict === "NG" && goodFlagged++);
      },
    });
    const acceptedNg = new Set<string>();
    await evaluate(detector, { data: join(work, "accepted"), classTags: values.tagged, log: quiet, progressSink: quiet, onImage: (s) => s.verdict === "NG" && acceptedNg.add(s.path) });
    return { good, goodFlagged, defects, caught, acceptedNg, image: report.mean.image_auroc ?? NaN, pixel: report.mean.pixel_auroc ?? NaN };
  } finally {
    await detector.close();
  }
}

const pct = (v: number) => (Number.isNaN(v) ? "  –  " : (100 * v).toFixed(2));
/** useOf: what the refresh did with an accepted frame (bank or holdout); absent for the bundle itself, which learnt from none. */
const row = (name: string, o: Outcome, extra: string, useOf?: (path: string) => string) => {
  const ng = [...o.acceptedNg];
  const bank = ng.filter((p) => useOf?.(p) !== "holdout").length;
  const split = useOf ? `${bank} / ${ng.length - bank}` : `${ng.length}`;
  console.log(`${name.padEnd(26)} ${extra.padEnd(22)} ${split.padStart(9)} of ${accepted.length}   ${`${o.goodFlagged}/${o.good}`.padStart(7)}   ${`${o.caught}/${o.defects}`.padStart(8)}   ${pct(o.image)} / ${pct(o.pixel)}`);
};
console.log(`${"model".padEnd(26)} ${"refresh".padEnd(22)} accepted NG (bank / held out)   flagged    caught    image / pixel AUROC`);
const base = await score(values.bundle);
row("bundle", base, "");
for (const coverage of ["fit", "class"] as const) {
  const out = join(work, `candidate-${coverage}`);
  await rm(out, { recursive: true, force: true });
  const t = performance.now();
  const { summary } = await refreshMemoryBank({ kind: "refresh", activeBundleDir: values.bundle, outDir: out, accepted, signal: new AbortController().signal, progress: quiet, log: silentLogger(), options: { coverage } });
  const seconds = (performance.now() - t) / 1000;
  const uses = new Map((await readBundle(out)).manifest.dataSnapshot!.accepted.map((a) => [a.sha256, a.use]));
  const useByPath = new Map(accepted.map((a) => [a.path, uses.get(a.sha256) ?? "skipped"]));
  const after = await score(out);
  row(`refreshed, coverage ${coverage}`, after, `+${String(summary.added)} rows, ${seconds.toFixed(0)} s`, (p) => useByPath.get(p) ?? "bank");
}
if (!values.work) await rm(work, { recursive: true, force: true });
