/**
 * bench:detect — end-to-end frame latency through the daemon: a real
 * LafitedServer on 127.0.0.1 and real grpc-js clients, each stream sending
 * one frame and waiting for its verdict before the next (a PLC's cycle).
 * Prints p50/p95 over ≥ 100 frames for 1 and 4 concurrent streams, and the
 * ratio of end-to-end time to the sum of the pipeline's stage timings (what
 * gRPC, serialization, queueing and the client add).
 *
 * Usage: node dist/bench/detect.js [--bundle DIR] [--frames N] [--images DIR]
 *   --bundle DIR  serve this model bundle (also LAFITED_BENCH_BUNDLE); without
 *                 it a fake brightness detector is served and the numbers
 *                 measure the daemon's own overhead only.
 *   --frames N    frames per stream (default 200, at least 100)
 *   --images DIR  PNG/JPEG files to send (default: synthetic 256×256 PNGs)
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { loadConfig } from "../src/config/load.js";
import { LafitedServer, type DetectorProvider } from "../src/server/server.js";
import { LafitedClient } from "../src/server/client.js";
import { silentLogger } from "../src/util/log.js";
import type { DetectResponse } from "../src/gen/lafited/v1/detector_pb.js";
import { FakeDetector } from "../test/server/support/fake-detector.js";

interface Sample {
  e2eMs: number;
  pipelineMs: number;
  serverMs: number;
  stages: { decode: number; backbone: number; edit: number; diffusion: number; score: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { bundle: { type: "string" }, frames: { type: "string" }, images: { type: "string" } } });
  const bundle = values.bundle ?? process.env.LAFITED_BENCH_BUNDLE;
  const frames = Math.max(100, Number(values.frames ?? 200));
  const images = await loadImages(values.images);

  let provider: DetectorProvider;
  if (bundle) {
    const { loadDetector } = await import("../src/pipeline/load.js");
    provider = async (config) => loadDetector(bundle, { executionProvider: config.model.executionProvider });
    console.log(`bench:detect: real detector from bundle ${bundle}`);
  } else {
    provider = async () => new FakeDetector();
    console.log("bench:detect: no bundle given (--bundle or LAFITED_BENCH_BUNDLE): FAKE detector (mean brightness) — measures daemon overhead only");
  }
  const config = { ...loadConfig({ env: {} }), listen: "127.0.0.1:0" };
  const server = new LafitedServer({ config, log: silentLogger(), provider });
  const port = await server.listen();
  const info = await server.loadModel();
  console.log(`model ${info.version} (${info.mode}, ${info.executionProvider}); ${images.length} distinct images; ${frames} frames per stream; queue concurrency ${config.queue.concurrency}`);
  const address = `127.0.0.1:${port}`;
  try {
    await runStreams(address, images, 1, 10); // warm-up
    console.log("streams  frames   p50 ms   p95 ms   frames/s   e2e/pipeline   e2e/server");
    for (const streams of [1, 4]) {
      const t0 = performance.now();
      const samples = await runStreams(address, images, streams, frames);
      const secs = (performance.now() - t0) / 1000;
      const e2e = samples.map((s) => s.e2eMs).sort((a, b) => a - b);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const ratio = sum(e2e) / Math.max(1e-9, sum(samples.map((s) => s.pipelineMs)));
      const serverRatio = sum(e2e) / Math.max(1e-9, sum(samples.map((s) => s.serverMs)));
      console.log(
        `${String(streams).padStart(7)}  ${String(samples.length).padStart(6)}  ${pct(e2e, 0.5).toFixed(2).padStart(7)}  ${pct(e2e, 0.95).toFixed(2).padStart(7)}  ${(samples.length / secs).toFixed(1).padStart(9)}  ${ratio.toFixed(3).padStart(13)}  ${serverRatio.toFixed(3).padStart(11)}`,
      );
    }
    // Per-stage medians on one stream (no queueing): where a frame's time goes in this scoring mode.
    const single = await runStreams(address, images, 1, frames);
    const med = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 0.5);
    const stageNames = ["decode", "backbone", "edit", "diffusion", "score"] as const;
    console.log(`stage medians, 1 stream (${info.mode}${info.tau !== undefined ? `, τ=${info.tau} Δt=${info.deltaT} steps=${info.steps} K=${info.k}` : ""}): ${stageNames.map((n) => `${n} ${med(single.map((s) => s.stages[n])).toFixed(2)} ms`).join(", ")}`);
    console.log("e2e/pipeline: client-measured round trip ÷ sum of pipeline stages (decode+backbone+edit+diffusion+score); e2e/server: ÷ server-side total (adds queue and render)");
  } finally {
    await server.shutdown(2000);
  }
}

async function runStreams(address: string, images: Buffer[], streams: number, frames: number): Promise<Sample[]> {
  const all = await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      const client = new LafitedClient(address);
      const samples: Sample[] = [];
      const stream = client.openDetect();
      const it = stream[Symbol.asyncIterator]();
      try {
        for (let i = 0; i < frames; i++) {
          const t = performance.now();
          await stream.send({ frameId: `s${s}-${i}`, image: { case: "encoded", value: images[(i + s) % images.length]! } });
          const next = await it.next();
          const e2eMs = performance.now() - t;
          if (next.done) throw new Error(`stream ended early: ${(await stream.status).details}`);
          const res: DetectResponse = next.value;
          if (res.error) throw new Error(`frame failed: ${res.error.message}`);
          const tm = res.timings!;
          samples.push({
            e2eMs,
            pipelineMs: tm.decodeMs + tm.backboneMs + tm.editMs + tm.diffusionMs + tm.scoreMs,
            serverMs: tm.totalMs,
            stages: { decode: tm.decodeMs, backbone: tm.backboneMs, edit: tm.editMs, diffusion: tm.diffusionMs, score: tm.scoreMs },
          });
        }
        stream.end();
        await stream.status;
      } finally {
        client.close();
      }
      return samples;
    }),
  );
  return all.flat();
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function loadImages(dir: string | undefined): Promise<Buffer[]> {
  if (dir) {
    const files = (await readdir(dir, { recursive: true }))
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .sort()
      .slice(0, 64);
    if (files.length === 0) throw new Error(`no PNG/JPEG files in ${dir}`);
    return Promise.all(files.map((f) => readFile(path.join(dir, f))));
  }
  return Promise.all(
    Array.from({ length: 8 }, (_, i) => {
      const px = Buffer.alloc(256 * 256 * 3);
      for (let j = 0; j < px.length; j++) px[j] = (j * (i + 3) + (j >> 8) * 7) & 255;
      return sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
