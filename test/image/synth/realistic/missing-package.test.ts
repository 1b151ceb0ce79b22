import { test } from "node:test";
import assert from "node:assert/strict";
import { readTexture } from "../../../../src/image/synth/realistic/texture-source.js";
import { LafiteError } from "../../../../src/util/errors.js";

test("realistic suite: a texture whose Debian package is not installed fails naming the package and the setup command", async () => {
  await assert.rejects(
    readTexture({ name: "paper", debianPackage: "krita-data", path: "/nonexistent/krita/patterns/03_default-paper.png", license: "test" }),
    (err: unknown) => err instanceof LafiteError && err.code === "BAD_DATASET" && /krita-data/.test(err.message) && /apt-get install -y krita-data/.test(err.message),
  );
});
