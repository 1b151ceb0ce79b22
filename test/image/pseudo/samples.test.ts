import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { pseudoSamples, warpSamples, type PseudoSample } from "../../../src/image/pseudo/samples.js";
import { LafiteError } from "../../../src/util/errors.js";
import { tempDir } from "../synth/helpers.js";
import sharp from "sharp";
import { collect, writeNormals, writePlateSet } from "./helpers.js";

test("each class yields its normals as good samples, then perClass anomalies from its own images", async (t) => {
  const dir = await tempDir(t);
  const a = await writeNormals(path.join(dir, "a"), 3, 40, 30, false, 1);
  const b = await writeNormals(path.join(dir, "b"), 2, 32, 32, true, 50);
  const samples = await collect(pseudoSamples([{ name: "a", images: a }, { name: "b", images: b }], { seed: 5, perClass: 4 }));
  assert.deepEqual(
    samples.map((s) => `${s.cls}/${s.kind}/${s.name}`),
    ["a/good/000", "a/good/001", "a/good/002", "a/pseudo/000", "a/pseudo/001", "a/pseudo/002", "a/pseudo/003", "b/good/000", "b/good/001", "b/pseudo/000", "b/pseudo/001", "b/pseudo/002", "b/pseudo/003"],
  );
  for (const s of samples) {
    const images = s.cls === "a" ? a : b;
    assert.ok(images.includes(s.target));
    assert.equal(s.image.width, s.cls === "a" ? 40 : 32);
    if (s.kind === "good") {
      assert.equal(s.mask, undefined);
      continue;
    }
    assert.ok(s.source && images.includes(s.source) && s.source !== s.target, "source is another image of the same class");
    assert.equal(s.mask!.length, s.image.width * s.image.height);
    assert.ok(s.mask!.every((v) => v === 0 || v === 1) && s.mask!.some((v) => v === 1));
    assert.equal(s.image.gray, s.cls === "b", "a gray class stays gray");
  }
});

test("same seed, same samples; sample i does not depend on perClass; another seed differs", async (t) => {
  const dir = await tempDir(t);
  const classes = [{ name: "a", images: await writeNormals(dir, 3, 40, 30, false, 1) }];
  const pseudo = async (seed: number, perClass: number) => (await collect(pseudoSamples(classes, { seed, perClass }))).filter((s) => s.kind === "pseudo");
  const [x, y, z, w] = [await pseudo(7, 3), await pseudo(7, 3), await pseudo(7, 5), await pseudo(8, 3)];
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(x[i]!.image.rgb, y[i]!.image.rgb);
    assert.deepEqual(x[i]!.mask, y[i]!.mask);
    assert.deepEqual(x[i]!.info, y[i]!.info);
    assert.deepEqual(x[i]!.image.rgb, z[i]!.image.rgb, "perClass 5 starts with the perClass 3 samples");
  }
  assert.ok(x.some((s, i) => !Buffer.from(s.mask!).equals(Buffer.from(w[i]!.mask!))), "seed 8 gives other masks");
});

test("cross-class sources come from other classes and are resized to the target", async (t) => {
  const dir = await tempDir(t);
  const a = await writeNormals(path.join(dir, "a"), 1, 40, 30, false, 1);
  const b = await writeNormals(path.join(dir, "b"), 1, 20, 50, true, 9);
  const samples = (await collect(pseudoSamples([{ name: "a", images: a }, { name: "b", images: b }], { seed: 1, perClass: 6, crossClass: true }))).filter(
    (s) => s.kind === "pseudo",
  );
  // With one image per class, excluding the target leaves only the other class's image.
  for (const s of samples) {
    assert.equal(s.source, s.cls === "a" ? b[0] : a[0]);
    assert.equal(s.selfPaste, undefined);
    assert.deepEqual([s.image.width, s.image.height], s.cls === "a" ? [40, 30] : [20, 50]);
  }
});

test("a class of one image pastes from itself at another place; a class of none is refused", async (t) => {
  const dir = await tempDir(t);
  const one = await writeNormals(dir, 1, 48, 48, false, 3);
  const samples = (await collect(pseudoSamples([{ name: "solo", images: one }], { seed: 2, perClass: 3 }))).filter((s) => s.kind === "pseudo");
  assert.equal(samples.length, 3);
  for (const s of samples) {
    assert.equal(s.selfPaste, true);
    assert.equal(s.source, s.target);
    assert.ok(Math.hypot(s.info!.paste.dx, s.info!.paste.dy) >= 4.8);
  }
  await assert.rejects(collect(pseudoSamples([{ name: "empty", images: [] }], { seed: 2, perClass: 3 })), (err: unknown) => err instanceof LafiteError && err.code === "BAD_DATASET" && /empty has no normal images/.test(err.message));
});

test("bad options and unreadable images are clear errors; an aborted signal stops the set", async (t) => {
  const dir = await tempDir(t);
  const images = await writeNormals(dir, 2, 20, 20, false, 3);
  await assert.rejects(collect(pseudoSamples([{ name: "a", images }], { seed: -1, perClass: 1 })), /seed/);
  await assert.rejects(collect(pseudoSamples([{ name: "a", images }], { seed: 0, perClass: 1.5 })), /per-class/);
  await assert.rejects(collect(pseudoSamples([{ name: "a", images: [path.join(dir, "missing.png")] }], { seed: 0, perClass: 1 })), /cannot read normal image .*missing\.png/);
  const controller = new AbortController();
  const seen: PseudoSample[] = [];
  await assert.rejects(
    (async () => {
      for await (const s of pseudoSamples([{ name: "a", images }], { seed: 0, perClass: 5, signal: controller.signal })) {
        seen.push(s);
        controller.abort();
      }
    })(),
    (err: unknown) => err instanceof LafiteError && err.code === "CANCELLED",
  );
  assert.equal(seen.length, 1);
});

test("a logical share makes that share of a class's anomalies logical, from the target alone; every other anomaly, and a class without parts, stays as it was", async (t) => {
  const dir = await tempDir(t);
  await writePlateSet(dir, 3);
  const board = [0, 1, 2].map((i) => path.join(dir, "board", "train", "good", `00${i}.png`));
  const cloth = await writeNormals(path.join(dir, "cloth"), 3, 64, 48, false, 7);
  const classes = [{ name: "board", images: board }, { name: "cloth", images: cloth }];
  const pseudo = async (logical?: number) => (await collect(pseudoSamples(classes, { seed: 4, perClass: 24, ...(logical !== undefined ? { logical } : {}) }))).filter((s) => s.kind === "pseudo");
  const none = await pseudo();
  assert.deepEqual(await pseudo(0), none);
  const half = await pseudo(0.5);
  const made = half.filter((s) => s.info!.logical);
  assert.ok(made.length >= 6 && made.length <= 18 && made.every((s) => s.cls === "board"), `${made.length} of 24 board anomalies logical`);
  half.forEach((s, i) => {
    if (s.info!.logical) {
      assert.equal(s.source, s.target);
      assert.equal(s.target, none[i]!.target, "the same target, drawn from the paste's stream");
    } else {
      assert.deepEqual(s, none[i], `${s.cls}/${s.name} changed though it is not logical`);
    }
  });
  await assert.rejects(collect(pseudoSamples(classes, { seed: 4, perClass: 1, logical: 2 })), /logical share/);
});

test("a shade share shades that share of the anomalies that are not logical, from the target alone; every other anomaly stays as it was", async (t) => {
  const dir = await tempDir(t);
  await writePlateSet(dir, 3);
  const board = [0, 1, 2].map((i) => path.join(dir, "board", "train", "good", `00${i}.png`));
  const cloth = await writeNormals(path.join(dir, "cloth"), 3, 64, 48, false, 7);
  const classes = [{ name: "board", images: board }, { name: "cloth", images: cloth }];
  const pseudo = async (shade?: number) => (await collect(pseudoSamples(classes, { seed: 4, perClass: 24, logical: 0.5, ...(shade !== undefined ? { shade } : {}) }))).filter((s) => s.kind === "pseudo");
  const none = await pseudo();
  assert.deepEqual(await pseudo(0), none);
  const half = await pseudo(0.5);
  const shaded = half.filter((s) => s.info!.shade);
  const byClass = (cls: string) => shaded.filter((s) => s.cls === cls).length;
  // The cloth has no parts, so all 24 of its anomalies can be shaded; the board's logical ones cannot.
  assert.ok(byClass("cloth") >= 6 && byClass("cloth") <= 18, `${byClass("cloth")} of 24 cloth anomalies shaded`);
  const boardPasted = none.filter((s) => s.cls === "board" && !s.info!.logical).length;
  assert.ok(byClass("board") >= 1 && byClass("board") <= boardPasted, `${byClass("board")} of ${boardPasted} board anomalies that are not logical shaded`);
  half.forEach((s, i) => {
    if (s.info!.shade) {
      assert.equal(s.source, s.target);
      assert.equal(s.selfPaste, undefined);
      assert.equal(s.target, none[i]!.target, "the same target, drawn from the paste's stream");
      assert.equal(none[i]!.info!.logical, undefined, "a logical anomaly stays logical");
    } else {
      assert.deepEqual(s, none[i], `${s.cls}/${s.name} changed though it is not shaded`);
    }
  });
  assert.equal((await pseudo(1)).filter((s) => !s.info!.shade && !s.info!.logical).length, 0, "share 1: every anomaly that is not logical is shaded");
  await assert.rejects(collect(pseudoSamples(classes, { seed: 4, perClass: 1, shade: -0.1 })), /shade share/);
});

test("a warp share warps that share of the anomalies that are neither logical nor shaded, from the target alone; every other anomaly stays as it was", async (t) => {
  const dir = await tempDir(t);
  await writePlateSet(dir, 3);
  const board = [0, 1, 2].map((i) => path.join(dir, "board", "train", "good", `00${i}.png`));
  const cloth = await writeNormals(path.join(dir, "cloth"), 3, 64, 48, false, 7);
  const classes = [{ name: "board", images: board }, { name: "cloth", images: cloth }];
  const pseudo = async (warp?: number) => (await collect(pseudoSamples(classes, { seed: 4, perClass: 24, logical: 0.5, shade: 0.25, ...(warp !== undefined ? { warp } : {}) }))).filter((s) => s.kind === "pseudo");
  const none = await pseudo();
  assert.deepEqual(await pseudo(0), none);
  const half = await pseudo(0.5);
  const warped = half.filter((s) => s.info!.warp);
  const pasted = (cls: string) => none.filter((s) => s.cls === cls && !s.info!.logical && !s.info!.shade).length;
  for (const cls of ["board", "cloth"]) {
    const n = warped.filter((s) => s.cls === cls).length;
    assert.ok(n >= 1 && n < pasted(cls), `${n} of ${pasted(cls)} pasted ${cls} anomalies warped`);
  }
  half.forEach((s, i) => {
    if (s.info!.warp) {
      assert.equal(s.source, s.target);
      assert.equal(s.selfPaste, undefined);
      assert.equal(s.target, none[i]!.target, "the same target, drawn from the paste's stream");
      assert.equal(none[i]!.info!.logical ?? none[i]!.info!.shade, undefined, "logical and shaded anomalies stay as they were");
      assert.deepEqual(s.info!.paste, { dx: 0, dy: 0, transform: 0, gain: 1, bias: 0 });
    } else {
      assert.deepEqual(s, none[i], `${s.cls}/${s.name} changed though it is not warped`);
    }
  });
  assert.equal((await pseudo(1)).filter((s) => !s.info!.warp && !s.info!.shade && !s.info!.logical).length, 0, "share 1: every anomaly left is warped");
  await assert.rejects(collect(pseudoSamples(classes, { seed: 4, perClass: 1, warp: 1.5 })), /warp share/);
});

test("warpSamples: up to perClass warped edges a class, each from its own stream (sample i whatever perClass), none from a flat frame", async (t) => {
  const dir = await tempDir(t);
  const cloth = await writeNormals(path.join(dir, "cloth"), 3, 64, 48, false, 7);
  const flat = path.join(dir, "flat.png");
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 120, g: 120, b: 120 } } }).png().toFile(flat);
  const classes = [{ name: "cloth", images: cloth }, { name: "plain", images: [flat] }];
  const six = await collect(warpSamples(classes, { seed: 2, perClass: 6 }));
  assert.deepEqual(six.map((s) => `${s.cls}/${s.name}`), ["cloth/w000", "cloth/w001", "cloth/w002", "cloth/w003", "cloth/w004", "cloth/w005"]);
  for (const s of six) {
    assert.equal(s.kind, "pseudo");
    assert.ok(cloth.includes(s.target) && s.source === s.target);
    assert.ok(s.info!.warp, "made by a warp");
    assert.equal(s.mask!.length, 64 * 48);
  }
  const four = await collect(warpSamples(classes, { seed: 2, perClass: 4 }));
  assert.deepEqual(four, six.slice(0, 4));
  assert.notDeepEqual((await collect(warpSamples(classes, { seed: 3, perClass: 4 }))).map((s) => s.info!.warp), four.map((s) => s.info!.warp));
  await assert.rejects(collect(warpSamples(classes, { seed: 2, perClass: -1 })), /per-class count/);
});
