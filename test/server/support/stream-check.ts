/**
 * Reads a Detect stream to its end and fails fast, with how far it got, when
 * answers stop coming while some are still owed. A stalled stream otherwise
 * shows up only as a test-runner timeout with no clue; this makes every test
 * that uses it a detector for the whole class of "progress waits for an event
 * that never fires" bugs.
 */
import type { StatusObject } from "@grpc/grpc-js";
import type { DetectResponse } from "../../../src/gen/lafited/v1/detector_pb.js";
import type { DetectStream } from "../../../src/server/client.js";

export interface ReadOptions {
  /** Answers expected in all. */
  readonly expected: number;
  /** Fail when no answer arrives for this long while answers are owed. */
  readonly stallMs?: number;
  /** Sleep this long before taking each answer (a slow reader). */
  readonly readDelayMs?: number | ((index: number) => number);
}

export interface ReadResult {
  readonly responses: DetectResponse[];
  readonly status: StatusObject;
}

export async function readAll(stream: DetectStream, options: ReadOptions): Promise<ReadResult> {
  const responses: DetectResponse[] = [];
  const stallMs = options.stallMs ?? 5000;
  let last = performance.now();
  let stalled: string | undefined;
  const timer = setInterval(() => {
    if (responses.length < options.expected && performance.now() - last > stallMs && stalled === undefined) {
      stalled = `stream stalled: ${responses.length} of ${options.expected} answers, none for ${stallMs} ms (last frame id '${responses.at(-1)?.frameId ?? "none"}')`;
      stream.cancel();
    }
  }, Math.min(250, stallMs / 4));
  try {
    for await (const r of stream) {
      responses.push(r);
      last = performance.now();
      const d = typeof options.readDelayMs === "function" ? options.readDelayMs(responses.length - 1) : (options.readDelayMs ?? 0);
      if (d > 0) {
        await new Promise((resolve) => setTimeout(resolve, d));
        last = performance.now();
      }
    }
  } finally {
    clearInterval(timer);
  }
  if (stalled) throw new Error(stalled);
  return { responses, status: await stream.status };
}
