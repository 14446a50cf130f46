/**
 * The shared handshake codec (core/handshake.ts): the bare forms stay byte for
 * byte what protocol 2 always sent; the options form negotiates features.
 */

import assert from "node:assert/strict";
import {
  encodeHello,
  encodeWelcome,
  grantFeatures,
  MAX_HELLO_FEATURES,
  parseHello,
  parseWelcome,
} from "../../core/handshake.ts";

Deno.test("handshake: bare hellos and welcomes are unchanged on the wire", () => {
  assert.equal(encodeHello(undefined), '["hello",2]');
  assert.equal(encodeHello({ token: "t" }), '["hello",2,{"token":"t"}]');
  assert.equal(encodeHello(null), '["hello",2,null]');
  assert.equal(encodeWelcome(undefined), '["welcome",2]');
  assert.deepEqual(parseHello(["hello", 2]), { kind: "hello", credentials: undefined, features: undefined });
  assert.deepEqual(parseHello(["hello", 2, null]), { kind: "hello", credentials: null, features: undefined });
  assert.deepEqual(parseWelcome(["welcome", 2]), { kind: "welcome", info: undefined });
});

Deno.test("handshake: the options form carries features; null credentials there mean none", () => {
  assert.equal(encodeHello(undefined, ["close"]), '["hello",2,null,{"features":["close"]}]');
  assert.equal(encodeHello("secret", []), '["hello",2,"secret",{"features":[]}]');
  assert.deepEqual(parseHello(JSON.parse(encodeHello(undefined, ["close", "x"]))), {
    kind: "hello",
    credentials: undefined,
    features: ["close", "x"],
  });
  assert.deepEqual(parseHello(["hello", 2, "c", { other: 1 }]), { kind: "hello", credentials: "c", features: [] });
  assert.deepEqual(grantFeatures(["x", "close", "close", "recover"], ["recover", "close"]), ["close", "recover"]);
  const welcome = encodeWelcome(["close"], { limits: { framesPerSecond: 5 } });
  assert.equal(welcome, '["welcome",2,{"limits":{"framesPerSecond":5},"features":["close"]}]');
  assert.deepEqual(parseWelcome(JSON.parse(welcome)), {
    kind: "welcome",
    info: { limits: { framesPerSecond: 5 }, features: ["close"] },
  });
  // Info without a usable features list grants nothing; extra fields may not override the granted list.
  assert.deepEqual(parseWelcome(["welcome", 2, {}]), { kind: "welcome", info: { features: [] } });
  assert.equal(encodeWelcome([], { features: ["forged"] }), '["welcome",2,{"features":[]}]');
});

Deno.test("handshake: malformed hellos and welcomes, and other versions", () => {
  for (
    const bad of [
      ["hello"],
      ["hello", "2"],
      ["hello", 2, null, "options"],
      ["hello", 2, null, null],
      ["hello", 2, null, []],
      ["hello", 2, null, { features: "close" }],
      ["hello", 2, null, { features: [1] }],
      ["hello", 2, null, { features: Array(MAX_HELLO_FEATURES + 1).fill("f") }],
      ["hello", 2, null, {}, "extra"],
      ["welcome", 2],
    ]
  ) assert.equal(parseHello(bad).kind, "malformed", JSON.stringify(bad));
  const reason = parseHello(["hello"]);
  assert.ok(reason.kind === "malformed" && !/got "hello"/.test(reason.reason), "no 'Expected a hello, got \"hello\"'");
  assert.deepEqual(parseHello(["hello", 3, null, {}]), { kind: "version", version: 3 });
  for (const bad of [["welcome"], ["welcome", 2, []], ["welcome", 2, null], ["welcome", 2, {}, 1], ["suback", "t"]]) {
    assert.equal(parseWelcome(bad).kind, "malformed", JSON.stringify(bad));
  }
  assert.deepEqual(parseWelcome(["welcome", 1]), { kind: "version", version: 1 });
});
