#!/usr/bin/env node
// Assembles every WebAssembly text module under src/ (*.wat) into dist/ beside
// the compiled JavaScript that loads it (src/x/y.wat → dist/src/x/y.wasm), with
// wabt, at build time: the daemon reads the binary and needs no assembler.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wabt = await wabtInit();

function* watFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* watFiles(path);
    else if (entry.name.endsWith(".wat")) yield path;
  }
}

for (const source of watFiles(join(root, "src"))) {
  const name = relative(root, source);
  const module = wabt.parseWat(name, readFileSync(source, "utf8"), { simd: true, threads: true });
  try {
    const bytes = module.toBinary({}).buffer;
    // Node's own compiler validates it (wabt's validator does not take the SIMD and threads features).
    new WebAssembly.Module(bytes);
    const out = join(root, "dist", name.replace(/\.wat$/, ".wasm"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
  } finally {
    module.destroy();
  }
}
