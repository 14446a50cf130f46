import assert from "node:assert/strict";
import { type EnvelopeEvent, type PositionedEvent, topicFor } from "../../mod.ts";
import { conformance } from "../../testing/mod.ts";
import type { RedisEventTarget } from "../../adapters/redis/mod.ts";
import {
  client,
  freePort,
  quitAll,
  redisPair,
  RedisServer,
  targetWithClients,
  uniquePrefix,
  waitFor,
} from "./_helpers.ts";

const env = (n: number) => ({ type: "s", id: "1", payload: n });
const TOPIC = topicFor("s", "1");

function collect(target: RedisEventTarget) {
  const events: PositionedEvent[] = [];
  target.addEventListener(TOPIC, (e: EnvelopeEvent) => events.push(e as PositionedEvent));
  return events;
}

Deno.test("redis streams: two targets see the same offsets and epoch; history() answers what a reader missed, bounded by maxLen", async () => {
  const prefix = uniquePrefix("streams");
  const a = await targetWithClients({ prefix, streams: { maxLen: 10 } });
  const b = await targetWithClients({ prefix, streams: { maxLen: 10 } });
  const admin = await client();
  try {
    const atA = collect(a.target), atB = collect(b.target);
    await Promise.all([a.target.ready(TOPIC), b.target.ready(TOPIC)]);
    const start = await b.target.history!(TOPIC, undefined);
    assert.deepEqual(start.from, 0);
    for (let i = 1; i <= 5; i++) a.target.dispatchEvent(new CustomEvent(TOPIC, { detail: env(i) }) as EnvelopeEvent);
    await waitFor(() => atA.length === 5 && atB.length === 5, 5000, "5 events at each target");
    assert.deepEqual(atB.map((e) => e.position), [1, 2, 3, 4, 5].map((offset) => ({ epoch: start.epoch, offset })));
    assert.deepEqual(atA.map((e) => e.position), atB.map((e) => e.position));
    assert.deepEqual(atB.map((e) => e.detail), [1, 2, 3, 4, 5].map(env));
    // A reader at 2 missed 3..5; with the stream's own (Redis) offsets.
    const recovery = await b.target.history!(TOPIC, { epoch: start.epoch, offset: 2 });
    assert.deepEqual(recovery, {
      epoch: start.epoch,
      from: 2,
      entries: [3, 4, 5].map((n) => ({ offset: n, value: env(n) })),
    });
    // Past maxLen (10): 30 more; a reader at 5 is told exactly how many it lost.
    for (let i = 6; i <= 35; i++) await a.target.publish(env(i));
    const late = await b.target.history!(TOPIC, { epoch: start.epoch, offset: 5 });
    assert.equal(late.entries.length, 10);
    assert.deepEqual(late.entries.map((e) => e.offset), [26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
    assert.equal(late.from, 25);
    assert.equal(late.missed, 20);
    // Another epoch: unknown loss.
    assert.equal((await b.target.history!(TOPIC, { epoch: "other", offset: 5 })).missed, null);
    // Redis holds one stream (MAXLEN ~ keeps at least 10) and one meta hash for the topic.
    const [stream, meta] = [`${prefix}{${TOPIC}}:stream`, `${prefix}{${TOPIC}}:meta`];
    assert.ok(Number(await admin.xlen(stream)) >= 10);
    assert.deepEqual(await admin.hgetall(meta), { e: start.epoch, n: "35" });
    assert.ok(Number(await admin.pttl(stream)) > 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await admin.del(`${prefix}{${TOPIC}}:stream`, `${prefix}{${TOPIC}}:meta`);
    await quitAll(admin);
  }
});

Deno.test("redis streams: a message on the channel without a position is reported, not delivered, and later ones still are", async () => {
  const prefix = uniquePrefix("streams-bad");
  const a = await targetWithClients({ prefix, streams: {} });
  const admin = await client();
  try {
    const events = collect(a.target);
    await a.target.ready(TOPIC);
    await admin.publish(prefix + TOPIC, JSON.stringify(env(1)));
    await admin.publish(prefix + TOPIC, "abc x " + JSON.stringify(env(1)));
    await a.target.publish(env(2));
    await waitFor(() => events.length === 1, 5000, "the valid event");
    assert.deepEqual(events[0].detail, env(2));
    assert.equal(a.collected.errors.length, 2);
    assert.ok(a.collected.errors.every((e) => e.error.code === "ERR_INVALID_ENVELOPE" && e.operation === "message"));
  } finally {
    await a.close();
    await admin.del(`${prefix}{${TOPIC}}:stream`, `${prefix}{${TOPIC}}:meta`);
    await quitAll(admin);
  }
});

Deno.test("redis streams: not with sharded pub/sub", async () => {
  const pub = await client();
  try {
    const { createRedisEventTarget } = await import("../../adapters/redis/mod.ts");
    assert.throws(
      () =>
        createRedisEventTarget({ publishClient: pub, subscribeClient: pub.duplicate(), sharded: true, streams: {} }),
      TypeError,
    );
  } finally {
    await quitAll(pub);
  }
});

conformance(
  "redis streams mode: two targets",
  () => redisPair(uniquePrefix("streams-conformance"), false, { streams: {} }),
);

Deno.test("redis streams: publishes of one tick are pipelined, and still all delivered in order after Redis loses the script", async () => {
  const server = new RedisServer(freePort());
  await server.start();
  const prefix = uniquePrefix("streams-noscript");
  const a = await targetWithClients({ prefix, streams: {}, url: server.url });
  const admin = await client(server.url);
  try {
    const events = collect(a.target);
    await a.target.ready(TOPIC);
    const tick = (from: number) => {
      for (let i = from; i < from + 3; i++) {
        a.target.dispatchEvent(new CustomEvent(TOPIC, { detail: env(i) }) as EnvelopeEvent);
      }
    };
    tick(1); // loads the script, one at a time
    await waitFor(() => events.length === 3, 5000, "the first 3");
    tick(4); // pipelined
    await waitFor(() => events.length === 6, 5000, "the next 3");
    await admin.script("FLUSH");
    tick(7); // NOSCRIPT in the pipeline: retried in order
    await waitFor(() => events.length === 9, 5000, "the last 3");
    assert.deepEqual(events.map((e) => e.detail.payload), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(events.map((e) => e.position!.offset), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(a.collected.errors, []);
  } finally {
    await a.close();
    await quitAll(admin);
    await server.kill();
  }
});
