/**
 * The soak: a real daemon process (the fake-detector daemon of the process
 * tests, over the real server, decoding every frame with sharp) and N real
 * client streams, each on its own channel, sending a deterministic mix of
 * good (dark) and bad (bright) frames of mixed sizes and kinds, from a
 * 64×48 PNG up to a raw 3840×2160 RGB frame, as fast as flow control
 * allows, for a fixed time. Each stream checks that every frame is answered
 * once, in order, with its own id. Reports frames sent, answered, lost and
 * reordered, refusals (RESOURCE_EXHAUSTED: the queue was full), wrong
 * verdicts, client round-trip p50/p95/p99 and the daemon's RSS.
 *
 * Why the fake detector: the soak is about the server (flow control,
 * ordering, queueing, memory over time); a real model on a 2-core box would
 * make it a benchmark of the backbone, which bench:detect already measures.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { status as Status } from "@grpc/grpc-js";
import { LafitedClient, type DetectRequestInit } from "../../../src/server/client.js";
import { PixelFormat, Verdict } from "../../../src/gen/lafited/v1/detector_pb.js";
import { spawnDaemon } from "../../server/support/daemon-process.js";

const FAKE_DAEMON = fileURLToPath(new URL("../../server/support/fake-daemon.js", import.meta.url));

export interface SoakOptions {
  readonly streams: number;
  readonly seconds: number;
  /** One frame in this many is a raw 4K RGB frame (24.9 MB); 0: none. */
  readonly every4k?: number;
  /** After the sending time, how long a stream may take to answer what it was sent before it counts as stalled. */
  readonly drainMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface SoakReport {
  readonly streams: number;
  readonly seconds: number;
  readonly sent: number;
  readonly answered: number;
  readonly lost: number;
  readonly reordered: number;
  readonly refusals: number;
  readonly otherErrors: number;
  readonly wrongVerdicts: number;
  readonly streamFailures: readonly string[];
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  readonly rssMiB: { readonly start: number; readonly peak: number; readonly end: number };
  readonly byKind: Readonly<Record<string, number>>;
}

interface Sample {
  readonly kind: string;
  readonly bad: boolean;
  readonly request: Pick<DetectRequestInit, "image">;
}

async function makeSamples(every4k: number): Promise<Sample[]> {
  const flat = (w: number, h: number, level: number, ch: 1 | 3) => Buffer.alloc(w * h * ch, level);
  const encoded = async (w: number, h: number, level: number, fmt: "png" | "jpeg") => {
    const img = sharp(flat(w, h, level, 3), { raw: { width: w, height: h, channels: 3 } });
    return fmt === "png" ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
  };
  const samples: Sample[] = [];
  for (const bad of [false, true]) {
    const level = bad ? 230 : 25; // the fake detector's score is brightness; threshold 0.5
    samples.push({ kind: "png 64x48", bad, request: { image: { case: "encoded", value: await encoded(64, 48, level, "png") } } });
    samples.push({ kind: "jpeg 640x480", bad, request: { image: { case: "encoded", value: await encoded(640, 480, level, "jpeg") } } });
    samples.push({ kind: "png 1920x1080", bad, request: { image: { case: "encoded", value: await encoded(1920, 1080, level, "png") } } });
    samples.push({ kind: "raw gray 1280x720", bad, request: { image: { case: "raw", value: { width: 1280, height: 720, pixelFormat: PixelFormat.GRAY8, pixels: flat(1280, 720, level, 1) } } } });
    if (every4k > 0) {
      samples.push({ kind: "raw rgb 3840x2160", bad, request: { image: { case: "raw", value: { width: 3840, height: 2160, pixelFormat: PixelFormat.RGB8, pixels: flat(3840, 2160, level, 3) } } } });
    }
  }
  return samples;
}

/** Deterministic pick per (stream, index): mostly small frames, a 4K one every `every4k`. */
function pick(samples: Sample[], stream: number, i: number, every4k: number): Sample {
  const h = Math.imul(stream * 7919 + i, 2654435761) >>> 0;
  const bad = (h & 1) === 1;
  const pool = samples.filter((s) => s.bad === bad);
  if (every4k > 0 && (i + stream) % every4k === every4k - 1) return pool.find((s) => s.kind.startsWith("raw rgb"))!;
  const small = pool.filter((s) => !s.kind.startsWith("raw rgb"));
  return small[(h >>> 1) % small.length]!;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const every4k = options.every4k ?? 40;
  const samples = await makeSamples(every4k);
  const daemon = await spawnDaemon([FAKE_DAEMON], {
    LAFITED_FAKE_DAEMON: "1",
    // The stock config otherwise (spawnDaemon puts gRPC and metrics on free loopback ports).
  });
  const pid = daemon.child.pid!;
  const rss = { start: rssMiB(pid), peak: 0, end: 0 };
  rss.peak = rss.start;
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssMiB(pid))), 250);
  const latencies: number[] = [];
  const byKind: Record<string, number> = {};
  const totals = { sent: 0, answered: 0, lost: 0, reordered: 0, refusals: 0, otherErrors: 0, wrongVerdicts: 0 };
  const streamFailures: string[] = [];
  const deadline = performance.now() + options.seconds * 1000;
  let stopTimer: NodeJS.Timeout | undefined;
  const sendingOver = new Promise<void>((resolve) => (stopTimer = setTimeout(resolve, options.seconds * 1000)));
  const progress = options.onProgress
    ? setInterval(() => options.onProgress!(`  ${Math.round((options.seconds * 1000 - (deadline - performance.now())) / 1000)} s: sent ${totals.sent}, answered ${totals.answered}, refusals ${totals.refusals}, daemon RSS ${rssMiB(pid).toFixed(0)} MiB`), 10_000)
    : undefined;

  const clients: LafitedClient[] = [];
  try {
    await Promise.all(
      Array.from({ length: options.streams }, async (_, s) => {
        const client = new LafitedClient(`127.0.0.1:${daemon.port}`);
        clients.push(client);
        const stream = client.openDetect();
        const expected: { id: string; bad: boolean; at: number }[] = [];
        let sent = 0;
        let answered = 0;
        const reading = (async () => {
          for await (const res of stream) {
            answered++;
            totals.answered++;
            const head = expected.shift();
            if (head === undefined || head.id !== res.frameId) {
              totals.reordered++;
              continue;
            }
            latencies.push(performance.now() - head.at);
            if (res.error) {
              if (res.error.code === Status.RESOURCE_EXHAUSTED) totals.refusals++;
              else totals.otherErrors++;
            } else if ((res.verdict === Verdict.NG) !== head.bad) totals.wrongVerdicts++;
          }
        })();
        for (let i = 0; performance.now() < deadline; i++) {
          const sample = pick(samples, s, i, every4k);
          const id = `s${s}-${i}`;
          expected.push({ id, bad: sample.bad, at: performance.now() });
          byKind[sample.kind] = (byKind[sample.kind] ?? 0) + 1;
          sent++;
          totals.sent++;
          // A stalled daemon stops reading, and then send() waits on flow control for ever: stop waiting at the deadline.
          await Promise.race([stream.send({ ...sample.request, frameId: id }), sendingOver]);
        }
        stream.end();
        // A daemon that stops answering must show up as lost frames, not as a soak that never ends.
        let timer: NodeJS.Timeout | undefined;
        const stalled = await Promise.race([reading.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), options.drainMs ?? 30_000)))]);
        clearTimeout(timer);
        if (stalled) {
          streamFailures.push(`stream ${s}: stalled, ${sent - answered} frames unanswered ${((options.drainMs ?? 30_000) / 1000).toFixed(0)} s after the last was sent`);
          stream.cancel();
          await reading;
        } else {
          const st = await stream.status;
          if (st.code !== Status.OK) streamFailures.push(`stream ${s}: ${Status[st.code]} ${st.details}`);
        }
        totals.lost += sent - answered;
      }),
    );
  } finally {
    clearInterval(sampler);
    clearTimeout(stopTimer);
    if (progress) clearInterval(progress);
    rss.end = rssMiB(pid);
    for (const c of clients) c.close();
    daemon.child.kill("SIGTERM");
    await daemon.exit;
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    streams: options.streams,
    seconds: options.seconds,
    ...totals,
    streamFailures,
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : 0 },
    rssMiB: rss,
    byKind,
  };
}

export function formatReport(r: SoakReport): string {
  const f = (n: number) => n.toFixed(1);
  return [
    `soak: ${r.streams} streams for ${r.seconds} s against a real daemon process (fake detector, real server and decoding)`,
    `frames: sent ${r.sent}, answered ${r.answered}, lost ${r.lost}, reordered ${r.reordered}`,
    `refusals (RESOURCE_EXHAUSTED, queue full): ${r.refusals}; other per-frame errors: ${r.otherErrors}; wrong verdicts: ${r.wrongVerdicts}; streams not ending OK: ${r.streamFailures.length}`,
    `round trip ms: p50 ${f(r.latencyMs.p50)}, p95 ${f(r.latencyMs.p95)}, p99 ${f(r.latencyMs.p99)}, max ${f(r.latencyMs.max)}`,
    `daemon RSS MiB: start ${f(r.rssMiB.start)}, peak ${f(r.rssMiB.peak)}, end ${f(r.rssMiB.end)}`,
    `mix: ${Object.entries(r.byKind).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    ...r.streamFailures.map((s) => `  ${s}`),
  ].join("\n");
}
