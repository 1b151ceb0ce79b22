/**
 * Shared body of `lafite accept` and `lafite confirm-defect`: each file or
 * frame id is one call and one output line, so a script can match results
 * to items; a failing item does not stop the others.
 */
import { readFile } from "node:fs/promises";
import { parseFlags } from "../args.js";
import { CONNECT_FLAGS, describeCallError, withAdmin } from "../connect.js";
import { AcceptStatus, type AcceptResponse } from "../../gen/lafited/v1/admin_pb.js";
import { invalidInput } from "../../util/errors.js";

const STATUS: Record<AcceptStatus, string> = {
  [AcceptStatus.UNSPECIFIED]: "error",
  [AcceptStatus.ACCEPTED]: "accepted",
  [AcceptStatus.DUPLICATE]: "duplicate",
  [AcceptStatus.REFUSED]: "refused",
};

export function formatAcceptLine(item: string, res: AcceptResponse): string {
  const detail =
    res.status === AcceptStatus.REFUSED
      ? res.reason
      : `score ${res.score.toPrecision(4)} model ${res.modelVersion} sha256 ${res.sha256.slice(0, 12)}${res.reason ? ` (${res.reason})` : ""}`;
  return `${item}\t${STATUS[res.status]}\t${res.acceptedId}\t${detail}`;
}

export async function feedback(which: "accept" | "confirm-defect", argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...CONNECT_FLAGS,
      "frame-id": { type: "string", multiple: true },
      class: { type: "string" },
      operator: { type: "string" },
      note: { type: "string" },
      ...(which === "accept" ? { force: { type: "boolean" } } : {}),
    },
    true,
  );
  const ids = (values["frame-id"] as string[] | undefined) ?? [];
  if (positionals.length === 0 && ids.length === 0) throw invalidInput(`give at least one FILE or --frame-id ID`);
  const common = { classTag: (values.class as string | undefined) ?? "", operator: (values.operator as string | undefined) ?? "", note: (values.note as string | undefined) ?? "" };
  const force = values.force === true;
  let ok = true;
  await withAdmin(values as { server?: string }, async (client) => {
    const items: { label: string; frame: () => Promise<{ source: { case: "frameId"; value: string } | { case: "image"; value: Uint8Array } }> }[] = [
      ...positionals.map((file) => ({ label: file, frame: async () => ({ source: { case: "image" as const, value: new Uint8Array(await readFile(file)) } }) })),
      ...ids.map((id) => ({ label: id, frame: async () => ({ source: { case: "frameId" as const, value: id } }) })),
    ];
    for (const item of items) {
      try {
        const frame = await item.frame();
        const res = which === "accept" ? await client.acceptNormal({ frame, ...common, force }) : await client.confirmDefect({ frame, ...common });
        if (res.status !== AcceptStatus.ACCEPTED && res.status !== AcceptStatus.DUPLICATE) ok = false;
        process.stdout.write(`${formatAcceptLine(item.label, res)}\n`);
      } catch (err) {
        ok = false;
        process.stdout.write(`${item.label}\terror\t0\t${describeCallError(err)}\n`);
      }
    }
  });
  return ok ? 0 : 1;
}
