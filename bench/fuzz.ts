/**
 * `npm run bench:fuzz -- --cases 20000 [--seed N]`: the fuzz properties of
 * test/fuzz at a larger count. Cases are split 40% request decoding, 30%
 * image decoding, 30% over a running server (DetectOne and Detect streams
 * with hostile bytes). Prints the outcome of every case by kind, the daemon's
 * health and the process RSS at start, peak and end. Exits non-zero on the
 * first case that crashes, hangs or gets an unclear status (fast-check prints
 * the shrunk counterexample and the seed to replay it).
 */
import { parseArgs } from "node:util";
import { checkImageDecoding, checkRequestDecoding, checkServerWire, newTally, startFuzzServer, type FuzzTally } from "../test/fuzz/support/properties.js";

const { values } = parseArgs({ options: { cases: { type: "string" }, seed: { type: "string" } } });
const cases = Number(values.cases ?? "20000");
const seed = values.seed !== undefined ? Number(values.seed) : undefined;
if (!Number.isInteger(cases) || cases < 3) throw new Error(`--cases must be an integer >= 3, got ${values.cases}`);

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
const rssStart = process.memoryUsage().rss;
const started = performance.now();

function report(name: string, t: FuzzTally, ms: number): void {
  const outcomes = [...t.outcomes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`${name.padEnd(18)} ${String(t.cases).padStart(6)} cases  ${(ms / 1000).toFixed(1)} s  ${outcomes}`);
}

const parts = { request: Math.round(cases * 0.4), image: Math.round(cases * 0.3) };
const serverCases = cases - parts.request - parts.image;
console.log(`fuzz: ${cases} cases${seed !== undefined ? `, seed ${seed}` : ""}`);

let t0 = performance.now();
const request = newTally();
await checkRequestDecoding(parts.request, request, seed);
report("request decoding", request, performance.now() - t0);

t0 = performance.now();
const image = newTally();
await checkImageDecoding(parts.image, image, seed);
report("image decoding", image, performance.now() - t0);

t0 = performance.now();
const fz = await startFuzzServer();
const wire = newTally();
try {
  await checkServerWire(fz, serverCases, wire, seed);
  report("server (wire)", wire, performance.now() - t0);
  console.log(`daemon after fuzzing: SERVING, ${fz.server.stats.openStreams} open streams, queue ${JSON.stringify(fz.server.stats.queue)}`);
} finally {
  await fz.stop();
}
clearInterval(sampler);
const rssEnd = process.memoryUsage().rss;
console.log(`RSS start ${mib(rssStart)}, peak ${mib(Math.max(peak, rssEnd))}, end ${mib(rssEnd)}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
