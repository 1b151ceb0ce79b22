/** The nsfwjs files are read as data: the literal parser against hand cases and against Node's own loader. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { moduleExportsLiteral, parseJsLiteral } from "../../../src/model/backbone/js-literal.js";

test("minified literal forms parse to their values", () => {
  const src = `{a:[1,-2.5,.25,1e-3,-.5E+2],"b c":!0,d:!1,e:null,f:'it\\'s',g:"\\u0041\\n",h:{},i:[],0:true,j:false}`;
  const { value, end } = parseJsLiteral(src);
  assert.equal(end, src.length);
  assert.deepEqual(value, { a: [1, -2.5, 0.25, 0.001, -50], "b c": true, d: false, e: null, f: "it's", g: "A\n", h: {}, i: [], 0: true, j: false });
});

test("code is refused, not run", () => {
  assert.throws(() => parseJsLiteral("{a:foo()}"), /expected a literal/);
  assert.throws(() => parseJsLiteral("[1,2"), /expected/);
  assert.throws(() => moduleExportsLiteral("module.exports=e()"), /no `exports = <literal>`/);
  assert.throws(() => moduleExportsLiteral('a.exports="x";b.exports="y"'), /more than one/);
  const proto = parseJsLiteral('{"__proto__":{"polluted":1}}').value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
});

test("the nsfwjs MobileNetV2 files parse to exactly what Node's loader evaluates", () => {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("nsfwjs")), "..", "models", "mobilenet_v2");
  for (const file of ["model.min.js", "group1-shard1of1.min.js"]) {
    const path = join(dir, file);
    assert.deepEqual(moduleExportsLiteral(readFileSync(path, "utf8")), require(path), file);
  }
});
