/**
 * Every Debian package a test or the product needs at run time is installed
 * by scripts/setup.sh, so CI on a fresh machine has it (a package left only
 * on a developer's machine passes here and fails there).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

test("setup.sh installs the Debian packages the tests and the product use", async () => {
  const text = await readFile(new URL("../../../scripts/setup.sh", import.meta.url), "utf8");
  const line = text.split("\n").find((l) => l.startsWith("apt_packages=("));
  assert.ok(line, "setup.sh has an apt_packages=(…) line");
  const packages = line.slice("apt_packages=(".length, line.lastIndexOf(")")).split(/\s+/);
  for (const p of ["libfaiss-dev", "libopenblas-dev", "python3-grpcio", "python3-grpc-tools", "chromium", "krita-data"]) assert.ok(packages.includes(p), `${p} missing from ${line}`);
});
