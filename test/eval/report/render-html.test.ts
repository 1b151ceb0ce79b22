import { test } from "node:test";
import assert from "node:assert/strict";
import { renderReportHtml } from "../../../src/eval/report/render-html.js";
import type { ReportData } from "../../../src/eval/report/report-data.js";

const evil = `<script>alert("x")</script>&'`;
const metrics = { image_auroc: 0.9, pixel_auroc: 0.95, image_ap: 0.8, pixel_ap: 0.4, pixel_aupro: 0.876 };

function data(tuning: ReportData["tuning"]): ReportData {
  const item = { path: `${evil}/a.png`, defect: evil, anomalous: true, score: 3.5, image: `img/0-x/miss-0-image.png`, overlay: "img/0-x/miss-0-overlay.png", truth: "img/0-x/miss-0-truth.png" };
  return {
    createdAt: "2026-01-01T00:00:00.000Z",
    bundle: { dir: `/b/${evil}`, version: "v1", mode: "knn", threshold: 2 },
    data: "/data",
    mean: metrics,
    classes: [
      {
        name: evil,
        metrics,
        images: 10,
        anomalous: 6,
        threshold: 2,
        imageCurves: { roc: [{ x: 0, y: 0 }, { x: 1, y: 1 }], pr: [{ x: 0, y: 1 }, { x: 1, y: 0.6 }] },
        pixelCurves: null,
        pro: [{ x: 0, y: 0 }, { x: 0.3, y: 0.9 }],
        scores: { good: [1, 1.5], defect: [3, 3.5] },
        gallery: { misses: [item], falseAlarms: [], borderline: [] },
      },
    ],
    verdicts: {
      classes: { [evil]: { defects: 6, caught: 5, good: 4, flagged: 1, misread: 2, misreadAs: { [evil + "2"]: 1, plate: 1 }, unlike: 3, threshold: 2, ownThreshold: false } },
      all: { defects: 6, caught: 5, good: 4, flagged: 1, misread: 2, misreadAs: { [evil + "2"]: 1, plate: 1 }, unlike: 3 },
    },
    tuning,
    seconds: 1.25,
  };
}

test("every outside string is escaped: no markup of ours comes from class, defect or path names", () => {
  const html = renderReportHtml(data({ state: "absent" }));
  assert.doesNotMatch(html, /<script>alert/);
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
  // The one script is the page's own load check.
  assert.equal(html.match(/<script>/g)?.length, 1);
});

test("the page holds the metrics table with AUPRO, the curves, the score histogram and the gallery figure", () => {
  const html = renderReportHtml(data({ state: "absent" }));
  assert.match(html, /<th>pixel AUPRO<\/th>/);
  assert.match(html, /<td>87\.6<\/td>/);
  assert.match(html, /ROC: &lt;script/);
  assert.match(html, /PRO up to 30% FPR/);
  assert.match(html, /threshold 2</);
  assert.match(html, /src="img\/0-x\/miss-0-overlay\.png"/);
  assert.match(html, /score 3\.500 · <span class="ng">NG<\/span>/);
  assert.match(html, /no tuning record/);
});

test("the verdicts table gives each class's threshold, defects caught, good images flagged, the classes it was misread as and its frames like no class", () => {
  const html = renderReportHtml(data({ state: "absent" }));
  assert.match(html, /<th>defects caught \(NG\)<\/th>/);
  assert.match(html, /<td>&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;<\/td><td>2\.000 \(model&#39;s\)<\/td><td>5 of 6 \(83\.3%\)<\/td><td>1 of 4 \(25\.0%\)<\/td><td>2 \(1 as &lt;script.*2, 1 as plate\)<\/td><td>3<\/td><\/tr>/);
  assert.match(html, /<th>like no class \(NG whatever the score\)<\/th>/);
  assert.match(html, /<tr class="mean"><td>all<\/td><td><\/td><td>5 of 6 \(83\.3%\)<\/td>/);
  assert.match(html, /<caption>Verdicts at the served thresholds: each image judged by the threshold of the class it was read as/);
  // eval --class-tags: each image was judged as its own class.
  const tagged = renderReportHtml({ ...data({ state: "absent" }), classTags: true, classTagMismatch: "ng" });
  assert.match(tagged, /<caption>Verdicts at the served thresholds: each image tagged with its class, as a line that sends its recipe, and judged by its class's threshold, else the model's; one read as another class is NG whatever its score<\/caption>/);
});

test("the per-defect table gives each defect type's figures and how many the served thresholds caught, escaped; none without defect types", () => {
  const d = data({ state: "absent" });
  const html = renderReportHtml({ ...d, defects: { [evil]: { [evil]: { images: 6, caught: 5, image_auroc: 0.75, pixel_auroc: 0.9312, pixel_ap: 0.2, pixel_aupro: null } } } });
  assert.match(html, /<caption>Per defect type \(%\): its images against the class's good images/);
  assert.match(html, /<tr><td>&lt;script.*<\/td><td>&lt;script.*<\/td><td>6<\/td><td>75\.0<\/td><td>93\.1<\/td><td>[^<]*<\/td><td>5 of 6<\/td><\/tr>/);
  assert.doesNotMatch(html, /<script>alert/);
  // A report written before the table (no defects) and a class without defect types have none.
  assert.doesNotMatch(renderReportHtml(d), /Per defect type/);
  assert.doesNotMatch(renderReportHtml({ ...d, defects: { [evil]: {} } }), /Per defect type/);
});

test("a model with per-class thresholds names them beside its own; a class section uses its class's", () => {
  const d = data({ state: "absent" });
  const html = renderReportHtml({ ...d, bundle: { ...d.bundle, classThresholds: { plate: 1.25, [evil]: 0.5 } }, classes: [{ ...d.classes[0]!, threshold: 0.5 }] });
  assert.match(html, /decision threshold 2\.000 \(per class: plate 1\.250, &lt;script.* 0\.5000; a frame read as one of these classes is judged by its own\)/);
  assert.match(html, /threshold 0\.5000 \(NG when/);
  assert.doesNotMatch(renderReportHtml(d), /per class:/);
});

test("nothing is fetched from the network: no remote URL, and a CSP that forbids it", () => {
  const html = renderReportHtml(data({ state: "absent" }));
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(urls.length > 0);
  for (const u of urls) assert.ok(u.startsWith("#") || u.startsWith("img/"), u);
  assert.doesNotMatch(html, /@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
});

test("tuning curves: τ and K plots with the chosen values marked, and the note when test curves are missing", () => {
  const html = renderReportHtml(
    data({
      state: "present",
      seed: 7,
      perClass: 10,
      images: { anomalous: 30, good: 15 },
      tau: { param: "tau", mode: "no-edit", chosen: 20, points: [{ value: 10, pseudo: { image_auroc: 0.8, pixel_auroc: 0.9 }, test: null }, { value: 20, pseudo: { image_auroc: 0.85, pixel_auroc: 0.92 }, test: null }] },
      k: { param: "k", mode: "lafite", chosen: 4, points: [{ value: 4, pseudo: { image_auroc: 0.88, pixel_auroc: 0.93 }, test: { image_auroc: 0.9, pixel_auroc: 0.95 } }] },
      testNote: "skipped <flag>",
      rankCorrelation: { spearman: 0.8, points: 5, tau: null, k: 0.5 },
    }),
  );
  assert.match(html, /τ sweep \(no-edit mode\)/);
  assert.match(html, /K sweep \(lafite mode\)/);
  assert.match(html, /chosen τ = 20/);
  assert.match(html, /chosen K = 4/);
  assert.match(html, /skipped &lt;flag&gt;/);
  assert.match(html, /over 5 grid points: Spearman ρ = 0\.80 \(τ curve undefined \(too few points, or a constant curve\), K curve 0\.50\)/);
  assert.match(html, /test image/);
  assert.doesNotMatch(html, /W sweep/, "no detail bank, no W plot");
  // A tuned bundle with a detail-bank sweep: empty τ and K curves, the W curve and (per class) its choices as given.
  type Present = Extract<ReportData["tuning"], { state: "present" }>;
  // A tuned bundle's section with empty τ and K curves and `extra` (a detail sweep, a context or edge record).
  const tunedWith = (extra: Partial<Present>) =>
    renderReportHtml(
      data({
        state: "present",
        seed: 7,
        perClass: 10,
        images: { anomalous: 30, good: 15 },
        tau: { param: "tau", mode: "lafite", chosen: 20, points: [] },
        k: { param: "k", mode: "lafite", chosen: 1, points: [] },
        ...extra,
        rankCorrelation: { spearman: null, points: 0, tau: null, k: null },
      }),
    );
  const detailed = (detail: NonNullable<Present["detail"]>, detailClasses?: Present["detailClasses"]) => tunedWith({ detail, ...(detailClasses ? { detailClasses } : {}) });
  const withDetail = detailed({ param: "detailWeight", mode: "lafite", chosen: 0.33, points: [{ value: 0, pseudo: { image_auroc: 0.84, pixel_auroc: 0.86 }, test: null }, { value: 0.33, pseudo: { image_auroc: 0.85, pixel_auroc: 0.85 }, test: null }] });
  assert.match(withDetail, /W sweep \(lafite mode\)/);
  assert.match(withDetail, /chosen W = 0\.33/);
  assert.match(withDetail, /Detail bank: W = 0\.33, chosen on the pseudo-validation set/);
  assert.doesNotMatch(html, /Detail bank: W/);
  const perClass = detailed(
    { param: "detailWeight", mode: "lafite", chosen: 0.2, points: [] },
    {
      "<assembly>": { chosen: 0, curve: [{ weight: 0, aupro: 0.97 }, { weight: 0.5, aupro: 0.95 }] },
      cloth: { chosen: 0.5, curve: [{ weight: 0, aupro: 0.5 }, { weight: 0.5, aupro: null }] },
    },
  );
  assert.match(perClass, /per class, by each class's AUPRO .*: &lt;assembly&gt; 0, cloth 0\.5\./);
  // The per-class table: a column per W, each class's AUPRO, the chosen one bold, a missing one a dash.
  assert.match(perClass, /<th>W 0<\/th><th>W 0\.5<\/th>/);
  assert.match(perClass, /<tr><td>&lt;assembly&gt;<\/td><td><b>97\.0<\/b><\/td><td>95\.0<\/td><\/tr>/);
  assert.match(perClass, /<tr><td>cloth<\/td><td>50\.0<\/td><td><b>–<\/b><\/td><\/tr>/);
  assert.doesNotMatch(withDetail, /by each class's AUPRO/);
  // The context bank's table: per class its swaps, at each W the swaps' AUROC / the others', the heatmap's W bold, then the image score's W.
  const withContext = tunedWith({
    contextClasses: {
      lambda: 4,
      margin: 0.005,
      tolerance: 0.03,
      classes: {
        "<kit>": { swaps: 20, chosen: 1, imageChosen: 1, curve: [{ weight: 0, swapsAuroc: 0.8725, others: 0.99 }, { weight: 1, swapsAuroc: 0.8825, others: null }] },
        odd: { swaps: 16, chosen: 0, imageChosen: 1, curve: [{ weight: 0, swapsAuroc: 0.8, others: 0.97 }, { weight: 1, swapsAuroc: 1, others: 0.9 }] },
      },
    },
  });
  assert.match(withContext, /Context bank \(λ 4\): W per class, .*by at least 0\.5 points .*by at most 3\. That W sets the heatmap; the image score's W .*guards only the other anomalies' image AUROC/);
  assert.match(withContext, /<th>class<\/th><th>swaps<\/th><th>W 0<\/th><th>W 1<\/th><th>image score W<\/th>/);
  assert.match(withContext, /<tr><td>&lt;kit&gt;<\/td><td>20<\/td><td>87\.3 \/ 99\.0<\/td><td><b>88\.3 \/ –<\/b><\/td><td>1<\/td><\/tr>/);
  assert.match(withContext, /<tr><td>odd<\/td><td>16<\/td><td><b>80\.0 \/ 97\.0<\/b><\/td><td>100\.0 \/ 90\.0<\/td><td>1<\/td><\/tr>/);
  assert.doesNotMatch(withDetail, /Context bank/);
  // The edge correction's table: each class without / with, the kept ones marked.
  const withEdges = tunedWith({
    edges: { mode: "lafite", reach: 32, margin: 0.005, classes: { "<cloth>": { base: { pixel_auroc: 0.832, aupro: 0.573 }, corrected: { pixel_auroc: 0.863, aupro: 0.61 }, chosen: true }, nut: { base: { pixel_auroc: 0.996, aupro: null }, corrected: { pixel_auroc: 0.996, aupro: null }, chosen: false } } },
  });
  assert.match(withEdges, /Edge correction \(lafite mode\): .*one rises by at least 0\.5 points/);
  assert.match(withEdges, /<tr><td>&lt;cloth&gt;<\/td><td>83\.2 \/ 57\.3<\/td><td>86\.3 \/ 61\.0<\/td><td><b>yes<\/b><\/td><\/tr>/);
  assert.match(withEdges, /<tr><td>nut<\/td><td>99\.6 \/ –<\/td><td>99\.6 \/ –<\/td><td>no<\/td><\/tr>/);
  assert.doesNotMatch(withDetail, /Edge correction/);
  // The position profile's table: figures without / with, or why a class had none.
  const withProfiles = tunedWith({
    profiles: { mode: "lafite", grid: 28, classes: { "<nut>": { normals: 25, base: { image_auroc: 1, separation: 6.04 }, standardized: { image_auroc: 1, separation: 9.21 }, chosen: true, why: "kept" }, tiles: { normals: 70, chosen: false, why: "normals of 70 frame sizes" } } },
  });
  assert.match(withProfiles, /Position profile \(lafite mode\): .*28×28 grid.*its heatmap, mask and regions measured in the same units/);
  assert.match(withProfiles, /28×28 grid over the input\)/, "a session-29 record: places of the input");
  const inFrames = tunedWith({ profiles: { mode: "lafite", grid: 28, coords: "frame", classes: { tiles: { normals: 70, base: { image_auroc: 0.9, separation: 3 }, standardized: { image_auroc: 0.95, separation: 4 }, chosen: true, why: "kept" } } } });
  assert.match(inFrames, /28×28 grid over each frame's placement, so frames of several sizes share places\)/);
  assert.match(withProfiles, /<tr><td>&lt;nut&gt;<\/td><td>100\.0 \/ 6\.0<\/td><td>100\.0 \/ 9\.2<\/td><td><b>yes<\/b><\/td><\/tr>/);
  assert.match(withProfiles, /<tr><td>tiles<\/td><td colspan="2">normals of 70 frame sizes<\/td><td>no<\/td><\/tr>/);
  assert.doesNotMatch(withDetail, /Position profile/);
});

test("the tuning section says what the bundle serves when the defaults beat the sweeps' choice", () => {
  const curve = (param: "tau" | "k") => ({ param, mode: param === "tau" ? ("no-edit" as const) : ("lafite" as const), chosen: 50, points: [] });
  const html = renderReportHtml(
    data({ state: "present", seed: 1, perClass: 2, images: { anomalous: 2, good: 2 }, tau: curve("tau"), k: curve("k"), served: { tau: 20, k: 3, kept: "defaults" }, rankCorrelation: { spearman: null, points: 0, tau: null, k: null } }),
  );
  assert.match(html, /Served: the configured τ = 20, K = 3, which scored better/);
});

test("a K sweep of two image-score rules draws an image line per rule and one pixel line; the served rule is named", () => {
  const point = (value: number, rule: "pool" | "top", image: number) => ({ value, rule, pseudo: { image_auroc: image, pixel_auroc: 0.9 }, test: { image_auroc: image - 0.1, pixel_auroc: 0.8 } });
  const k = { param: "k" as const, mode: "lafite" as const, chosen: 3, points: [point(1, "pool", 0.8), point(1, "top", 0.85), point(3, "pool", 0.82), point(3, "top", 0.81)] };
  const tau = { param: "tau" as const, mode: "lafite" as const, chosen: 20, points: [] };
  const html = renderReportHtml(data({ state: "present", seed: 1, perClass: 2, images: { anomalous: 2, good: 2 }, tau, k, served: { tau: 20, k: 3, rule: "top", kept: "tuned" }, rankCorrelation: { spearman: null, points: 0, tau: null, k: null } }));
  for (const name of ["pseudo-val image (pool)", "pseudo-val image (top)", "test image (pool)", "test image (top)"]) assert.ok(html.includes(name), name);
  assert.equal(html.match(/pseudo-val pixel/g)?.length, 1, "one pixel line: both rules share the maps");
  assert.match(html, /Served: the tuned τ = 20, K = 3, image score top\./);
});
