import assert from "node:assert/strict";
import fc from "fast-check";
import { parseTopic, topicFor } from "../../mod.ts";

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
