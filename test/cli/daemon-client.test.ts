import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHarness } from "../server/support/harness.js";
import { grayPng } from "../server/support/fake-detector.js";

const LAFITE = fileURLToPath(new URL("../../../bin/lafite.js", import.meta.url));

function lafite(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAFITE, ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test("lafite health prints the status and exits 0 only when SERVING", async () => {
  const h = await startHarness();
  const idle = await startHarness({ noModel: true });
  try {
    assert.deepEqual(await lafite(["health", "--server", h.address]).then((r) => [r.code, r.stdout]), [0, "SERVING\n"]);
    assert.deepEqual(await lafite(["health", "--server", h.address, "--service", "lafited.v1.Detector"]).then((r) => [r.code, r.stdout]), [0, "SERVING\n"]);
    assert.deepEqual(await lafite(["health", "--server", h.address, "--service", "x.Y"]).then((r) => [r.code, r.stdout]), [1, "SERVICE_UNKNOWN\n"]);
    assert.deepEqual(await lafite(["health", "--server", idle.address]).then((r) => [r.code, r.stdout]), [1, "NOT_SERVING\n"]);
    await idle.stop();
    const gone = await lafite(["health", "--server", idle.address, "--timeout", "1"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stdout, "UNREACHABLE\n");
  } finally {
    await h.stop();
    await idle.stop();
  }
});

test("lafite detect streams files and folders, prints one line per frame in order, and saves heatmap overlays", async () => {
  const h = await startHarness();
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-detect-"));
  try {
    const images = path.join(dir, "images");
    mkdirSync(path.join(images, "sub"), { recursive: true });
    const levels = [10, 240, 60, 200];
    for (const [i, l] of levels.entries()) writeFileSync(path.join(images, i < 2 ? "" : "sub", `img${i}.png`), await grayPng(l));
    writeFileSync(path.join(images, "notes.txt"), "not an image, and not picked up");
    const single = path.join(dir, "single.png");
    writeFileSync(single, await grayPng(128));
    const heat = path.join(dir, "heat");
    const r = await lafite(["detect", "--server", h.address, images, single, "--heatmaps", heat, "--class", "bottle"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.split("\t"));
    assert.deepEqual(lines.map((l) => l[0]), ["img0.png", "img1.png", "sub/img2.png", "sub/img3.png", "single.png"]);
    assert.deepEqual(lines.map((l) => l[2]), ["OK", "NG", "OK", "NG", "NG"]);
    for (const l of lines) {
      assert.equal(l.length, 4);
      assert.ok(Number.isFinite(Number(l[1])) && Number(l[3]) >= 0);
    }
    assert.ok(Math.abs(Number(lines[1]![1]) - 240 / 255) < 1e-5);
    assert.deepEqual(readdirSync(heat).sort(), ["img0.png.png", "img1.png.png", "single.png.png", "sub__img2.png.png", "sub__img3.png.png"]);

    writeFileSync(path.join(images, "zz-garbage.png"), "garbage");
    const bad = await lafite(["detect", "--server", h.address, images]);
    assert.equal(bad.code, 1, "a refused frame makes the exit code non-zero");
    const last = bad.stdout.trim().split("\n").at(-1)!.split("\t");
    assert.deepEqual(last.slice(0, 3), ["zz-garbage.png", "ERROR", "INVALID_ARGUMENT"]);
    assert.equal(bad.stdout.trim().split("\n").length, 5, "the stream went on around the bad frame");
  } finally {
    await h.stop();
  }
});

test("lafite detect --class reports each frame that reads as another class than its tag, and once a tag the model does not know", async () => {
  const h = await startHarness({ fake: { readAs: "plate" } });
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-detect-tag-"));
  try {
    for (const i of [0, 1]) writeFileSync(path.join(dir, `f${i}.png`), await grayPng(20));
    const wrong = await lafite(["detect", "--server", h.address, dir, "--class", "hex nut"]);
    assert.equal(wrong.code, 0, wrong.stderr);
    // model.classTagMismatch: ng (the default): NG whatever the score.
    assert.deepEqual(wrong.stdout.trim().split("\n").map((l) => l.split("\t")[2]), ["NG", "NG"]);
    assert.deepEqual(wrong.stderr.split("\n").filter((l) => l.includes("reads as")), ["f0.png", "f1.png"].map((f) => `lafite detect: ${f} is tagged hex nut and judged as it, but reads as plate (a wrong part or recipe?; class shares plate 1.00, hex nut 0.00)`));
    const unknown = await lafite(["detect", "--server", h.address, dir, "--class", "bolt"]);
    assert.deepEqual(unknown.stdout.trim().split("\n").map((l) => l.split("\t")[2]), ["OK", "OK"]);
    assert.equal(unknown.stderr.split("\n").filter((l) => l.includes("has no class 'bolt'")).length, 1, unknown.stderr);
    const right = await lafite(["detect", "--server", h.address, dir, "--class", "plate"]);
    assert.doesNotMatch(right.stderr, /reads as|has no class/);
  } finally {
    await h.stop();
  }
});

test("model.classTagMismatch: distinct judges a frame by its score where its tag's class and the class it reads as look alike to the model, and rejects it elsewhere", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-detect-alike-"));
  writeFileSync(path.join(dir, "f0.png"), await grayPng(20));
  const verdicts = async (config: { model: { classTagMismatch: "ng" | "distinct" } }, alikeClasses?: Record<string, string[]>) => {
    const h = await startHarness({ fake: { readAs: "plate", ...(alikeClasses ? { alikeClasses } : {}) }, config });
    try {
      const r = await lafite(["detect", "--server", h.address, dir, "--class", "hex nut"]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").map((l) => l.split("\t")[2]);
    } finally {
      await h.stop();
    }
  };
  const alike = { plate: ["hex nut"], "hex nut": ["plate"] };
  // GetModelInfo lists the pairs, and lafite info prints each once.
  const h = await startHarness({ fake: { alikeClasses: alike } });
  try {
    const text = await lafite(["info", "--server", h.address]);
    assert.match(text.stdout, /\nclasses that look alike to the model \(a tag mismatch between them is judged by score under model\.classTagMismatch: distinct\): hex nut ~ plate\n/);
    const json = JSON.parse((await lafite(["info", "--server", h.address, "--json"])).stdout) as { alikeClasses: Record<string, { classes: string[] }> };
    assert.deepEqual(json.alikeClasses, { plate: { classes: ["hex nut"] }, "hex nut": { classes: ["plate"] } });
  } finally {
    await h.stop();
  }
  // A dark frame scores under the threshold: only the mismatch can make it NG.
  assert.deepEqual(await verdicts({ model: { classTagMismatch: "distinct" } }, alike), ["OK"]);
  assert.deepEqual(await verdicts({ model: { classTagMismatch: "ng" } }, alike), ["NG"]);
  assert.deepEqual(await verdicts({ model: { classTagMismatch: "distinct" } }), ["NG"]);
});

test("a frame like none of the model's classes is NG whatever its score: lafite detect says so, lafite info gives the margin", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-detect-unlike-"));
  writeFileSync(path.join(dir, "f0.png"), await grayPng(20));
  const run = async (lookRatio: number, lightRatio?: number) => {
    const h = await startHarness({ fake: { readAs: "plate", lookRatio, unlikeMargin: 1.5, ...(lightRatio !== undefined ? { lightRatio } : {}) } });
    try {
      const r = await lafite(["detect", "--server", h.address, dir]);
      assert.equal(r.code, 0, r.stderr);
      const info = await lafite(["info", "--server", h.address]);
      assert.match(info.stdout, /\na frame whose look lies over 1\.5 reaches from its class's \(DetectResponse\.look_ratio\) is NG as like none of the model's classes, as is one lit over 1\.5 half-ranges from its class's normals' light \(DetectResponse\.light_ratio\); no reach \(too few normals\), so never unlike: hex nut\n/);
      return { verdict: r.stdout.trim().split("\t")[2], stderr: r.stderr };
    } finally {
      await h.stop();
    }
  };
  // A dark frame scores under the threshold: only its look can make it NG.
  const near = await run(1.2);
  assert.equal(near.verdict, "OK");
  assert.doesNotMatch(near.stderr, /none of the model's classes/);
  const far = await run(4);
  assert.equal(far.verdict, "NG");
  assert.match(far.stderr, /f0\.png looks like none of the model's classes \(its look 4\.00 reaches from plate's, over the unlike margin/);
  // Far by its light (the look ratio the light's): lafite detect names the light.
  const lit = await run(3, 3);
  assert.equal(lit.verdict, "NG");
  assert.match(lit.stderr, /f0\.png is lit like none of the model's classes \(its light 3\.00 half-ranges from the middle of plate's normals', over the unlike margin: a failed lamp/);
  assert.doesNotMatch(lit.stderr, /looks like none/);
  // Far by its features, its light near: the look.
  assert.match((await run(4, 0.5)).stderr, /looks like none of the model's classes \(its look 4\.00/);
});

test("lafite info prints the served model: thresholds, the classes a tag can name and their detail and context weights (the image score's too); --json the whole message", async () => {
  const h = await startHarness();
  try {
    const text = await lafite(["info", "--server", h.address]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^model fake-1: knn mode, backbone fake-brightness \(1×1×1 features, input 0\), 1234 memory-bank rows, cpu\n/);
    assert.match(text.stdout, /\nthreshold 0\.5 \(fixed by the fake detector\)\n/);
    assert.match(text.stdout, /\nclasses \(a class tag naming one judges a frame as it\): plate, hex nut\n/);
    assert.match(text.stdout, /\ndetail W 0\.25, context bank λ 4\nedge-corrected heatmaps: plate\n/);
    assert.match(text.stdout, /\nalso scored in tiles \(served: the larger of the whole frame's and the tiles' heatmaps, each in its normals' pixel quantile, and of their scores, in the class's threshold units, unless map only\): plate 4×4 \(lafite, frame threshold 2\.5\), hex nut 2×2 overlapping 0\.25 \(knn, map only\)\n/);
    // Each bank's heatmap W, then its image score's (plate's own; the nut's score shares its heatmap's detail W).
    assert.match(text.stdout, /\nclass\s+threshold\s+detail W\s+score detail W\s+context W\s+score context W\n/);
    assert.match(text.stdout, /\nplate\s+0\.5 \(model's\)\s+0\.5\s+0\s+0\.5\s+1\n/);
    assert.match(text.stdout, /\nhex nut\s+0\.5 \(model's\)\s+0\s+0\s+-\s+-\n?$/);
    const json = await lafite(["info", "--server", h.address, "--json"]);
    const info = JSON.parse(json.stdout) as { version: string; classes: string[]; detailClassWeights: Record<string, number>; detailImageClassWeights: Record<string, number>; contextClassWeights: Record<string, number>; contextImageClassWeights: Record<string, number>; contextLambda: number; edgeCorrectedClasses: string[]; tiledClasses: unknown };
    assert.deepEqual([info.version, info.classes, info.detailClassWeights, info.detailImageClassWeights], ["fake-1", ["plate", "hex nut"], { plate: 0.5, "hex nut": 0 }, { plate: 0 }]);
    assert.deepEqual([info.contextClassWeights, info.contextImageClassWeights, info.contextLambda, info.edgeCorrectedClasses], [{ plate: 0.5 }, { plate: 1 }, 4, ["plate"]]);
    // proto3 JSON leaves a zero overlap out.
    assert.deepEqual(info.tiledClasses, { plate: { grid: 4, frameThreshold: 2.5, scoringMode: "lafite" }, "hex nut": { grid: 2, overlap: 0.25, frameThreshold: 3, scoringMode: "knn", mapOnly: true } });
    const down = await lafite(["info", "--server", "127.0.0.1:1"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^lafite info: 127\.0\.0\.1:1: UNAVAILABLE: /);
  } finally {
    await h.stop();
  }
});
