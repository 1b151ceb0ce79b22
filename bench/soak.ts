/**
 * `npm run bench:soak -- --streams 16 --minutes 10`: see test/soak/support/soak-run.ts.
 * Also --seconds S (instead of minutes) and --every4k N (one raw 4K frame in N per stream; 0 for none).
 * Exits 1 if any frame was lost or reordered.
 */
import { parseArgs } from "node:util";
import { formatReport, runSoak } from "../test/soak/support/soak-run.js";

const { values } = parseArgs({ options: { streams: { type: "string" }, minutes: { type: "string" }, seconds: { type: "string" }, every4k: { type: "string" } } });
const streams = Number(values.streams ?? "16");
const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? "10") * 60;
const every4k = Number(values.every4k ?? "40");
if (!(Number.isInteger(streams) && streams > 0 && seconds > 0 && Number.isInteger(every4k) && every4k >= 0)) throw new Error("--streams, --minutes/--seconds and --every4k must be positive numbers");
console.log(`soak: ${streams} streams, ${seconds} s, one raw 4K frame in ${every4k || "never"} per stream`);
const report = await runSoak({ streams, seconds, every4k, onProgress: (l) => console.log(l) });
console.log(formatReport(report));
process.exitCode = report.lost === 0 && report.reordered === 0 && report.streamFailures.length === 0 ? 0 : 1;
