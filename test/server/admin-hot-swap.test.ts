/**
 * ActivateModel while frames are in flight: frames already running finish
 * on the old model (their model_version says so), new frames take the new
 * one, and the old model is closed once its last frame is done.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startAdminHarness } from "./support/admin-harness.js";
import { grayPng } from "./support/fake-detector.js";
import { writeFakeBundle } from "../lifecycle/support/fake-bundle.js";
import { readBundle } from "../../src/model/bundle.js";
import type { Detection, Detector, DetectOptions, FrameInput, ModelInfo } from "../../src/pipeline/types.js";

/** A detector whose frames wait until the test opens the latch. */
class LatchedDetector implements Detector {
  readonly info: ModelInfo;
  closed = false;
  entered = 0;
  private open!: () => void;
  private readonly latch = new Promise<void>((r) => (this.open = r));
  private enteredWaiters: (() => void)[] = [];

  constructor(version: string) {
    this.info = { version, backbone: "latched", featureShape: [1, 1, 1], coresetSize: 0, mode: "knn", threshold: 0.5, thresholdRule: "normal-quantile", thresholdMethod: "fixed by the test", executionProvider: "cpu", inputSize: 0, classes: [] };
  }

  release(): void {
    this.open();
  }

  /** Resolves once `n` frames are inside detect(). */
  waitEntered(n: number): Promise<void> {
    return this.entered >= n ? Promise.resolve() : new Promise((r) => this.enteredWaiters.push(() => (this.entered >= n ? r() : undefined)));
  }

  async detect(_frame: FrameInput, _o?: DetectOptions): Promise<Detection> {
    if (this.closed) throw new Error("used after close");
    this.entered++;
    for (const w of this.enteredWaiters) w();
    await this.latch;
    return { score: 0.1, threshold: 0.5, isAnomalous: false, width: 1, height: 1, frameMap: async () => new Float32Array(1), timings: { decode: 0, backbone: 0, edit: 0, diffusion: 0, score: 0 } };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

test("frames in flight finish on the old model, new frames get the new one, and the old one closes after them", async () => {
  const detectors = new Map<string, LatchedDetector>();
  const h = await startAdminHarness({
    loadBundle: async (dir) => {
      const version = (await readBundle(dir)).manifest.version;
      const d = new LatchedDetector(version);
      detectors.set(version, d);
      return d;
    },
    config: { queue: { concurrency: 4, maxWaiting: 64, perStream: 8 } },
  });
  try {
    const old = detectors.get("v1")!;
    const png = await grayPng(10);
    const inFlight = [1, 2].map((i) => h.client.detectOne({ frameId: `old-${i}`, image: { case: "encoded", value: png } }));
    await old.waitEntered(2);

    await writeFakeBundle(h.lifecycle.registry.dirOf("v2"), "v2");
    h.lifecycle.registry.register({ version: "v2", state: "candidate", reason: "test", parent: "v1", jobId: null, dataSnapshot: {}, metrics: {} });
    const res = await h.admin.activateModel({ version: "v2", operator: "ana" });
    assert.deepEqual([res.activeVersion, res.previousVersion], ["v2", "v1"]);
    assert.equal(old.closed, false, "the old model must stay open while its frames run");

    const fresh = detectors.get("v2")!;
    fresh.release();
    const next = await h.client.detectOne({ frameId: "new-1", image: { case: "encoded", value: png } });
    assert.equal(next.modelVersion, "v2");
    assert.equal((await h.client.getModelInfo()).version, "v2");

    old.release();
    const done = await Promise.all(inFlight);
    assert.deepEqual(done.map((r) => r.modelVersion), ["v1", "v1"]);
    // close() runs once the last lease is released; give the event loop a turn.
    await new Promise((r) => setImmediate(r));
    assert.equal(old.closed, true);
    assert.equal(fresh.closed, false);
  } finally {
    for (const d of detectors.values()) d.release();
    await h.stop();
  }
});

test("SIGHUP-style reload serves the registry's active version again", async () => {
  const h = await startAdminHarness();
  try {
    await writeFakeBundle(h.lifecycle.registry.dirOf("v2"), "v2");
    h.lifecycle.registry.register({ version: "v2", state: "candidate", reason: "test", parent: "v1", jobId: null, dataSnapshot: {}, metrics: {} });
    await h.admin.activateModel({ version: "v2" });
    const info = await h.server.reload();
    assert.equal(info?.version, "v2");
    assert.equal(h.loaded.length, 3); // v1 at start, v2 on activation, v2 again on reload
  } finally {
    await h.stop();
  }
});
