/**
 * `lafite info`: what the daemon's model in service is (GetModelInfo): its
 * version and mode, the verdict threshold and each class's own, the classes a
 * DetectRequest.class_tag can name, the detail- and context-bank weights and the diffusion
 * settings. What an operator checks before pointing a line's recipe at it.
 */
import { toJson } from "@bufbuild/protobuf";
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonClient } from "../daemon-flags.js";
import { ModelInfoSchema, type ModelInfo } from "../../gen/lafited/v1/detector_pb.js";
import { asCliError } from "../connect.js";

export const command: CliCommand = {
  summary: "Show the model a lafited daemon serves: version, mode, thresholds, classes (the valid class tags), detail and context weights.",
  usage: `lafite info [--server HOST:PORT] [--json] [TLS and token flags]
${DAEMON_FLAGS_USAGE}
  --json              the GetModelInfo message as JSON (proto3 JSON field names)`,
  async run(argv) {
    const { values } = parseFlags(argv, { ...DAEMON_FLAGS, json: { type: "boolean" } });
    const { server, client } = daemonClient(values, process.env);
    try {
      const info = await client.getModelInfo();
      process.stdout.write(values.json ? `${JSON.stringify(toJson(ModelInfoSchema, info), null, 2)}\n` : `${formatModelInfo(info)}\n`);
      return 0;
    } catch (err) {
      // A daemon that is down or refuses the call is the command's answer, not a crash.
      throw asCliError(server, err);
    } finally {
      client.close();
    }
  },
};

/** The model in words: one line per fact, then a table of the classes with their threshold, detail weight and (with a context bank) context weight, the image score's too where a class has its own. */
export function formatModelInfo(info: ModelInfo): string {
  const num = (v: number) => String(+v.toPrecision(6));
  const lines = [
    `model ${info.version}: ${info.scoringMode} mode, backbone ${info.backbone} (${info.featureShape.join("×")} features, input ${info.inputSize}), ${info.coresetSize} memory-bank rows, ${info.executionProvider}`,
    `threshold ${num(info.threshold)} (${info.thresholdMethod})`,
  ];
  const settings = [
    info.optionalTau.case === "tau" ? `τ ${info.optionalTau.value}` : undefined,
    info.optionalDeltaT.case === "deltaT" ? `Δt ${info.optionalDeltaT.value}` : undefined,
    info.optionalSteps.case === "steps" ? `${info.optionalSteps.value} DDIM step(s)` : undefined,
    info.optionalK.case === "k" ? `K ${info.optionalK.value}` : undefined,
    info.optionalDetailWeight.case === "detailWeight" ? `detail W ${num(info.optionalDetailWeight.value)}` : undefined,
    info.optionalContextLambda.case === "contextLambda" ? `context bank λ ${num(info.optionalContextLambda.value)}` : undefined,
    info.optionalContextWeight.case === "contextWeight" ? `context W ${num(info.optionalContextWeight.value)}` : undefined,
  ].filter((s): s is string => s !== undefined);
  if (settings.length > 0) lines.push(settings.join(", "));
  if (info.edgeCorrectedClasses.length > 0) lines.push(`edge-corrected heatmaps: ${info.edgeCorrectedClasses.join(", ")}`);
  if (info.sizeCorrectedClasses.length > 0) lines.push(`size-corrected scores: ${info.sizeCorrectedClasses.join(", ")}`);
  if (info.profiledClasses.length > 0) lines.push(`scores standardized by their position profile: ${info.profiledClasses.join(", ")}`);
  const tiled = Object.entries(info.tiledClasses);
  if (tiled.length > 0) lines.push(`also scored in tiles (served: the larger of the whole frame's and the tiles' heatmaps, each in its normals' pixel quantile, and of their scores, in the class's threshold units, unless map only): ${tiled.map(([cls, t]) => `${cls} ${t.grid}×${t.grid}${t.overlap > 0 ? ` overlapping ${num(t.overlap)}` : ""} (${t.scoringMode}, ${t.mapOnly ? "map only" : `frame threshold ${num(t.frameThreshold)}`})`).join(", ")}`);
  if (info.classes.length === 0) {
    lines.push("classes: none recorded (class tags are informational)");
    return lines.join("\n");
  }
  lines.push(`classes (a class tag naming one judges a frame as it): ${info.classes.join(", ")}`);
  // Each pair once: the map holds it both ways.
  const alike = Object.entries(info.alikeClasses).flatMap(([cls, list]) => list.classes.filter((other) => cls < other).map((other) => `${cls} ~ ${other}`));
  if (alike.length > 0) lines.push(`classes that look alike to the model (a tag mismatch between them is judged by score under model.classTagMismatch: distinct): ${alike.join(", ")}`);
  if (info.unlikeMargin > 0) {
    const ungated = info.classes.filter((cls) => !info.lookGatedClasses.includes(cls));
    lines.push(`a frame whose look lies over ${info.unlikeMargin} reaches from its class's (DetectResponse.look_ratio) is NG as like none of the model's classes, as is one lit over ${info.unlikeMargin} half-ranges from its class's normals' light (DetectResponse.light_ratio)${ungated.length ? `; no reach (too few normals), so never unlike: ${ungated.join(", ")}` : ""}`);
  }
  // The context column only for a model with a context bank in use: most have none.
  const context = info.optionalContextLambda.case === "contextLambda";
  // And the image score's context W only where some class has its own (the heatmap's column then holds the heatmap's).
  const scoreContext = context && Object.keys(info.contextImageClassWeights).length > 0;
  // Likewise the image score's detail W (tuning's warped edges choose the heatmap's).
  const scoreDetail = Object.keys(info.detailImageClassWeights).length > 0;
  const width = Math.max(5, ...info.classes.map((c) => c.length));
  lines.push(`${"class".padEnd(width)}  ${"threshold".padStart(16)}  ${"detail W".padStart(8)}${scoreDetail ? `  ${"score detail W".padStart(14)}` : ""}${context ? `  ${"context W".padStart(9)}` : ""}${scoreContext ? `  ${"score context W".padStart(15)}` : ""}`);
  const weight = (w: number | undefined, width: number) => (w !== undefined ? num(w) : "-").padStart(width);
  for (const cls of info.classes) {
    const own = info.classThresholds[cls];
    const contextW = info.contextClassWeights[cls];
    lines.push(
      `${cls.padEnd(width)}  ${(own !== undefined ? num(own) : `${num(info.threshold)} (model's)`).padStart(16)}  ${weight(info.detailClassWeights[cls], 8)}${scoreDetail ? `  ${weight(info.detailImageClassWeights[cls] ?? info.detailClassWeights[cls], 14)}` : ""}${context ? `  ${weight(contextW, 9)}` : ""}${scoreContext ? `  ${weight(info.contextImageClassWeights[cls] ?? contextW, 15)}` : ""}`,
    );
  }
  return lines.join("\n");
}
