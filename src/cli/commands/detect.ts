/**
 * `lafite detect`: streams image files to a daemon over one Detect call and
 * prints one line per frame, in order: id, score, verdict, milliseconds
 * (client round trip). Optionally saves heatmap overlays.
 */
import { readdir, readFile, stat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { status as Status } from "@grpc/grpc-js";
import type { CliCommand } from "../main.js";
import { readAsAnotherClass } from "../../pipeline/class-tag.js";
import { setByLight } from "../../model/memory/class-means.js";
import { parseFlags } from "../args.js";
import type { DetectRequestInit } from "../../server/client.js";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonClient } from "../daemon-flags.js";
import { Verdict } from "../../gen/lafited/v1/detector_pb.js";
import { overlayHeatmap } from "../../image/heatmap.js";
import { invalidInput } from "../../util/errors.js";
import { uniqueFrameIds, type FrameFile } from "../frame-ids.js";

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"]);

export const command: CliCommand = {
  summary: "Stream image files to a lafited daemon and print score and verdict per frame.",
  usage: `lafite detect [--server HOST:PORT] FILE|DIR... [--heatmaps DIR] [--class TAG] [--threshold X] [TLS and token flags]
${DAEMON_FLAGS_USAGE}
  FILE|DIR            images; folders are searched recursively (png, jpg, bmp, tif, webp), in name order
  --heatmaps DIR      save <DIR>/<id>.png: the heatmap composited over the image (an id names one frame: files of one name
                      from several folders get as many of their folders as tell them apart, good/000.png and crack/000.png)
  --class TAG         product/class tag sent with every frame: a class of the model judges each frame as that class (its threshold);
                      a frame that reads as another class, and a tag the model does not know, are reported on stderr
  --threshold X       decision threshold instead of the model's
Output: one line per frame, tab-separated: id, score, verdict (OK|NG), ms.
A frame the daemon refused prints: id, ERROR, status, message. Exit 1 if any frame failed.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { ...DAEMON_FLAGS, heatmaps: { type: "string" }, class: { type: "string" }, threshold: { type: "string" } },
      true,
    );
    if (positionals.length === 0) throw invalidInput("give at least one image FILE or DIR");
    const threshold = values.threshold !== undefined ? Number(values.threshold) : undefined;
    if (threshold !== undefined && !Number.isFinite(threshold)) throw invalidInput(`--threshold must be a number, got '${values.threshold}'`);
    const files = await collectImages(positionals);
    if (files.length === 0) throw invalidInput(`no image files found in ${positionals.join(", ")}`);
    const heatmaps = values.heatmaps;
    if (heatmaps !== undefined) await mkdir(heatmaps, { recursive: true });

    const { client } = daemonClient(values, process.env);
    const sentAt: number[] = [];
    const originals = new Map<number, Buffer>();
    let failed = 0;
    let ng = 0;
    let index = 0;
    const saves: Promise<void>[] = [];
    async function* requests(): AsyncGenerator<DetectRequestInit> {
      for (const [i, file] of files.entries()) {
        const bytes = await readFile(file.path);
        if (heatmaps !== undefined) originals.set(i, bytes);
        sentAt[i] = performance.now();
        yield {
          frameId: file.id,
          image: { case: "encoded", value: bytes },
          classTag: values.class ?? "",
          options: {
            returnHeatmap: heatmaps !== undefined,
            optionalThreshold: threshold !== undefined ? { case: "threshold", value: threshold } : { case: undefined },
          },
        };
      }
    }
    let unknownTagSaid = false;
    try {
      const st = await client.detectMany(requests(), (res) => {
        const i = index++;
        const ms = performance.now() - (sentAt[i] ?? performance.now());
        if (res.error) {
          failed++;
          process.stdout.write(`${res.frameId}\tERROR\t${Status[res.error.code] ?? res.error.code}\t${res.error.message}\n`);
        } else {
          if (res.verdict === Verdict.NG) ng++;
          process.stdout.write(`${res.frameId}\t${res.score.toFixed(6)}\t${res.verdict === Verdict.NG ? "NG" : "OK"}\t${ms.toFixed(1)}\n`);
          const tag = values.class ?? "";
          if (res.unlikeAnyClass) {
            process.stderr.write(
              setByLight(res.lookRatio, res.lightRatio)
                ? `lafite detect: ${res.frameId} is lit like none of the model's classes (its light ${res.lightRatio.toFixed(2)} half-ranges from the middle of ${res.frameClass || "the nearest class"}'s normals', over the unlike margin: a failed lamp, a wrong exposure?), NG whatever its score\n`
                : `lafite detect: ${res.frameId} looks like none of the model's classes (its look ${res.lookRatio.toFixed(2)} reaches from ${res.frameClass || "the nearest class"}'s, over the unlike margin: an empty station, a covered lens, another product?), NG whatever its score\n`,
            );
          }
          if (tag !== "" && res.judgedClass === tag && readAsAnotherClass({ class: res.frameClass, judgedAs: res.judgedClass })) {
            const share = (cls: string) => (res.classShares[cls] ?? 0).toFixed(2);
            process.stderr.write(`lafite detect: ${res.frameId} is tagged ${tag} and judged as it, but reads as ${res.frameClass} (a wrong part or recipe?; class shares ${res.frameClass} ${share(res.frameClass)}, ${tag} ${share(tag)})\n`);
          } else if (tag !== "" && res.judgedClass !== tag && !unknownTagSaid) {
            unknownTagSaid = true;
            process.stderr.write(`lafite detect: the model has no class '${tag}' (GetModelInfo lists its classes); frames are judged as the class they read as${res.judgedClass ? ` (${res.frameId}: ${res.judgedClass})` : ""}\n`);
          }
          const original = originals.get(i);
          if (heatmaps !== undefined && original !== undefined && res.heatmapPng.length > 0) {
            const out = path.join(heatmaps, `${res.frameId.replace(/[\\/]/g, "__")}.png`);
            saves.push(
              overlayHeatmap(original, res.heatmapPng)
                .catch(() => Buffer.from(res.heatmapPng)) // an image sharp cannot read (e.g. BMP): save the heatmap alone
                .then((png) => writeFile(out, png)),
            );
          }
        }
        originals.delete(i);
      });
      await Promise.all(saves);
      process.stderr.write(`lafite detect: ${index}/${files.length} frames answered, ${ng} NG, ${failed} failed\n`);
      if (st.code !== Status.OK) {
        process.stderr.write(`lafite detect: stream ended with ${Status[st.code]}: ${st.details}\n`);
        return 1;
      }
      return failed > 0 || index !== files.length ? 1 : 0;
    } finally {
      client.close();
    }
  },
};

/** Image files under the given paths, in name order; ids are paths relative to the folder given (or the file's name), made unique (frame-ids.ts). */
async function collectImages(paths: string[]): Promise<FrameFile[]> {
  const out: FrameFile[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s === undefined) throw invalidInput(`no such file or folder: ${p}`);
    if (s.isFile()) {
      out.push({ path: p, id: path.basename(p) });
      continue;
    }
    const entries = (await readdir(p, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => path.join(e.parentPath, e.name))
      .sort();
    for (const f of entries) out.push({ path: f, id: path.relative(p, f) });
  }
  return uniqueFrameIds(out);
}
