import assert from "node:assert/strict";
import { decodeEnvelope, EnvelopeError, jsonCodec, jsonTooDeep, MAX_JSON_DEPTH, parseBoundedJson } from "../../mod.ts";

const nested = (levels: number, inner = "1") => "[".repeat(levels) + inner + "]".repeat(levels);

Deno.test("jsonTooDeep counts arrays and objects, and nothing inside strings", () => {
  assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH)), false);
  assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH + 1)), true);
  assert.equal(jsonTooDeep('{"a":'.repeat(65) + "1" + "}".repeat(65)), true);
  assert.equal(jsonTooDeep('{"a":'.repeat(64) + "1" + "}".repeat(64)), false);
  // Brackets in strings, escaped quotes and escaped backslashes don't open anything.
  assert.equal(jsonTooDeep(JSON.stringify(["[".repeat(1000), '\\"[[[', "{".repeat(1000)])), false);
  assert.equal(jsonTooDeep(JSON.stringify(["\\", "[".repeat(100)])), false);
  // Siblings are not nesting.
  assert.equal(jsonTooDeep("[" + "[],".repeat(10_000) + "1]"), false);
  assert.equal(jsonTooDeep(nested(3), 2), true);
});

Deno.test("parseBoundedJson refuses deep text with a SyntaxError before parsing, and parses the rest", () => {
  assert.deepEqual(parseBoundedJson('["sub","a:1"]'), ["sub", "a:1"]);
  assert.throws(() => parseBoundedJson(nested(100_000)), { name: "SyntaxError", message: /deeper than 64/ });
});

Deno.test("decodeEnvelope refuses an envelope nested deeper than 64 levels as an EnvelopeError", () => {
  const deepPayload = (levels: number) => `{"type":"a","id":"1","payload":${nested(levels)}}`;
  assert.deepEqual(decodeEnvelope(deepPayload(63)).payload, JSON.parse(nested(63)));
  for (const data of [deepPayload(64), new TextEncoder().encode(deepPayload(100_000))]) {
    assert.throws(() => decodeEnvelope(data), (error) => {
      assert.ok(error instanceof EnvelopeError);
      assert.match(String((error as Error).cause), /deeper than 64/);
      return true;
    });
  }
  assert.throws(() => jsonCodec.decode('{"__proto__":' + nested(70) + "}"), /deeper than 64/);
});
