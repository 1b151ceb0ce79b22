/**
 * `lafite accept`: records frames as normal through the daemon
 * (ModelAdmin.AcceptNormal), one output line per item:
 *   <item>\taccepted|duplicate|refused|error\t<id>\t<detail>
 * Exit 0 when every item was accepted or already recorded.
 */
import type { CliCommand } from "../main.js";
import { feedback } from "./feedback.js";

export const command: CliCommand = {
  summary: "Accept frames as normal (false alarms) so the next job learns from them.",
  usage: `lafite accept --server HOST:PORT [FILE...] [--frame-id ID...] [--class TAG] [--operator NAME] [--note TEXT] [--force]
  FILE             an image file to accept (scored with the active model for the record)
  --frame-id ID    a frame the daemon scored recently, by its frame_id (repeatable)
  --class TAG      product/class tag (default: the tag it was scored with)
  --operator NAME  who accepts (recorded)
  --note TEXT      free text (recorded)
  --force          accept even a frame scoring far above the threshold (ledger.scoreCeiling), or one tagged with one of the model's
                   classes that reads as another (a wrong part or a wrong tag), or one like none of the model's classes
                   (DetectResponse.unlike_any_class: an empty station, a covered lens; accepted, it widens its class's reach)
Prints one line per item: <item> TAB accepted|duplicate|refused|error TAB <id> TAB <detail>.`,
  run: (argv) => feedback("accept", argv),
};
