/**
 * `lafite confirm-defect`: records true defects (ModelAdmin.ConfirmDefect);
 * they never train anything, they join the promotion gate's defect set.
 */
import type { CliCommand } from "../main.js";
import { feedback } from "./feedback.js";

export const command: CliCommand = {
  summary: "Confirm frames as true defects (promotion-gate test set only).",
  usage: `lafite confirm-defect --server HOST:PORT [FILE...] [--frame-id ID...] [--class TAG] [--operator NAME] [--note TEXT]
Prints one line per item: <item> TAB accepted|duplicate|refused|error TAB <id> TAB <detail>.`,
  run: (argv) => feedback("confirm-defect", argv),
};
