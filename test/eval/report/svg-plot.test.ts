import { test } from "node:test";
import assert from "node:assert/strict";
import { histogramCounts, linePlot, makeScale, niceTicks, polylinePoints, scoreHistogram } from "../../../src/eval/report/svg-plot.js";

test("makeScale maps the domain onto the range linearly, inverted ranges included (SVG y grows down)", () => {
  const y = makeScale([0, 1], [200, 20]);
  assert.equal(y(0), 200);
  assert.equal(y(1), 20);
  assert.equal(y(0.5), 110);
  const x = makeScale([2, 4], [0, 100]);
  assert.equal(x(3), 50);
});

test("niceTicks: round steps of 1, 2 or 5 × 10^k covering the domain", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.3), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(3.2, 17.9), [5, 10, 15]);
  assert.deepEqual(niceTicks(1, 1), [1]);
});

test("histogramCounts: equal-width bins, the top edge in the last bin, outliers dropped", () => {
  assert.deepEqual(histogramCounts([0, 0.24, 0.25, 0.5, 0.99, 1, 1.5, -1], 0, 1, 4), [2, 1, 1, 2]);
});

test("polylinePoints places data in pixels, rounded to 0.1", () => {
  const x = makeScale([0, 1], [40, 240]);
  const y = makeScale([0, 1], [200, 20]);
  assert.equal(polylinePoints([{ x: 0, y: 0 }, { x: 0.5, y: 1 / 3 }], x, y), "40,200 140,140");
});

test("linePlot: one polyline per series, markers and diagonal, every name escaped", () => {
  const svg = linePlot({
    title: "ROC <a&b>",
    xLabel: "fpr",
    yLabel: "tpr",
    series: [
      { name: 'image "x"', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }], color: "#123456" },
      { name: "pixel", points: [{ x: 0, y: 0 }, { x: 0.5, y: 1 }], color: "#654321", dashed: true, dots: true },
    ],
    xDomain: [0, 1],
    yDomain: [0, 1],
    markers: [{ x: 0.5, label: "chosen <5>" }],
    diagonal: true,
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 2);
  assert.match(svg, /class="d"/);
  assert.match(svg, /ROC &lt;a&amp;b&gt;/);
  assert.match(svg, /image &quot;x&quot;/);
  assert.match(svg, /chosen &lt;5&gt;/);
  assert.doesNotMatch(svg, /<a&b>|chosen <5>/);
});

test("linePlot: a marker in the right half labels to its left, one in the left half to its right", () => {
  const plot = (x: number) => linePlot({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [{ x: 0, y: 0 }, { x: 1, y: 1 }], color: "#000" }], xDomain: [0, 1], yDomain: [0, 1], markers: [{ x, label: "chosen" }], legendOutside: true });
  assert.match(plot(1), /dx="-3" text-anchor="end" fill="#555">chosen</);
  assert.match(plot(0.1), /dx="3" fill="#555">chosen</);
});

test("scoreHistogram: bars for each group, the threshold line labelled, group sizes in the legend", () => {
  const svg = scoreHistogram({
    title: "scores",
    groups: [
      { name: "good", values: [1, 1.1, 1.2], color: "#0a0" },
      { name: "defect", values: [3, 3.5], color: "#a00" },
    ],
    threshold: 2,
    bins: 10,
  });
  assert.match(svg, /threshold 2</);
  assert.match(svg, /good \(3\)/);
  assert.match(svg, /defect \(2\)/);
  assert.ok((svg.match(/fill-opacity="0.55"/g)?.length ?? 0) >= 3);
});
