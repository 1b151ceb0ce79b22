/**
 * The report page: one self-contained HTML file (inline CSS and SVG charts,
 * gallery PNGs beside it, nothing fetched from the network: the page's
 * Content-Security-Policy forbids it). Every string from outside (class,
 * file and defect names, paths, error messages) goes through escapeHtml.
 *
 * A few lines of inline script only check the page itself: they count load
 * errors and broken images into data attributes of <body>, which the report's
 * headless-browser test reads.
 */
import type { ClassMetrics } from "../evaluate.js";
import { describeMisreads, taggedMismatchRule, type VerdictCounts } from "../verdicts.js";
import { DEFAULT_CLASS_TAG_MISMATCH } from "../../pipeline/class-tag.js";
import { escapeHtml as e } from "./escape.js";
import { linePlot, scoreHistogram, type Series } from "./svg-plot.js";
import { PARAM_NAMES, type ClassReport, type GalleryItem, type ReportData, type TuningCurveReport, type TuningReport } from "./report-data.js";

const IMAGE = "#1f77b4";
const PIXEL = "#ff7f0e";
/** Image lines per image-score rule in a sweep that tried several: blue, then purple. */
const RULE_COLORS = [IMAGE, "#9467bd"] as const;
const PRO = "#2ca02c";
const GOOD = "#2a9d8f";
const DEFECT = "#d62828";

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1280px;padding:16px 24px;color:#222;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.meta{color:#555}.meta code{background:#f4f4f4;padding:0 3px}
table.metrics{border-collapse:collapse;margin:8px 0}table.metrics th,table.metrics td{border:1px solid #ddd;padding:3px 10px;text-align:right}
table.metrics th:first-child,table.metrics td:first-child{text-align:left}table.defects th:nth-child(2),table.defects td:nth-child(2){text-align:left}table.metrics tr.mean td{font-weight:600;background:#f7f7f7}
.plots{display:flex;flex-wrap:wrap;gap:10px}.plot{background:#fff;border:1px solid #eee}
.plot text{font-size:10px;fill:#333}.plot text.t{font-size:12px;font-weight:600}.plot .g{stroke:#eee}.plot .a{fill:none;stroke:#999}.plot .d{stroke:#bbb;stroke-dasharray:2 3}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #ddd;padding:6px;background:#fafafa}figure .row{display:flex;gap:4px}
figure img{display:block;max-width:192px;height:auto;image-rendering:auto}figure .lbl{font-size:10px;color:#666;text-align:center}
figcaption{font-size:12px;margin-top:4px;max-width:588px;word-break:break-all}
.ng{color:${DEFECT};font-weight:600}.ok{color:${GOOD};font-weight:600}.note{color:#555;font-style:italic}
nav a{margin-right:12px}
`;

const CHECK_SCRIPT = `
(function(){var b=document.body,n=0;window.addEventListener("error",function(){n++;b.setAttribute("data-errors",String(n));},true);
window.addEventListener("load",function(){var bad=0,imgs=document.images;for(var i=0;i<imgs.length;i++){if(!(imgs[i].complete&&imgs[i].naturalWidth>0))bad++;}
b.setAttribute("data-images",String(imgs.length));b.setAttribute("data-broken-images",String(bad));b.setAttribute("data-errors",String(n));b.setAttribute("data-loaded","yes");});})();
`;

const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));
const score = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(3) : v.toPrecision(4));

export function renderReportHtml(d: ReportData): string {
  const anchors = d.classes.map((c, i) => `<a href="#class-${i}">${e(c.name)}</a>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lafite eval report: ${e(d.bundle.version)}</title><style>${CSS}</style></head>
<body>
<h1>lafite eval report</h1>
<p class="meta">bundle <code>${e(d.bundle.dir)}</code> (version ${e(d.bundle.version)}), scoring mode <b>${e(d.bundle.mode)}</b>, decision threshold ${e(score(d.bundle.threshold))}${d.bundle.classThresholds ? e(` (per class: ${Object.entries(d.bundle.classThresholds).map(([cls, t]) => `${cls} ${score(t)}`).join(", ")}; ${d.classTags ? "an image of one of these classes, tagged with it, is judged by its own" : "a frame read as one of these classes is judged by its own"})`) : ""}; data set <code>${e(d.data)}</code>; ${e(d.createdAt)}; evaluation took ${e(d.seconds.toFixed(1))} s.</p>
<nav><a href="#metrics">metrics</a><a href="#tuning">tuning</a>${anchors}</nav>
<h2 id="metrics">Metrics (%)</h2>
${metricsTable(d)}
<p class="note">AUROC and AP at image and pixel level; pixel AUPRO is the area under the per-region-overlap curve up to 30% false-positive rate, divided by 0.3 (MVTec AD). Pixel metrics are computed at the masks' resolution.</p>
${verdictsTable(d)}
${defectsTable(d)}
<h2 id="tuning">Tuning curves</h2>
${tuningSection(d.tuning)}
${d.classes.map((c, i) => classSection(c, i)).join("\n")}
<script>${CHECK_SCRIPT}</script>
</body></html>
`;
}

function metricsTable(d: ReportData): string {
  const row = (name: string, m: ClassMetrics, images: string, anomalous: string, cls = "") =>
    `<tr${cls}><td>${e(name)}</td><td>${images}</td><td>${anomalous}</td><td>${pct(m.image_auroc)}</td><td>${pct(m.pixel_auroc)}</td><td>${pct(m.image_ap)}</td><td>${pct(m.pixel_ap)}</td><td>${pct(m.pixel_aupro)}</td></tr>`;
  return `<table class="metrics"><thead><tr><th>class</th><th>images</th><th>defective</th><th>image AUROC</th><th>pixel AUROC</th><th>image AP</th><th>pixel AP</th><th>pixel AUPRO</th></tr></thead><tbody>
${d.classes.map((c) => row(c.name, c.metrics, String(c.images), String(c.anomalous))).join("\n")}
${row("mean", d.mean, "", "", ' class="mean"')}
</tbody></table>`;
}

function verdictsTable(d: ReportData): string {
  const share = (n: number, of: number) => (of === 0 ? "–" : `${n} of ${of} (${(100 * n / of).toFixed(1)}%)`);
  const row = (name: string, v: VerdictCounts, threshold: string, cls = "") =>
    `<tr${cls}><td>${e(name)}</td><td>${threshold}</td><td>${share(v.caught, v.defects)}</td><td>${share(v.flagged, v.good)}</td><td>${e(describeMisreads(v))}</td><td>${v.unlike}</td></tr>`;
  const rows = d.classes.flatMap((c) => {
    const v = d.verdicts.classes[c.name];
    return v ? [row(c.name, v, e(`${score(v.threshold)}${v.ownThreshold ? (v.leftOutImages ? ` (with ${v.leftOutImages} bank images left out)` : "") : " (model's)"}`))] : [];
  });
  return `<table class="metrics verdicts"><caption>Verdicts at the served thresholds: ${d.classTags ? `each image tagged with its class, as a line that sends its recipe, and judged by its class's threshold, else the model's; ${taggedMismatchRule(d.classTagMismatch ?? DEFAULT_CLASS_TAG_MISMATCH)}` : "each image judged by the threshold of the class it was read as (its nearest bank rows), else the model's"}</caption><thead><tr><th>class</th><th>threshold</th><th>defects caught (NG)</th><th>good images flagged NG</th><th>read as another class</th><th>like no class (NG whatever the score)</th></tr></thead><tbody>
${rows.join("\n")}
${row("all", d.verdicts.all, "", ' class="mean"')}
</tbody></table>`;
}

/** Each defect type's figures, so a class's mean does not hide the kind of defect it misses. */
function defectsTable(d: ReportData): string {
  const rows = d.classes.flatMap((c) =>
    Object.entries(d.defects?.[c.name] ?? {}).map(
      ([defect, m]) => `<tr><td>${e(c.name)}</td><td>${e(defect)}</td><td>${m.images}</td><td>${pct(m.image_auroc)}</td><td>${pct(m.pixel_auroc)}</td><td>${pct(m.pixel_aupro)}</td><td>${m.caught} of ${m.images}</td></tr>`,
    ),
  );
  if (rows.length === 0) return "";
  return `<table class="metrics defects"><caption>Per defect type (%): its images against the class's good images; caught: judged NG at the served thresholds</caption><thead><tr><th>class</th><th>defect</th><th>images</th><th>image AUROC</th><th>pixel AUROC</th><th>pixel AUPRO</th><th>caught</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table>`;
}

function classSection(c: ClassReport, i: number): string {
  const plots: string[] = [];
  const rocSeries: Series[] = [];
  const prSeries: Series[] = [];
  if (c.imageCurves) {
    rocSeries.push({ name: `image ${pct(c.metrics.image_auroc)}`, points: c.imageCurves.roc, color: IMAGE });
    prSeries.push({ name: `image AP ${pct(c.metrics.image_ap)}`, points: c.imageCurves.pr, color: IMAGE });
  }
  if (c.pixelCurves) {
    rocSeries.push({ name: `pixel ${pct(c.metrics.pixel_auroc)}`, points: c.pixelCurves.roc, color: PIXEL });
    prSeries.push({ name: `pixel AP ${pct(c.metrics.pixel_ap)}`, points: c.pixelCurves.pr, color: PIXEL });
  }
  const unit: [number, number] = [0, 1];
  if (rocSeries.length) {
    plots.push(linePlot({ title: `ROC: ${c.name}`, xLabel: "false positive rate", yLabel: "true positive rate", series: rocSeries, xDomain: unit, yDomain: unit, diagonal: true }));
    plots.push(linePlot({ title: `Precision-recall: ${c.name}`, xLabel: "recall", yLabel: "precision", series: prSeries, xDomain: unit, yDomain: unit }));
  }
  if (c.pro) {
    plots.push(linePlot({ title: `PRO up to 30% FPR: ${c.name}`, xLabel: "false positive rate", yLabel: "per-region overlap", series: [{ name: `AUPRO ${pct(c.metrics.pixel_aupro)}`, points: c.pro, color: PRO }], xDomain: [0, 0.3], yDomain: unit }));
  }
  plots.push(
    scoreHistogram({
      title: `Image scores: ${c.name}`,
      groups: [
        { name: "good", values: c.scores.good, color: GOOD },
        { name: "defect", values: c.scores.defect, color: DEFECT },
      ],
      threshold: c.threshold,
    }),
  );
  const missing = rocSeries.length ? "" : `<p class="note">No ROC or PR curve: the test set of this class holds only ${c.anomalous ? "defective" : "good"} images.</p>`;
  return `<section id="class-${i}"><h2>${e(c.name)}</h2>
<p class="meta">${c.images} test images, ${c.anomalous} defective; threshold ${e(score(c.threshold))} (NG when the score is above it).</p>
${missing}<div class="plots">${plots.join("")}</div>
${gallery("Worst misses: defective images scoring lowest", c.gallery.misses, c.threshold)}
${gallery("Worst false alarms: good images scoring highest", c.gallery.falseAlarms, c.threshold)}
${gallery("Borderline: closest to the threshold", c.gallery.borderline, c.threshold)}
</section>`;
}

function gallery(title: string, items: readonly GalleryItem[], threshold: number): string {
  if (items.length === 0) return `<h3>${e(title)}</h3><p class="note">none</p>`;
  return `<h3>${e(title)}</h3><div class="gallery">${items.map((it) => figure(it, threshold)).join("")}</div>`;
}

function figure(it: GalleryItem, threshold: number): string {
  const verdict = it.score > threshold ? '<span class="ng">NG</span>' : '<span class="ok">OK</span>';
  const truth = it.anomalous ? "ground truth" : "good (no defect)";
  const img = (src: string, alt: string, label: string) => `<div><img src="${e(src)}" alt="${e(alt)}" loading="eager"><div class="lbl">${e(label)}</div></div>`;
  return `<figure><div class="row">${img(it.image, `${it.path}`, "image")}${img(it.overlay, `${it.path} heatmap`, "heatmap")}${img(it.truth, `${it.path} ${truth}`, truth)}</div>
<figcaption>${e(it.path)}<br>${e(it.defect)} · score ${e(score(it.score))} · ${verdict}</figcaption></figure>`;
}

function tuningSection(t: TuningReport): string {
  if (t.state === "absent") return `<p class="note">This bundle has no tuning record (it was not tuned with <code>lafite tune</code>), so there are no τ or K curves to show.</p>`;
  const note = t.testNote ? `<p class="note">${e(t.testNote)}</p>` : "";
  const show = (rho: number | null) => (rho === null ? "undefined (too few points, or a constant curve)" : e(rho.toFixed(2)));
  const rc = t.rankCorrelation;
  const corr = `<p class="meta">Rank correlation of pseudo-validation against test image AUROC over ${rc.points} grid points: Spearman ρ = ${show(rc.spearman)} (τ curve ${show(rc.tau)}, K curve ${show(rc.k)}).</p>`;
  return `<p class="meta">Pseudo-validation: seed ${t.seed}, ${t.perClass} synthesized anomalous images per class (${t.images.anomalous} anomalous, ${t.images.good} good). Solid lines: pseudo-validation AUROC recorded by <code>lafite tune</code>; dashed: this test set's AUROC (mean over classes) re-scored at each grid point.</p>
${note}${corr}${servedNote(t.served)}${t.detail ? `<p class="meta">Detail bank: W = ${e(String(t.detail.chosen))}${t.detail.chosen === 0 ? " (off: the main bank alone)" : ""}, chosen on the pseudo-validation set at the served τ and K${t.detailClasses ? `; per class, by each class's AUPRO (a frame gets its class's W, read off its nearest memory-bank rows): ${Object.entries(t.detailClasses).map(([cls, r]) => `${e(cls)} ${e(String(r.chosen))}`).join(", ")}. The W curve below is the model's one W; the test set is re-scored at it for every frame` : ""}.</p>${t.detailClasses ? classWeightTable(t.detailClasses) : ""}` : ""}${t.contextClasses ? contextWeightTable(t.contextClasses) : ""}${t.edges ? edgeTable(t.edges) : ""}${t.profiles ? profileTable(t.profiles) : ""}<div class="plots">${tuningPlot(t.tau, "τ (diffusion steps)")}${tuningPlot(t.k, "K (editing neighbours)")}${t.detail ? tuningPlot(t.detail, "W (detail-bank weight; τ and K re-scored at 0)") : ""}</div>`;
}

/** Each class's pseudo-validation AUPRO at every W of its sweep, the chosen W in bold. */
function classWeightTable(classes: NonNullable<Extract<TuningReport, { state: "present" }>["detailClasses"]>): string {
  const weights = [...new Set(Object.values(classes).flatMap((r) => r.curve.map((p) => p.weight)))].sort((a, b) => a - b);
  const cell = (r: (typeof classes)[string], w: number) => {
    const p = r.curve.find((q) => q.weight === w);
    const v = pct(p?.aupro ?? null);
    return `<td>${w === r.chosen ? `<b>${v}</b>` : v}</td>`;
  };
  return `<table class="metrics"><caption>Pseudo-validation AUPRO per class at each detail-bank weight W (chosen in bold)</caption><thead><tr><th>class</th>${weights.map((w) => `<th>W ${e(String(w))}</th>`).join("")}</tr></thead><tbody>
${Object.entries(classes).map(([cls, r]) => `<tr><td>${e(cls)}</td>${weights.map((w) => cell(r, w)).join("")}</tr>`).join("\n")}
</tbody></table>`;
}

/** Each swept class's context-bank figures at every W: its swapped parts' image AUROC and what its other anomalies score, the chosen W in bold. */
function contextWeightTable(c: NonNullable<Extract<TuningReport, { state: "present" }>["contextClasses"]>): string {
  const weights = [...new Set(Object.values(c.classes).flatMap((r) => r.curve.map((p) => p.weight)))].sort((a, b) => a - b);
  const cell = (r: (typeof c.classes)[string], w: number) => {
    const p = r.curve.find((q) => q.weight === w);
    const v = p ? `${pct(p.swapsAuroc)} / ${pct(p.others)}` : "–";
    return `<td>${w === r.chosen ? `<b>${v}</b>` : v}</td>`;
  };
  return `<p class="meta">Context bank (λ ${e(String(c.lambda))}): W per class, chosen on the pseudo-validation set's swapped parts (a part replaced by the same place of another normal frame); a W above 0 only when it raises the swaps' image AUROC by at least ${e(String(100 * c.margin))} points over W 0 and lowers the class's other anomalies (mean of image AUROC and AUPRO) by at most ${e(String(100 * c.tolerance))}. That W sets the heatmap; the image score's W (the verdict's) guards only the other anomalies' image AUROC. A frame gets its class tag's W, else the largest W among the classes holding a fifth of its nearest-row votes. Classes without swapped parts have no context rows and are not listed.</p>
<table class="metrics"><caption>Pseudo-validation per class at each context-bank weight W: swaps' image AUROC / other anomalies (the heatmap's W in bold)</caption><thead><tr><th>class</th><th>swaps</th>${weights.map((w) => `<th>W ${e(String(w))}</th>`).join("")}<th>image score W</th></tr></thead><tbody>
${Object.entries(c.classes).map(([cls, r]) => `<tr><td>${e(cls)}</td><td>${r.swaps}</td>${weights.map((w) => cell(r, w)).join("")}<td>${e(String(r.imageChosen))}</td></tr>`).join("\n")}
</tbody></table>`;
}

/** Each class's pseudo-validation pixel AUROC and AUPRO without and with the edge correction, the kept ones marked. */
function edgeTable(r: NonNullable<Extract<TuningReport, { state: "present" }>["edges"]>): string {
  return `<p class="meta">Edge correction (${e(r.mode)} mode): each class's normal score at each distance from the frame's edge, measured on its held-out normals, subtracted from its heatmaps (not from its image score); kept where neither its pseudo-validation pixel AUROC nor its AUPRO falls and one rises by at least ${e(String(100 * r.margin))} points. This test set's figures above are with it, but for a class that also keeps its position profile (below): its heatmap is measured against its normals place by place instead.</p>
<table class="metrics"><caption>Pseudo-validation pixel AUROC / AUPRO per class without and with the edge correction</caption><thead><tr><th>class</th><th>without</th><th>with</th><th>kept</th></tr></thead><tbody>
${Object.entries(r.classes).map(([cls, c]) => `<tr><td>${e(cls)}</td><td>${pct(c.base.pixel_auroc)} / ${pct(c.base.aupro)}</td><td>${pct(c.corrected.pixel_auroc)} / ${pct(c.corrected.aupro)}</td><td>${c.chosen ? "<b>yes</b>" : "no"}</td></tr>`).join("\n")}
</tbody></table>`;
}

/** Each class's pseudo-validation image AUROC and separation without and with its position profile, the kept ones marked, or why it had none. */
function profileTable(r: NonNullable<Extract<TuningReport, { state: "present" }>["profiles"]>): string {
  const sep = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(1));
  const row = ([cls, c]: [string, (typeof r.classes)[string]]) =>
    c.base && c.standardized
      ? `<tr><td>${e(cls)}</td><td>${pct(c.base.image_auroc)} / ${sep(c.base.separation)}</td><td>${pct(c.standardized.image_auroc)} / ${sep(c.standardized.separation)}</td><td>${c.chosen ? "<b>yes</b>" : "no"}</td></tr>`
      : `<tr><td>${e(cls)}</td><td colspan="2">${e(c.why)}</td><td>no</td></tr>`;
  return `<p class="meta">Position profile (${e(r.mode)} mode): each class's held-out normals' map, mean and spread at every place (${e(String(r.grid))}×${e(String(r.grid))} grid over ${(r.coords ?? "input") === "frame" ? "each frame's placement, so frames of several sizes share places" : "the input"}); a class that keeps it has its image score taken from its map in units of that spread, its threshold calibrated on those scores, and its heatmap, mask and regions measured in the same units, place by place. Kept where the pseudo-validation image AUROC rises, or ties and the anomalies stand farther from the normals (separation, in the normals' standard deviations). This test set's figures above are with it.</p>
<table class="metrics"><caption>Pseudo-validation image AUROC / separation per class without and with the position profile</caption><thead><tr><th>class</th><th>without</th><th>with</th><th>kept</th></tr></thead><tbody>
${Object.entries(r.classes).map(row).join("\n")}
</tbody></table>`;
}

function servedNote(s: { tau?: number; k?: number; rule?: string; kept: "tuned" | "defaults" } | undefined): string {
  if (!s) return "";
  const values = `${s.tau !== undefined ? `τ = ${s.tau}, ` : ""}K = ${s.k}${s.rule ? `, image score ${s.rule}` : ""}`;
  return s.kept === "tuned"
    ? `<p class="meta">Served: the tuned ${e(values)}.</p>`
    : `<p class="meta">Served: the configured ${e(values)}, which scored better in the served mode on the pseudo-validation set than the sweeps' choice marked below.</p>`;
}

function tuningPlot(c: TuningCurveReport, xLabel: string): string {
  type CurvePoint = TuningCurveReport["points"][number];
  const pts = (from: readonly CurvePoint[], get: (p: CurvePoint) => number | null | undefined) =>
    from.flatMap((p) => {
      const y = get(p);
      return typeof y === "number" ? [{ x: p.value, y }] : [];
    });
  // A sweep that scored several image-score rules at each value gets an image line per rule; the maps, so the pixel line, are the rules' own.
  const rules = [...new Set(c.points.flatMap((p) => (p.rule ? [p.rule] : [])))];
  const byRule = rules.length > 1 ? rules.map((rule, i) => ({ label: ` (${rule})`, color: RULE_COLORS[i % RULE_COLORS.length]!, points: c.points.filter((p) => p.rule === rule) })) : [{ label: "", color: IMAGE, points: c.points }];
  const pixelPoints = rules.length > 1 ? c.points.filter((p) => p.rule === rules[0]) : c.points;
  const series: Series[] = [
    ...byRule.map((r) => ({ name: `pseudo-val image${r.label}`, points: pts(r.points, (p) => p.pseudo.image_auroc), color: r.color, dots: true })),
    { name: "pseudo-val pixel", points: pts(pixelPoints, (p) => p.pseudo.pixel_auroc), color: PIXEL, dots: true },
    ...byRule.map((r) => ({ name: `test image${r.label}`, points: pts(r.points, (p) => p.test?.image_auroc), color: r.color, dashed: true, dots: true })),
    { name: "test pixel", points: pts(pixelPoints, (p) => p.test?.pixel_auroc), color: PIXEL, dashed: true, dots: true },
  ].filter((s) => s.points.length > 0);
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const lo = ys.length ? Math.max(0, Math.floor(Math.min(...ys) * 20) / 20 - 0.05) : 0;
  const name = PARAM_NAMES[c.param];
  return linePlot({
    title: `${name} sweep (${c.mode} mode)`,
    xLabel,
    yLabel: "AUROC",
    series,
    yDomain: [lo, 1],
    markers: [{ x: c.chosen, label: `chosen ${name} = ${c.chosen}` }],
    legendOutside: true,
    width: 440,
    height: 260,
  });
}
