/**
 * Topic to subject mapping: fast-check properties (injective; one token,
 * never a wildcard, no whitespace; no topic's subject matched by another's
 * as a NATS pattern), then the same nasty topics through the real server.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { createPubSub } from "../../mod.ts";
import { checkSubjectPrefix, subjectToken } from "../../adapters/nats/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { targetWithConnection, uniquePrefix } from "./_helpers.ts";

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
function natsMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

const prefix = "alk.events";
const subject = (topic: string): string => `${prefix}.${subjectToken(topic)}`;

/** Strings dense in the characters NATS treats specially, plus arbitrary UTF-16 (lone surrogates included). */
const nasty = fc.oneof(
  fc.string({ unit: fc.constantFrom(".", "*", ">", " ", "\t", "\n", "\r", "_", "~", ":", "%", "a", "2", "e") }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
);

Deno.test("nats subjects: never a wildcard, one token, no whitespace, only safe ASCII", () => {
  fc.assert(
    fc.property(nasty, (topic) => {
      const token = subjectToken(topic);
      assert.match(token, /^[A-Za-z0-9\-:%@+=,_~]*$/);
      assert.ok(!/[.*>\s]/.test(token));
      const tokens = subject(topic).split(".");
      assert.equal(tokens.length, 3);
      assert.ok(tokens.every((t) => t !== "*" && t !== ">"));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("nats subjects: injective, and no topic's subject matches another's", () => {
  fc.assert(
    fc.property(nasty, nasty, (t1, t2) => {
      fc.pre(t1 !== t2);
      const s1 = subject(t1);
      const s2 = subject(t2);
      assert.notEqual(s1, s2, `${JSON.stringify(t1)} and ${JSON.stringify(t2)} share ${s1}`);
      assert.equal(natsMatches(s1, s2), false);
      assert.equal(natsMatches(s2, s1), false);
    }),
    { numRuns: 5000 },
  );
  // Near misses the escapes must keep apart.
  const pairs = [["a.b", "a_2eb"], ["a_2eb", "a_2e_62"], ["\uD800", "\uFFFD"], ["~", "_7e"], [">", "_3e"], ["", "_"]];
  for (const [x, y] of pairs) assert.notEqual(subject(x), subject(y), `${x} vs ${y}`);
});

Deno.test("nats subjects: an invalid prefix is refused", () => {
  for (const bad of ["", "a..b", ".a", "a.", "a.*", "a.>", "a b", "a*", "a>b", "ä"]) {
    assert.throws(() => checkSubjectPrefix(bad), TypeError, JSON.stringify(bad));
  }
  assert.equal(checkSubjectPrefix("app.events-1"), "app.events-1");
});

Deno.test("nats subjects: nasty topics stay apart on the real server", async () => {
  const a = await targetWithConnection({ prefix: uniquePrefix("subjects") });
  const b = await targetWithConnection({ prefix: a.target.prefix });
  const pa = createPubSub<{ [type: string]: string }>({ eventTarget: a.target });
  const pb = createPubSub<{ [type: string]: string }>({ eventTarget: b.target });
  try {
    const keys: [string, string][] = [
      ["job.progress", "1"],
      ["job_2eprogress", "1"],
      ["job", "progress.1"],
      ["*", "*"],
      [">", ""],
      ["a", ">"],
      ["a b", "c\td"],
      ["x", "*.>"],
      ["\uFFFD", ""],
    ];
    // A lone surrogate cannot cross UTF-8 (it would become U+FFFD): topicFor refuses it on both sides.
    assert.throws(() => pb.subscribe("\uD800", ""), TypeError);
    assert.throws(() => pa.publish("\uD800", "", "x"), TypeError);
    const subs = keys.map(([type, id]) => pb.subscribe(type, id));
    await Promise.all(keys.map(([type, id]) => pb.ready(type, id)));
    for (const [type, id] of keys) pa.publish(type, id, `${type}|${id}`);
    for (const [type, id] of keys) pa.publish(type, id, "end");
    for (let i = 0; i < keys.length; i++) {
      const [type, id] = keys[i];
      assert.deepEqual((await nextWithin(subs[i], 5000)).value, `${type}|${id}`);
      assert.deepEqual((await nextWithin(subs[i], 5000)).value, "end");
    }
    assert.deepEqual(b.collected.errors, []);
  } finally {
    pa.close();
    pb.close();
    await Promise.all([a.close(), b.close()]);
  }
});
