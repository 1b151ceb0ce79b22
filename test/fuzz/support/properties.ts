/**
 * The fuzz properties, shared by the test suite (a few thousand cases) and
 * `npm run bench:fuzz -- --cases N` (as many as asked):
 *
 * - request decoding: hostile DetectRequest bytes → fromBinary → toFrameRequest
 *   either yields a frame that satisfies its invariants or throws
 *   INVALID_INPUT; nothing else escapes.
 * - image decoding: hostile encoded and raw frames → decodeFrame either yields
 *   a consistent RGB image or rejects INVALID_INPUT.
 * - the running server: hostile bytes on the wire (DetectOne, and batches on
 *   one Detect stream) always get a clear status (OK, INVALID_ARGUMENT,
 *   RESOURCE_EXHAUSTED) within a deadline: never INTERNAL, UNKNOWN or a hang;
 *   the daemon stays SERVING.
 */
import fc from "fast-check";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { DetectRequestSchema, DetectResponseSchema, type DetectResponse } from "../../../src/gen/lafited/v1/detector_pb.js";
import { toFrameRequest } from "../../../src/server/frame-request.js";
import { decodeFrame } from "../../../src/image/decode.js";
import { LafiteError } from "../../../src/util/errors.js";
import { LafitedServer } from "../../../src/server/server.js";
import { LafitedClient, ServingStatus } from "../../../src/server/client.js";
import { silentLogger } from "../../../src/util/log.js";
import { testConfig } from "../../server/support/harness.js";
import { DecodingDetector } from "./decoding-detector.js";
import { encodedImage, rawFrame, wireRequest, makeSeeds, type Seeds } from "./arbitraries.js";
import { requestBytes } from "./wire.js";
import type { FrameInput, PixelFormat } from "../../../src/pipeline/types.js";

/** 4K: the limit the fuzz server and decoder run with. */
export const FUZZ_MAX_PIXELS = 3840 * 2160;

export interface FuzzTally {
  cases: number;
  readonly outcomes: Map<string, number>;
}

export function newTally(): FuzzTally {
  return { cases: 0, outcomes: new Map() };
}

function count(t: FuzzTally, outcome: string): void {
  t.cases++;
  t.outcomes.set(outcome, (t.outcomes.get(outcome) ?? 0) + 1);
}

function isInvalidInput(err: unknown): boolean {
  return err instanceof LafiteError && err.code === "INVALID_INPUT" && err.message.length > 0;
}

/** Hostile bytes, from a wire request, optionally cut short. */
function hostileBytes(seeds: Seeds): fc.Arbitrary<Uint8Array> {
  return fc.tuple(wireRequest(seeds), fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 4 })).map(([req, cut]) => {
    const bytes = requestBytes(req);
    return cut === null ? bytes : bytes.subarray(0, Math.floor(bytes.length * cut));
  });
}

export async function checkRequestDecoding(numRuns: number, tally: FuzzTally, seed?: number): Promise<void> {
  const seeds = await makeSeeds();
  fc.assert(
    fc.property(hostileBytes(seeds), (bytes) => {
      let req;
      try {
        req = fromBinary(DetectRequestSchema, bytes);
      } catch {
        count(tally, "protobuf-error"); // the server answers these INVALID_ARGUMENT (checked over the wire)
        return;
      }
      try {
        const frame = toFrameRequest(req, { maxPixels: FUZZ_MAX_PIXELS });
        if (frame.frame.kind === "raw") {
          const { width, height, pixels, format } = frame.frame;
          const channels = format === "gray8" ? 1 : 3;
          if (!(width > 0 && height > 0 && width * height <= FUZZ_MAX_PIXELS && pixels.length === width * height * channels)) {
            throw new Error(`accepted an inconsistent raw frame ${width}x${height} ${format} with ${pixels.length} bytes`);
          }
        } else if (frame.frame.bytes.length === 0) {
          throw new Error("accepted an empty encoded image");
        }
        if (frame.options.threshold !== undefined && !Number.isFinite(frame.options.threshold)) throw new Error(`accepted threshold ${frame.options.threshold}`);
        count(tally, "accepted");
      } catch (err) {
        if (!isInvalidInput(err)) throw err;
        count(tally, "INVALID_INPUT");
      }
    }),
    { numRuns, ...(seed !== undefined ? { seed } : {}) },
  );
}

const FORMAT_NAMES: Record<number, PixelFormat> = { 1: "gray8", 2: "rgb8", 3: "bgr8" };

export async function checkImageDecoding(numRuns: number, tally: FuzzTally, seed?: number): Promise<void> {
  const seeds = await makeSeeds();
  const frame: fc.Arbitrary<FrameInput> = fc.oneof(
    { weight: 3, arbitrary: encodedImage(seeds).map((bytes): FrameInput => ({ kind: "encoded", bytes })) },
    {
      weight: 2,
      arbitrary: rawFrame.map((r): FrameInput => ({ kind: "raw", width: r.width, height: r.height, format: FORMAT_NAMES[r.format] ?? ("rgb8" as PixelFormat), pixels: r.pixels })),
    },
  );
  await fc.assert(
    fc.asyncProperty(frame, async (f) => {
      try {
        const image = await decodeFrame(f, { maxPixels: FUZZ_MAX_PIXELS });
        if (!(image.width > 0 && image.height > 0 && image.width * image.height <= FUZZ_MAX_PIXELS && image.rgb.length === image.width * image.height * 3)) {
          throw new Error(`decoded an inconsistent image ${image.width}x${image.height} with ${image.rgb.length} bytes`);
        }
        count(tally, "decoded");
      } catch (err) {
        if (!isInvalidInput(err)) throw err;
        count(tally, "INVALID_INPUT");
      }
    }),
    { numRuns, ...(seed !== undefined ? { seed } : {}) },
  );
}

export interface FuzzServer {
  readonly server: LafitedServer;
  readonly client: LafitedClient;
  stop(): Promise<void>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const server = new LafitedServer({
    config: testConfig({ limits: { maxPixels: FUZZ_MAX_PIXELS, maxRegions: 8, perPeer: { maxStreams: null, framesPerSecond: null }, perToken: { framesPerSecond: null } } }),
    log: silentLogger(),
    provider: async () => new DecodingDetector(FUZZ_MAX_PIXELS),
  });
  const port = await server.listen();
  await server.loadModel();
  const client = new LafitedClient(`127.0.0.1:${port}`);
  return {
    server,
    client,
    stop: async () => {
      client.close();
      await server.shutdown(2000);
    },
  };
}

/** Statuses a hostile frame may get: answered, or refused with a reason. */
const CLEAR = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED]);
const DEADLINE_MS = 15_000;
const identity = (b: Buffer) => b;
const decodeResponse = (b: Buffer) => fromBinary(DetectResponseSchema, b);

function unaryRaw(client: LafitedClient, bytes: Uint8Array): Promise<{ code: grpc.status; details: string; response?: DetectResponse }> {
  return new Promise((resolve) => {
    client.raw.makeUnaryRequest("/lafited.v1.Detector/DetectOne", identity, decodeResponse, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, res) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: grpc.status.OK, details: "", ...(res ? { response: res } : {}) });
    });
  });
}

function streamRaw(client: LafitedClient, messages: Uint8Array[]): Promise<{ code: grpc.status; details: string; responses: DetectResponse[] }> {
  return new Promise((resolve) => {
    const responses: DetectResponse[] = [];
    const call = client.raw.makeBidiStreamRequest("/lafited.v1.Detector/Detect", identity, decodeResponse, new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS });
    call.on("data", (r: DetectResponse) => responses.push(r));
    call.on("error", () => {});
    call.on("status", (st: grpc.StatusObject) => resolve({ code: st.code, details: st.details, responses }));
    for (const m of messages) call.write(Buffer.from(m));
    call.end();
  });
}

export async function checkServerWire(fz: FuzzServer, numRuns: number, tally: FuzzTally, seed?: number): Promise<void> {
  const seeds = await makeSeeds();
  const bytes = hostileBytes(seeds);
  const single = bytes.map((b) => ({ kind: "unary" as const, messages: [b] }));
  const batch = fc.array(bytes, { minLength: 1, maxLength: 6 }).map((messages) => ({ kind: "stream" as const, messages }));
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: single }, { weight: 1, arbitrary: batch }), async (c) => {
      if (c.kind === "unary") {
        const r = await unaryRaw(fz.client, c.messages[0]!);
        if (!CLEAR.has(r.code) || (r.code !== grpc.status.OK && r.details === "")) throw new Error(`DetectOne got ${grpc.status[r.code]}: ${r.details}; server ${JSON.stringify(fz.server.stats)}`);
        count(tally, `DetectOne ${grpc.status[r.code]}`);
        return;
      }
      const r = await streamRaw(fz.client, c.messages);
      if (!CLEAR.has(r.code)) {
        throw new Error(`Detect ended with ${grpc.status[r.code]}: ${r.details}; ${r.responses.length} of ${c.messages.length} answered; server ${JSON.stringify(fz.server.stats)}`);
      }
      for (const res of r.responses) {
        if (res.error !== undefined && (!CLEAR.has(res.error.code) || res.error.message === "")) throw new Error(`frame error ${res.error.code}: ${res.error.message}`);
      }
      // All messages answered in order, unless a malformed one ended the call.
      if (r.code === grpc.status.OK && r.responses.length !== c.messages.length) throw new Error(`${c.messages.length} frames sent, ${r.responses.length} answered`);
      count(tally, `Detect ${grpc.status[r.code]}`);
    }),
    { numRuns, ...(seed !== undefined ? { seed } : {}) },
  );
  const health = await fz.client.health("", { timeoutMs: 5000 });
  if (health !== ServingStatus.SERVING) throw new Error(`daemon is ${ServingStatus[health]} after fuzzing`);
}
