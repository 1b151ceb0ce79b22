/** A temporary folder removed when the test ends, pass or fail. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix = "lafite-test-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
