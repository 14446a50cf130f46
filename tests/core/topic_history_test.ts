import assert from "node:assert/strict";
import { TopicHistory } from "../../mod.ts";

Deno.test("topic history: offsets increase by 1 per topic, one epoch per stream", () => {
  const h = new TopicHistory<string>();
  const a1 = h.append("a:1", "x", 1, 0);
  const a2 = h.append("a:1", "y", 1, 0);
  const b1 = h.append("b:1", "z", 1, 0);
  assert.deepEqual([a1.offset, a2.offset, b1.offset], [1, 2, 1]);
  assert.equal(a1.epoch, a2.epoch);
  assert.notEqual(a1.epoch, b1.epoch);
  assert.match(a1.epoch, /^[0-9a-f]{12}$/);
  assert.deepEqual(h.open("a:1", 0), { epoch: a1.epoch, offset: 2 });
});

Deno.test("topic history: since a position replays what follows it, in order, with nothing missed", () => {
  const h = new TopicHistory<number>();
  const start = h.open("t:1", 0);
  assert.deepEqual(start.offset, 0);
  for (let i = 1; i <= 5; i++) h.append("t:1", i, 1, 0);
  const r = h.since("t:1", { epoch: start.epoch, offset: 2 }, 0);
  assert.deepEqual(r, {
    epoch: start.epoch,
    from: 2,
    entries: [{ offset: 3, value: 3 }, { offset: 4, value: 4 }, { offset: 5, value: 5 }],
  });
  assert.deepEqual(h.since("t:1", { epoch: start.epoch, offset: 5 }, 0).entries, []);
  // No position: placed at the top, nothing replayed, nothing reported.
  assert.deepEqual(h.since("t:1", undefined, 0), { epoch: start.epoch, from: 5, entries: [] });
});

Deno.test("topic history: past size, the reader learns exactly how many it missed", () => {
  const h = new TopicHistory<number>({ size: 3 });
  const start = h.open("t:1", 0);
  for (let i = 1; i <= 10; i++) h.append("t:1", i, 1, 0);
  const r = h.since("t:1", { epoch: start.epoch, offset: 2 }, 0);
  assert.equal(r.from, 7);
  assert.equal(r.missed, 5);
  assert.deepEqual(r.entries.map((e) => e.value), [8, 9, 10]);
  assert.deepEqual(h.stats(), { topics: 1, entries: 3, bytes: 3 });
});

Deno.test("topic history: per-topic bytes and age bound the entries", () => {
  const h = new TopicHistory<number>({ maxBytes: 10, ttl: 1000 });
  const start = h.open("t:1", 0);
  for (let i = 1; i <= 5; i++) h.append("t:1", i, 4, i * 100);
  assert.deepEqual(h.since("t:1", start, 500).entries.map((e) => e.value), [4, 5]);
  // At 1450, the entries of 100..400 are older than 1000 ms: only 5 is left.
  const r = h.since("t:1", { epoch: start.epoch, offset: 3 }, 1450);
  assert.deepEqual(r.entries.map((e) => e.value), [5]);
  assert.equal(r.missed, 1);
  assert.equal(h.stats().bytes, 4);
});

Deno.test("topic history: another epoch, or an offset past the top, is an unknown loss", () => {
  const h = new TopicHistory<number>();
  h.append("t:1", 1, 1, 0);
  const top = h.open("t:1", 0);
  assert.deepEqual(h.since("t:1", { epoch: "000000000000", offset: 1 }, 0), {
    epoch: top.epoch,
    from: 1,
    entries: [],
    missed: null,
  });
  assert.equal(h.since("t:1", { epoch: top.epoch, offset: 9 }, 0).missed, null);
});

Deno.test("topic history: global caps drop the least recently appended streams whole, and a new stream has a new epoch", () => {
  const dropped: string[] = [];
  const h = new TopicHistory<number>({ maxTopics: 3, maxTotalBytes: 100 });
  h.onDrop = (topic) => dropped.push(topic);
  const a = h.append("a:1", 1, 10, 0);
  h.append("b:1", 1, 10, 0);
  h.append("c:1", 1, 10, 0);
  h.append("a:1", 2, 10, 0); // a is now the most recent
  h.append("d:1", 1, 10, 0); // over maxTopics: b goes
  assert.deepEqual(dropped, ["b:1"]);
  h.append("e:1", 1, 60, 0); // 110 bytes > 100: c goes
  assert.deepEqual(dropped, ["b:1", "c:1"]);
  assert.deepEqual(h.stats(), { topics: 3, entries: 4, bytes: 90 });
  assert.equal(h.since("a:1", a, 0).entries.length, 1);
  const b = h.append("b:1", 1, 1, 0);
  assert.equal(b.offset, 1);
  assert.equal(h.since("b:1", { epoch: "old", offset: 1 }, 0).missed, null);
});

Deno.test("topic history: sweep drops streams idle for ttl, and only those", () => {
  const dropped: string[] = [];
  const h = new TopicHistory<number>({ ttl: 1000 });
  h.onDrop = (topic) => dropped.push(topic);
  h.append("a:1", 1, 1, 0);
  h.append("b:1", 1, 1, 500);
  h.sweep(1200);
  assert.deepEqual(dropped, ["a:1"]);
  assert.equal(h.has("b:1"), true);
  h.sweep(1600);
  assert.deepEqual(h.stats(), { topics: 0, entries: 0, bytes: 0 });
});

Deno.test("topic history: a single stream over the global byte cap sheds its own oldest entries", () => {
  const h = new TopicHistory<number>({ maxTotalBytes: 25, maxBytes: 1000 });
  const start = h.open("t:1", 0);
  for (let i = 1; i <= 5; i++) h.append("t:1", i, 10, 0);
  const r = h.since("t:1", start, 0);
  assert.deepEqual(r.entries.map((e) => e.value), [4, 5]);
  assert.equal(r.missed, 3);
});

Deno.test("topic history: bounds must be positive", () => {
  assert.throws(() => new TopicHistory({ size: 0 }), RangeError);
  assert.throws(() => new TopicHistory({ ttl: -1 }), RangeError);
});

Deno.test("topic history: sweep keeps the idle streams the caller still needs", () => {
  const h = new TopicHistory<number>({ ttl: 1000 });
  const a = h.append("a:1", 1, 1, 0);
  h.append("b:1", 1, 1, 0);
  h.sweep(1500, (topic) => topic === "a:1");
  assert.equal(h.has("a:1"), true);
  assert.equal(h.has("b:1"), false);
  assert.deepEqual(h.open("a:1", 1500), { epoch: a.epoch, offset: 1 });
  assert.equal(h.stats().entries, 0); // its entries expired all the same
});

Deno.test("topic history: over the byte cap, the oldest other streams go before the one being appended to sheds anything", () => {
  const dropped: string[] = [];
  const h = new TopicHistory<number>({ maxTotalBytes: 100 });
  h.onDrop = (topic) => dropped.push(topic);
  const a = h.append("a:1", 1, 30, 0); // a is the oldest stream
  h.append("b:1", 1, 30, 0);
  h.append("c:1", 1, 30, 0);
  h.append("a:1", 2, 30, 0); // 120 bytes: b, untouched since it was created, goes; a keeps both entries
  assert.deepEqual(dropped, ["b:1"]);
  assert.deepEqual(h.since("a:1", { epoch: a.epoch, offset: 0 }, 0).entries.map((e) => e.value), [1, 2]);
});

Deno.test("topic history: the ring keeps the newest entries in order through many wraps, and trims by bytes and age inside it", () => {
  const h = new TopicHistory<number>({ size: 7, maxBytes: 50, ttl: 1000 });
  const start = h.open("t:1", 0);
  for (let i = 1; i <= 1000; i++) {
    h.append("t:1", i, i % 3 === 0 ? 20 : 1, i);
    const r = h.since("t:1", start, i);
    const values = r.entries.map((e) => e.value);
    assert.deepEqual(values, r.entries.map((e) => e.offset)); // value i sits at offset i
    assert.equal(values.at(-1), i);
    assert.ok(values.length <= 7 && values.reduce((a, v) => a + (v % 3 === 0 ? 20 : 1), 0) <= 50);
    for (let k = 1; k < values.length; k++) assert.equal(values[k], values[k - 1] + 1);
  }
  // Age: at 2500 only entries from 1500 on would be kept; the last (1000) is older: a reader at 999 lost it.
  assert.deepEqual(h.since("t:1", { epoch: start.epoch, offset: 999 }, 2500), {
    epoch: start.epoch,
    from: 1000,
    entries: [],
    missed: 1,
  });
});
