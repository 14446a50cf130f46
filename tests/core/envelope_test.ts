import assert from "node:assert/strict";
import { type Codec, decodeEnvelope, EnvelopeError, jsonCodec, outgoingEnvelope, toEnvelope } from "../../mod.ts";

const isEnvelopeError = (message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${error}`);
  assert.equal(error.code, "ERR_INVALID_ENVELOPE");
  assert.equal(error.name, "EnvelopeError");
  assert.match(error.message, message);
  return true;
};

Deno.test("decodeEnvelope: round trip of every falsy payload through JSON", () => {
  for (const payload of [null, undefined, 0, "", false]) {
    const text = jsonCodec.encode({ type: "t", id: "1", payload });
    assert.deepEqual(decodeEnvelope(text), { type: "t", id: "1", payload });
  }
});

Deno.test("decodeEnvelope: bytes decode like text", () => {
  const bytes = new TextEncoder().encode('{"type":"t","id":"1","payload":"ü"}');
  assert.deepEqual(decodeEnvelope(bytes), { type: "t", id: "1", payload: "ü" });
});

Deno.test("decodeEnvelope: malformed data is an EnvelopeError with the codec error as cause", () => {
  assert.throws(() => decodeEnvelope("notjson"), (error: unknown) => {
    isEnvelopeError(/Cannot decode envelope data "notjson"/)(error);
    assert.ok((error as Error).cause instanceof SyntaxError);
    return true;
  });
  assert.throws(() => decodeEnvelope(new Uint8Array([0xff, 0xfe])), isEnvelopeError(/<2 bytes>/));
});

Deno.test("decodeEnvelope: invalid UTF-8 inside a JSON string is refused; a real U+FFFD is kept", () => {
  const head = new TextEncoder().encode('{"type":"t","id":"1","payload":"');
  const tail = new TextEncoder().encode('"}');
  const invalid = new Uint8Array([...head, 0xc3, ...tail]); // a lone lead byte: would read as U+FFFD if replaced
  assert.throws(() => decodeEnvelope(invalid), isEnvelopeError(/Cannot decode envelope data/));
  const replacement = new TextEncoder().encode('{"type":"t","id":"1","payload":"a\uFFFDb"}');
  assert.deepEqual(decodeEnvelope(replacement), { type: "t", id: "1", payload: "a\uFFFDb" });
});

Deno.test("decodeEnvelope: wrong shapes are rejected", () => {
  assert.throws(() => decodeEnvelope("[]"), isEnvelopeError(/got an array/));
  assert.throws(() => decodeEnvelope("null"), isEnvelopeError(/got null/));
  assert.throws(() => decodeEnvelope("42"), isEnvelopeError(/got 42/));
  assert.throws(() => decodeEnvelope('{"id":"1"}'), isEnvelopeError(/type to be a non-empty string, got undefined/));
  assert.throws(() => decodeEnvelope('{"type":"","id":"1"}'), isEnvelopeError(/got ""/));
  assert.throws(() => decodeEnvelope('{"type":"t","id":7}'), isEnvelopeError(/id to be a string, got 7/));
});

Deno.test("decodeEnvelope: __proto__ keys are rejected, escaped or not, at any depth", () => {
  assert.throws(() => decodeEnvelope('{"type":"t","id":"1","__proto__":{"x":1}}'), isEnvelopeError(/__proto__/));
  assert.throws(
    () => decodeEnvelope('{"type":"t","id":"1","payload":{"a":[{"__proto__":1}]}}'),
    isEnvelopeError(/__proto__/),
  );
  assert.throws(() => decodeEnvelope('{"type":"t","id":"1","\\u005f_proto__":{}}'), isEnvelopeError(/__proto__/));
  // The string "__proto__" as a value is fine.
  assert.equal(decodeEnvelope('{"type":"t","id":"1","payload":"__proto__"}').payload, "__proto__");
});

Deno.test("decodeEnvelope: an envelope must match the topic it arrived on", () => {
  const text = jsonCodec.encode({ type: "a", id: "b:c", payload: 1 });
  assert.equal(decodeEnvelope(text, jsonCodec, "a:b:c").payload, 1);
  assert.throws(() => decodeEnvelope(text, jsonCodec, "a%3Ab:c"), isEnvelopeError(/arrived on topic "a%3Ab:c"/));
});

Deno.test("decodeEnvelope: a custom codec's output is still validated", () => {
  const codec: Codec = { encode: () => "", decode: () => ({ type: 1 }) };
  assert.throws(() => decodeEnvelope("x", codec), isEnvelopeError(/type/));
});

Deno.test("toEnvelope: strips unknown keys", () => {
  assert.deepEqual(toEnvelope({ type: "t", id: "1", payload: 2, extra: true }), { type: "t", id: "1", payload: 2 });
});

Deno.test("outgoingEnvelope: returns the detail itself when valid, rejects non-envelopes and topic mismatches", () => {
  const detail = { type: "a", id: "b:c", payload: 1 };
  assert.equal(outgoingEnvelope(detail, "a:b:c"), detail);
  assert.equal(outgoingEnvelope(detail), detail);
  assert.throws(() => outgoingEnvelope("nope", "a:b"), isEnvelopeError(/got "nope"/));
  assert.throws(() => outgoingEnvelope({ type: "", id: "1" }), isEnvelopeError(/non-empty string/));
  assert.throws(() => outgoingEnvelope(detail, "a%3Ab:c"), isEnvelopeError(/dispatched on topic "a%3Ab:c"/));
});

Deno.test("envelope checks stay per value when one topic repeats: the next event's type, id and topic are checked", () => {
  const good = JSON.stringify({ type: "ping", id: "1", payload: 1 });
  for (let i = 0; i < 3; i++) assert.equal(decodeEnvelope(good).id, "1");
  // The same type beside a new id with a lone surrogate, and the reverse: refused, not taken from the last check.
  assert.throws(() => toEnvelope({ type: "ping", id: "\uD800", payload: 1 }), EnvelopeError);
  assert.throws(() => toEnvelope({ type: "\uDC00", id: "1", payload: 1 }), EnvelopeError);
  const envelope = { type: "ping", id: "1", payload: 1 };
  for (let i = 0; i < 3; i++) assert.equal(outgoingEnvelope(envelope, "ping:1"), envelope);
  // The same topic with another envelope, and the same envelope on another topic: both refused.
  assert.throws(() => outgoingEnvelope({ type: "ping", id: "2", payload: 1 }, "ping:1"), EnvelopeError);
  assert.throws(() => outgoingEnvelope(envelope, "ping:2"), EnvelopeError);
  assert.throws(() => outgoingEnvelope({ type: "a:b", id: "c", payload: 1 }, "a:b:c"), EnvelopeError);
  assert.equal(outgoingEnvelope({ type: "a:b", id: "c", payload: 1 }, "a%3Ab:c").id, "c");
});
