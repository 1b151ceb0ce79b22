/**
 * Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) for
 * checking the eval report as a browser sees it: no network, a throwaway
 * profile, the page's DOM after load and its console output.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000"];

export interface BrowserRun {
  readonly stdout: string;
  /** Console messages the page logged (Chromium prints them as `...:CONSOLE:<line>] "message"`). */
  readonly console: string[];
}

/** Runs chromium on a local HTML file with extra flags (e.g. --dump-dom, --screenshot=...). */
export async function chromium(htmlFile: string, flags: readonly string[]): Promise<BrowserRun> {
  const profile = await mkdtemp(join(tmpdir(), "lafite-chromium-"));
  try {
    const { stdout, stderr } = await run("chromium", [...FLAGS, `--user-data-dir=${profile}`, ...flags, pathToFileURL(htmlFile).href], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, console: stderr.split("\n").filter((l) => /:CONSOLE[:(]/.test(l)) };
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") throw new Error("chromium is not installed: run scripts/setup.sh (apt-get install chromium)");
    throw err;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
