import assert from "node:assert/strict";
import fc from "fast-check";
import { createPubSub, decodeEnvelope, parseTopic, topicFor } from "../../mod.ts";
import { isWellFormed, wellFormedFallback } from "../../core/well_formed.ts";

Deno.test("topicFor: plain types read as themselves", () => {
  assert.equal(topicFor("user.updated", "42"), "user.updated:42");
  assert.equal(topicFor("t", ""), "t:");
});

Deno.test("topicFor: the yoga collision cannot happen", () => {
  assert.notEqual(topicFor("a:b", "c"), topicFor("a", "b:c"));
  assert.notEqual(topicFor("a%3Ab", "c"), topicFor("a:b", "c"));
  assert.notEqual(topicFor("a%", "b"), topicFor("a%25", "b"));
});

Deno.test("topicFor: bad arguments are TypeErrors that quote the value", () => {
  assert.throws(() => topicFor("", "1"), { name: "TypeError", message: /non-empty string, got ""/ });
  assert.throws(() => topicFor(1 as unknown as string, "1"), { name: "TypeError", message: /got 1/ });
  assert.throws(() => topicFor("t", null as unknown as string), {
    name: "TypeError",
    message: /id must be a string, got null/,
  });
});

Deno.test("topicFor is injective and parseTopic inverts it (property)", () => {
  const type = fc.string({ minLength: 1, unit: fc.constantFrom("a", ":", "%", "3", "A", "2", "5", "é") });
  const id = fc.string({ unit: fc.constantFrom("a", ":", "%", "3", "A") });
  fc.assert(
    fc.property(type, id, type, id, (t1, i1, t2, i2) => {
      const same = t1 === t2 && i1 === i2;
      assert.equal(topicFor(t1, i1) === topicFor(t2, i2), same);
      assert.deepEqual(parseTopic(topicFor(t1, i1)), { type: t1, id: i1 });
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseTopic rejects strings topicFor never makes", () => {
  assert.equal(parseTopic("nocolon"), undefined);
  assert.equal(parseTopic(":id"), undefined);
  assert.equal(parseTopic("a%2:id"), undefined);
  assert.equal(parseTopic("a%41:id"), undefined);
});

Deno.test("topicFor: a lone surrogate in the type or id is a TypeError that quotes the value", () => {
  for (const bad of ["\ud800", "a\udc00b", "x\ud83d"]) {
    const quoting = (what: string) => (error: unknown) =>
      error instanceof TypeError && error.message.includes(`${what} ${JSON.stringify(bad)} is not well-formed UTF-16`);
    assert.throws(() => topicFor(bad, "1"), quoting("event type"));
    assert.throws(() => topicFor("t", bad), quoting("id"));
  }
  // A surrogate pair is one code point: fine.
  assert.equal(topicFor("😀", "😀"), "😀:😀");
});

Deno.test("publish and subscribe alike reject a lone surrogate; decodeEnvelope rejects one from the wire", () => {
  const pubsub = createPubSub<{ t: number }>();
  assert.throws(() => pubsub.publish("t", "\ud800", 1), { name: "TypeError", message: /"\\ud800"/ });
  assert.throws(() => pubsub.subscribe("t", "\ud800"), { name: "TypeError", message: /"\\ud800"/ });
  assert.throws(() => pubsub.publish("\udfff" as "t", "1", 1), TypeError);
  assert.throws(() => decodeEnvelope('{"type":"t","id":"\\ud800","payload":1}'), {
    name: "EnvelopeError",
    message: /id "\\ud800" is not well-formed/,
  });
  pubsub.close();
});

Deno.test("isWellFormed: the fallback agrees with String.prototype.isWellFormed", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (s) => {
      assert.equal(wellFormedFallback(s), s.isWellFormed());
      assert.equal(isWellFormed(s), s.isWellFormed());
    }),
    { numRuns: 2000 },
  );
});
