import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "../server/support/harness.js";
import { Verdict } from "../../src/gen/lafited/v1/detector_pb.js";
import { grayPng } from "../server/support/fake-detector.js";

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
}

/** The value of one sample line, e.g. sample(text, 'lafited_frames_total{outcome="OK"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("/metrics counts frames by outcome with stage and end-to-end latency; /healthz and /readyz follow the model", async () => {
  const h = await startHarness({ noModel: true, config: { metrics: { listen: "127.0.0.1:0" } }, fake: { threshold: 0.5 } });
  try {
    const port = h.server.metricsPort;
    assert.ok(port > 0);
    assert.equal((await get(port, "/healthz")).status, 200);
    const notReady = await get(port, "/readyz");
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /no model/);
    assert.equal(sample((await get(port, "/metrics")).body, "lafited_model_info"), undefined);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_bank_rows/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_detail_weight/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_detail_class_weight/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_detail_image_class_weight/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_context_class_weight/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_context_image_class_weight/m);
    assert.doesNotMatch((await get(port, "/metrics")).body, /^lafited_model_position_profiled/m);

    await h.server.loadModel();
    assert.equal((await get(port, "/readyz")).status, 200);
    const frames = [
      { frameId: "ok", image: { case: "encoded" as const, value: await grayPng(10) } },
      { frameId: "ng", image: { case: "encoded" as const, value: await grayPng(250) } },
      { frameId: "bad", image: { case: "encoded" as const, value: Buffer.from("garbage") } },
    ];
    await h.client.detectMany(frames, () => {});
    await h.client.detectOne(frames[0]!);

    const { status, body } = await get(port, "/metrics");
    assert.equal(status, 200);
    assert.equal(sample(body, 'lafited_frames_total{outcome="OK"}'), 2);
    assert.equal(sample(body, 'lafited_frames_total{outcome="NG"}'), 1);
    assert.equal(sample(body, 'lafited_frames_total{outcome="INVALID_INPUT"}'), 1);
    assert.equal(sample(body, "lafited_frame_duration_seconds_count"), 3);
    for (const stage of ["queue", "decode", "backbone", "edit", "diffusion", "score", "render"]) {
      assert.equal(sample(body, `lafited_stage_duration_seconds_count{stage="${stage}"}`), 3, stage);
    }
    assert.equal(sample(body, 'lafited_model_info{version="fake-1",mode="knn",backbone="fake-brightness",execution_provider="cpu"}'), 1);
    assert.equal(sample(body, 'lafited_model_bank_rows{version="fake-1"}'), 1234);
    assert.equal(sample(body, 'lafited_model_detail_weight{version="fake-1"}'), 0.25);
    assert.equal(sample(body, 'lafited_model_detail_class_weight{version="fake-1",class="plate"}'), 0.5);
    assert.equal(sample(body, 'lafited_model_detail_class_weight{version="fake-1",class="hex nut"}'), 0);
    assert.equal(sample(body, 'lafited_model_detail_image_class_weight{version="fake-1",class="plate"}'), 0);
    assert.equal(sample(body, 'lafited_model_detail_image_class_weight{version="fake-1",class="hex nut"}'), undefined, "a class whose score shares its heatmap's W");
    assert.equal(sample(body, 'lafited_model_context_class_weight{version="fake-1",class="plate"}'), 0.5);
    assert.equal(sample(body, 'lafited_model_context_class_weight{version="fake-1",class="hex nut"}'), undefined, "a class the context bank holds no rows of");
    assert.equal(sample(body, 'lafited_model_context_image_class_weight{version="fake-1",class="plate"}'), 1);
    assert.equal(sample(body, 'lafited_model_context_image_class_weight{version="fake-1",class="hex nut"}'), undefined);
    assert.equal(sample(body, 'lafited_model_position_profiled{version="fake-1",class="hex nut"}'), 1);
    assert.equal(sample(body, 'lafited_model_position_profiled{version="fake-1",class="plate"}'), undefined, "a class without a profile");
    assert.equal(sample(body, 'lafited_queue_frames{state="waiting"}'), 0);
    assert.equal(sample(body, 'lafited_queue_capacity_frames{state="waiting"}'), 64);
    assert.equal(sample(body, "lafited_open_streams"), 0);
    assert.equal(sample(body, "lafited_queue_refusals_total"), 0);
    assert.ok((sample(body, "lafited_process_resident_memory_bytes") ?? 0) > 0, "process metrics are exported");
    assert.equal((await get(port, "/nope")).status, 404);

    // The registry API other parts use: same name, same metric.
    const jobs = h.server.metrics.counter({ name: "lafited_job_runs_total", help: "test", labelNames: ["kind"] });
    assert.equal(h.server.metrics.counter({ name: "lafited_job_runs_total", help: "test", labelNames: ["kind"] }), jobs);
    jobs.inc({ kind: "refresh" });
    assert.equal(sample((await get(port, "/metrics")).body, 'lafited_job_runs_total{kind="refresh"}'), 1);
  } finally {
    await h.stop();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${h.server.metricsPort}/healthz`), "the listener closes with the server");
});

test("/readyz is 503 while the frame queue is saturated", async () => {
  const h = await startHarness({ config: { metrics: { listen: "127.0.0.1:0" }, queue: { concurrency: 1, maxWaiting: 2, perStream: 8 } }, fake: { delayMs: 300 } });
  try {
    const png = await grayPng(10);
    const calls = [0, 1, 2].map((i) => h.client.detectOne({ frameId: `${i}`, image: { case: "encoded", value: png } }));
    const until = Date.now() + 5000;
    while (h.server.stats.queue.waiting < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    const r = await get(h.server.metricsPort, "/readyz");
    assert.equal(r.status, 503);
    assert.match(r.body, /saturated/);
    await Promise.all(calls);
    assert.equal((await get(h.server.metricsPort, "/readyz")).status, 200);
  } finally {
    await h.stop();
  }
});

test("a frame tagged with a model class but read as another is judged as its tag and counted as a class mismatch; untagged and unknown tags are not", async () => {
  const h = await startHarness({ config: { metrics: { listen: "127.0.0.1:0" } }, fake: { readAs: "plate" } });
  try {
    const png = await grayPng(10);
    const answers: { id: string; judged: string; read: string }[] = [];
    const tags = ["hex nut", "hex nut", "plate", "", "bolt"];
    await h.client.detectMany(
      tags.map((classTag, i) => ({ frameId: `${i}`, classTag, image: { case: "encoded" as const, value: png } })),
      (res) => answers.push({ id: res.frameId, judged: res.judgedClass, read: res.frameClass }),
    );
    assert.deepEqual(answers.map((a) => [a.judged, a.read]), [["hex nut", "plate"], ["hex nut", "plate"], ["plate", "plate"], ["plate", "plate"], ["plate", "plate"]]);
    const body = (await get(h.server.metricsPort, "/metrics")).body;
    assert.equal(sample(body, 'lafited_frames_class_mismatch_total{class_tag="hex nut",frame_class="plate"}'), 2);
    assert.equal(body.split("\n").filter((l) => l.startsWith("lafited_frames_class_mismatch_total{")).length, 1, "only the mismatched pair has a series");
    assert.deepEqual((await h.client.getModelInfo()).classes, ["plate", "hex nut"]);
  } finally {
    await h.stop();
  }
});

test("a frame like none of the model's classes is NG whatever its score, says so in its answer and is counted by the class it reads as", async () => {
  const h = await startHarness({ config: { metrics: { listen: "127.0.0.1:0" } }, fake: { readAs: "plate", lookRatio: 3.25, unlikeMargin: 1.5 } });
  try {
    // A dark frame: its score (0.04) is far under the threshold (0.5).
    const res = await h.client.detectOne({ frameId: "0", image: { case: "encoded", value: await grayPng(10) } });
    assert.ok(res.score < res.threshold);
    assert.equal(res.verdict, Verdict.NG);
    assert.equal(res.unlikeAnyClass, true);
    assert.equal(res.lookRatio, 3.25);
    assert.equal((await h.client.getModelInfo()).unlikeMargin, 1.5);
    const body = (await get(h.server.metricsPort, "/metrics")).body;
    assert.equal(sample(body, 'lafited_frames_unlike_total{frame_class="plate"}'), 1);
    // The ratio's histogram, by the class read: 3.25 falls in the 5 bucket, not the 3.
    assert.equal(sample(body, 'lafited_frame_look_ratio_bucket{le="3",frame_class="plate"}'), 0);
    assert.equal(sample(body, 'lafited_frame_look_ratio_bucket{le="5",frame_class="plate"}'), 1);
    assert.equal(sample(body, 'lafited_frame_look_ratio_sum{frame_class="plate"}'), 3.25);
    assert.equal(sample(body, 'lafited_frames_total{outcome="NG"}'), 1);
  } finally {
    await h.stop();
  }
  const near = await startHarness({ config: { metrics: { listen: "127.0.0.1:0" } }, fake: { readAs: "plate", lookRatio: 1.25, unlikeMargin: 1.5 } });
  try {
    const res = await near.client.detectOne({ frameId: "0", image: { case: "encoded", value: await grayPng(10) } });
    assert.equal(res.verdict, Verdict.OK);
    assert.equal(res.unlikeAnyClass, false);
    assert.equal(res.lookRatio, 1.25);
    assert.equal(sample((await get(near.server.metricsPort, "/metrics")).body, 'lafited_frames_unlike_total{frame_class="plate"}'), undefined);
  } finally {
    await near.stop();
  }
});

test("model.classTagMismatch ng (the default) rejects a frame tagged with one model class that reads as another, whatever its score; judge goes by the score; a reload (SIGHUP) switches it", async () => {
  let policy: "ng" | "judge" = "ng";
  const h = await startHarness({ config: { model: { classTagMismatch: policy } }, reloadConfig: () => ({ model: { classTagMismatch: policy } }), fake: { readAs: "plate", threshold: 0.5 } });
  try {
    const dark = await grayPng(10); // scores far below the threshold
    for (const next of ["judge", "ng"] as const) {
      const verdicts: Verdict[] = [];
      await h.client.detectMany(
        ["hex nut", "plate", "", "bolt"].map((classTag, i) => ({ frameId: `${i}`, classTag, image: { case: "encoded" as const, value: dark } })),
        (res) => verdicts.push(res.verdict),
      );
      assert.deepEqual(verdicts, [policy === "ng" ? Verdict.NG : Verdict.OK, Verdict.OK, Verdict.OK, Verdict.OK], policy);
      policy = next;
      await h.server.reload();
    }
  } finally {
    await h.stop();
  }
});
