/** Polls `cond` until it holds, failing after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, pollMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
