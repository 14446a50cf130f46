/**
 * Topic to channel mapping: fast-check properties (reads back to the topic in the short form; at most 63 bytes of
 * printable ASCII without quotes, `;`, `$` or whitespace; injective, long topics included), then hostile types and
 * ids through the real server, asked for its own view with pg_listening_channels().
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { createPubSub, topicFor } from "../../mod.ts";
import { channelFor, checkChannelPrefix, MAX_CHANNEL_BYTES, quoteIdentifier } from "../../adapters/postgres/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { listeningChannels, pgTarget, uniquePrefix } from "./_helpers.ts";

const prefix = "alk.events:";

/** Reads a short-form channel back to its topic, as a third party would (the module docs' escapes). */
function readBack(channel: string): string | undefined {
  const token = channel.slice(prefix.length);
  if (token.startsWith("#")) return undefined;
  let out = "";
  for (let i = 0; i < token.length;) {
    if (token[i] === "_") {
      out += String.fromCharCode(parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (token[i] === "~") {
      out += String.fromCharCode(parseInt(token.slice(i + 1, i + 5), 16));
      i += 5;
    } else out += token[i++];
  }
  return out;
}

/** Strings dense in what SQL and identifiers treat specially, arbitrary UTF-16 (lone surrogates), long strings. */
const nasty = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', "'", ";", "$", "\0", "\\", " ", "_", "~", "#", ":", "a", "A", "2", "e") }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ minLength: 40, maxLength: 200 }),
);

Deno.test("postgres channels: at most 63 bytes of safe printable ASCII; the short form reads back to the topic", () => {
  fc.assert(
    fc.property(nasty, (topic) => {
      const channel = channelFor(prefix, topic);
      assert.ok(channel.startsWith(prefix));
      assert.ok(new TextEncoder().encode(channel).length <= MAX_CHANNEL_BYTES, channel);
      assert.match(channel.slice(prefix.length), /^(?:[A-Za-z0-9\-:.%@+=,_~]*|#[0-9a-f]{32})$/);
      const back = readBack(channel);
      if (back !== undefined) assert.equal(back, topic);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("postgres channels: injective, long topics and hostile characters included", () => {
  fc.assert(
    fc.property(nasty, nasty, (t1, t2) => {
      fc.pre(t1 !== t2);
      assert.notEqual(channelFor(prefix, t1), channelFor(prefix, t2), `${JSON.stringify(t1)} / ${JSON.stringify(t2)}`);
    }),
    { numRuns: 5000 },
  );
  // Neighbours: one character more or less, a case change, and the 63-byte boundary between the two forms.
  const room = MAX_CHANNEL_BYTES - prefix.length;
  const seen = new Map<string, string>();
  for (const base of ["a".repeat(room - 1), "a".repeat(room), "a".repeat(room + 1), "A".repeat(room), "#" + "a"]) {
    for (const topic of [base, base + "b", base.slice(1), base.toUpperCase(), base + "\0", base + "\uD800"]) {
      const channel = channelFor(prefix, topic);
      const before = seen.get(channel);
      assert.ok(before === undefined || before === topic, `${JSON.stringify(topic)} and ${JSON.stringify(before)}`);
      seen.set(channel, topic);
    }
  }
  assert.equal(channelFor(prefix, "a".repeat(room)), prefix + "a".repeat(room));
  assert.match(channelFor(prefix, "a".repeat(room + 1)), /^alk\.events:#[0-9a-f]{32}$/);
});

Deno.test("postgres channels: prefixes are checked; identifiers are quoted", () => {
  assert.equal(checkChannelPrefix("app:"), "app:");
  for (const bad of ["", 'a"', "a'", "a;", "a$", "a b", "x".repeat(31), "é"]) {
    assert.throws(() => checkChannelPrefix(bad), TypeError, JSON.stringify(bad));
  }
  assert.equal(quoteIdentifier('a"b'), '"a""b"');
  assert.throws(() => quoteIdentifier("a\0b"), TypeError);
});

Deno.test("postgres channels: hostile types and ids through the real server each receive only their own events", async () => {
  const side = await pgTarget({ prefix: uniquePrefix("hostile") });
  const pubsub = createPubSub<Record<string, string>>({ eventTarget: side.target });
  const pairs: [string, string][] = [
    ['quote"d', "1"],
    ["it's", "'; DROP TABLE x; --"],
    ["semi;colon", "$$ dollar $$"],
    ["nul\0type", "nul\0id"],
    ["Case", "A"],
    ["case", "a"],
    ["CASE", "a"],
    ["back\\slash", '\\"'],
    ["long", "x".repeat(300)],
    ["long", "x".repeat(299) + "y"],
    ["emoji ✓", "😀 surrogate pair"],
    ["a:b", "c"],
    ["a", "b:c"],
  ];
  try {
    const subs = pairs.map(([type, id]) => pubsub.subscribe(type, id));
    for (const [type, id] of pairs) await pubsub.ready(type, id);
    // The server listens on exactly our channels, byte for byte (quoted: case and punctuation kept).
    const channels = pairs.map(([type, id]) => side.target.channelFor(topicFor(type, id)));
    assert.equal(new Set(channels).size, pairs.length);
    assert.deepEqual((await listeningChannels(side.opened[0])).sort(), [...channels].sort());
    for (const [type, id] of pairs) pubsub.publish(type, id, `${type}|${id}`);
    for (const [i, [type, id]] of pairs.entries()) {
      assert.deepEqual(await nextWithin(subs[i], 5000), { value: `${type}|${id}`, done: false });
    }
    // Nothing else arrived anywhere (a second round proves order and isolation again).
    for (const [type, id] of pairs) pubsub.publish(type, id, "2");
    for (const sub of subs) assert.deepEqual(await nextWithin(sub, 5000), { value: "2", done: false });
    assert.deepEqual(side.collected.errors, []);
    for (const sub of subs) await sub.return(undefined);
  } finally {
    pubsub.close();
    await side.close();
  }
});
