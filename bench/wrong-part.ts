/**
 * `npm run bench:wrong-part`: what a line that sends its recipe
 * (DetectRequest.class_tag) gets when a part of another product arrives.
 *
 * A unified model knows every class's parts as normal, so a wrong part's
 * features find their own class's rows and score low. For --bundle and the
 * good test images of --data, each image is tagged with every other class and
 * scored as the daemon does (judged as the tag: its detail weight and
 * threshold). Prints how many such wrong parts pass by their score (what
 * model.classTagMismatch: judge answers), how many read as their own class
 * (what ng rejects), how many pass under distinct (by score between classes
 * that look alike to the model, as ng elsewhere), and how many correctly
 * tagged images read as another class (the extra NG that ng costs, and
 * distinct where the classes do not look alike), per pair and in all.
 *
 * Usage: npm run bench:wrong-part -- --bundle B --data DIR [--class NAME]...
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { decodeEncoded } from "../src/image/decode.js";
import { loadDetector } from "../src/pipeline/load.js";
import { isNg, looksAlike, readAsAnotherClass } from "../src/pipeline/class-tag.js";

const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, class: { type: "string", multiple: true } } });
if (!values.bundle || !values.data) throw new Error("usage: npm run bench:wrong-part -- --bundle B --data DIR [--class NAME]...");
const detector = await loadDetector(values.bundle);
try {
  const known = new Set(detector.info.classes);
  const classes = (await scanDataset(values.data, values.class ? { classes: values.class } : {})).filter((c) => known.has(c.name));
  if (classes.length < 2) throw new Error(`need at least two of the model's classes (${[...known].join(", ")}) in ${values.data}`);
  const pairs = new Map<string, { frames: number; passed: number; readOwn: number; passedNg: number; passedDistinct: number }>();
  let rightTagged = 0;
  let misread = 0;
  let misreadDistinct = 0;
  const alike = detector.info.alikeClasses;
  for (const cls of classes) {
    for (const item of cls.test) {
      if (item.anomalous) continue;
      const image = await decodeEncoded(await readFile(item.path));
      rightTagged++;
      const own = await detector.scoreImage(image, 0, cls.name);
      if (own.class !== cls.name) misread++;
      if (readAsAnotherClass(own) && !looksAlike(alike, own)) misreadDistinct++;
      for (const tag of classes) {
        if (tag.name === cls.name) continue;
        const s = await detector.scoreImage(image, 0, tag.name);
        const key = `${cls.name} tagged ${tag.name}`;
        const p = pairs.get(key) ?? { frames: 0, passed: 0, readOwn: 0, passedNg: 0, passedDistinct: 0 };
        p.frames++;
        if (s.score <= s.threshold) p.passed++;
        if (s.class === cls.name) p.readOwn++;
        // ng lets a tagged frame through only when it reads as its tag and scores under the tag's threshold.
        if (s.class === tag.name && s.score <= s.threshold) p.passedNg++;
        if (!isNg(s.score > s.threshold, readAsAnotherClass(s), "distinct", looksAlike(alike, s))) p.passedDistinct++;
        pairs.set(key, p);
      }
    }
  }
  const pct = (n: number, of: number) => `${n}/${of} (${of ? ((100 * n) / of).toFixed(1) : "-"} %)`;
  const width = Math.max(...[...pairs.keys()].map((k) => k.length));
  console.log(`${"good image of A tagged B".padEnd(width)}  ${"pass by score (judge)".padStart(22)}  ${"read as A (ng rejects)".padStart(22)}`);
  for (const [k, p] of pairs) console.log(`${k.padEnd(width)}  ${pct(p.passed, p.frames).padStart(22)}  ${pct(p.readOwn, p.frames).padStart(22)}`);
  const all = [...pairs.values()].reduce((a, p) => ({ frames: a.frames + p.frames, passed: a.passed + p.passed, readOwn: a.readOwn + p.readOwn, passedNg: a.passedNg + p.passedNg, passedDistinct: a.passedDistinct + p.passedDistinct }), { frames: 0, passed: 0, readOwn: 0, passedNg: 0, passedDistinct: 0 });
  console.log(`${"all".padEnd(width)}  ${pct(all.passed, all.frames).padStart(22)}  ${pct(all.readOwn, all.frames).padStart(22)}`);
  console.log(`wrong parts passing: judge ${pct(all.passed, all.frames)}, ng ${pct(all.passedNg, all.frames)}, distinct ${pct(all.passedDistinct, all.frames)}; right tags read as another class (extra NG under ng): ${pct(misread, rightTagged)}, of them not alike (extra NG under distinct): ${pct(misreadDistinct, rightTagged)}`);
} finally {
  await detector.close();
}
