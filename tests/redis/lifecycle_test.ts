import assert from "node:assert/strict";
import { createPubSub, EnvelopeError, type EnvelopeEvent, PubSubClosedError, topicFor } from "../../mod.ts";
import {
  createRedisEventTarget,
  RedisConnectionError,
  type RedisStateChange,
  RedisSubscribeError,
} from "../../adapters/redis/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { client, quitAll, targetWithClients, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { greet: string; seq: number };

const CLIENT_EVENTS = [
  "message",
  "messageBuffer",
  "smessage",
  "smessageBuffer",
  "ready",
  "close",
  "reconnecting",
  "end",
];

async function numsub(redis: { pubsub(...args: string[]): Promise<unknown> }, channels: string[]): Promise<number> {
  if (channels.length === 0) return 0;
  const reply = (await redis.pubsub("NUMSUB", ...channels)) as (string | number)[];
  let total = 0;
  for (let i = 1; i < reply.length; i += 2) total += Number(reply[i]);
  return total;
}

Deno.test("redis: two prefixes on one Redis see nothing of each other", async () => {
  const [one, two] = await Promise.all([
    targetWithClients({ prefix: uniquePrefix("iso-one") }),
    targetWithClients({ prefix: uniquePrefix("iso-two") }),
  ]);
  const p1 = createPubSub<Events>({ eventTarget: one.target });
  const p2 = createPubSub<Events>({ eventTarget: two.target });
  try {
    const s1 = p1.subscribe("greet", "same");
    const s2 = p2.subscribe("greet", "same");
    await Promise.all([p1.ready("greet", "same"), p2.ready("greet", "same")]);
    p1.publish("greet", "same", "for one");
    p2.publish("greet", "same", "for two");
    assert.deepEqual(await nextWithin(s1, 5000), { value: "for one", done: false });
    assert.deepEqual(await nextWithin(s2, 5000), { value: "for two", done: false });
    // Sentinels: had a foreign event arrived, it would come before these.
    p1.publish("greet", "same", "end one");
    p2.publish("greet", "same", "end two");
    assert.deepEqual(await nextWithin(s1, 5000), { value: "end one", done: false });
    assert.deepEqual(await nextWithin(s2, 5000), { value: "end two", done: false });
    assert.equal(one.collected.errors.length + two.collected.errors.length, 0);
    await Promise.all([s1.return(undefined), s2.return(undefined)]);
  } finally {
    p1.close();
    p2.close();
    await Promise.all([one.close(), two.close()]);
  }
});

for (const sharded of [false, true]) {
  Deno.test(`redis: 10 000 subscribe/unsubscribe cycles leave no subscription and no listener${sharded ? " (sharded)" : ""}`, async () => {
    const prefix = uniquePrefix("cycles");
    const [pub, sub, admin] = await Promise.all([client(), client(), client()]);
    const before = CLIENT_EVENTS.map((e) => sub.listenerCount(e) + pub.listenerCount(e));
    const target = createRedisEventTarget({
      publishClient: pub,
      subscribeClient: sub,
      prefix,
      sharded,
      onError: () => {},
    });
    const pubsub = createPubSub<Events>({ eventTarget: target });
    const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`);
    const channels = ids.map((id) => prefix + topicFor("seq", id));
    try {
      for (let cycle = 0; cycle < 10_000; cycle++) {
        const id = ids[cycle % ids.length];
        const s = pubsub.subscribe("seq", id);
        // Every 7th cycle waits for the SUBSCRIBE; the others overlap with the previous commands.
        if (cycle % 7 === 0) await pubsub.ready("seq", id);
        await s.return(undefined);
      }
      // The channels still work after all that churn.
      const last = pubsub.subscribe("seq", "id-3");
      await pubsub.ready("seq", "id-3");
      pubsub.publish("seq", "id-3", 42);
      assert.deepEqual(await nextWithin(last, 5000), { value: 42, done: false });
      await last.return(undefined);
      assert.equal(target.listenerCount(), 0);
      const count = sharded
        ? async () => {
          const reply = (await admin.call("PUBSUB", "SHARDNUMSUB", ...channels)) as (string | number)[];
          return reply.filter((_, i) => i % 2 === 1).reduce((a: number, n) => a + Number(n), 0);
        }
        : () => numsub(admin, channels);
      await waitFor(async () => (await count()) === 0, 10_000, "every channel to be unsubscribed");
    } finally {
      pubsub.close();
      await target.close();
    }
    assert.deepEqual(
      CLIENT_EVENTS.map((e) => sub.listenerCount(e) + pub.listenerCount(e)),
      before,
      "no adapter listener left on either client",
    );
    assert.equal(sub.status, "ready", "close() does not quit a client it did not create");
    await quitAll(pub, sub, admin);
  });
}

Deno.test("redis: overlapping subscribe and unsubscribe settle on the last intent", async () => {
  const prefix = uniquePrefix("overlap");
  const side = await targetWithClients({ prefix });
  const admin = await client();
  const channel = prefix + topicFor("greet", "o");
  const l1 = (): void => {};
  const l2 = (): void => {};
  try {
    // add, remove, add without waiting: must end subscribed.
    side.target.addEventListener(topicFor("greet", "o"), l1);
    side.target.removeEventListener(topicFor("greet", "o"), l1);
    side.target.addEventListener(topicFor("greet", "o"), l2);
    await side.target.ready(topicFor("greet", "o"));
    assert.equal(await numsub(admin, [channel]), 1);
    // remove, add, remove without waiting: must end unsubscribed.
    side.target.removeEventListener(topicFor("greet", "o"), l2);
    side.target.addEventListener(topicFor("greet", "o"), l1);
    side.target.removeEventListener(topicFor("greet", "o"), l1);
    await waitFor(async () => (await numsub(admin, [channel])) === 0, 5000, "the UNSUBSCRIBE");
    // A `once` listener unsubscribes after its event; an aborted signal too.
    const got: unknown[] = [];
    side.target.addEventListener(topicFor("greet", "o"), (e) => got.push(e.detail.payload), { once: true });
    const controller = new AbortController();
    side.target.addEventListener(topicFor("greet", "x"), l1, { signal: controller.signal });
    await Promise.all([side.target.ready(topicFor("greet", "o")), side.target.ready(topicFor("greet", "x"))]);
    assert.equal(await numsub(admin, [channel, prefix + topicFor("greet", "x")]), 2);
    await side.target.publish({ type: "greet", id: "o", payload: "once" });
    controller.abort();
    await waitFor(() => got.length === 1, 5000, "the once event");
    await waitFor(
      async () => (await numsub(admin, [channel, prefix + topicFor("greet", "x")])) === 0,
      5000,
      "the UNSUBSCRIBEs",
    );
  } finally {
    await side.close();
    await quitAll(admin);
  }
});

Deno.test("redis: publish() reports receivers, onPublished too; dispatch checks the envelope", async () => {
  const prefix = uniquePrefix("receivers");
  const published: number[] = [];
  const a = await targetWithClients({ prefix, onPublished: (receivers) => published.push(receivers) });
  const b = await targetWithClients({ prefix });
  try {
    assert.equal(await a.target.publish({ type: "greet", id: "r", payload: "nobody" }), 0);
    b.target.addEventListener(topicFor("greet", "r"), () => {});
    await b.target.ready(topicFor("greet", "r"));
    assert.equal(await a.target.publish({ type: "greet", id: "r", payload: "one" }), 1);
    a.target.dispatchEvent(new CustomEvent(topicFor("greet", "r"), { detail: { type: "greet", id: "r", payload: 1 } }));
    await waitFor(() => published.length === 3, 5000, "onPublished");
    assert.deepEqual(published, [0, 1, 1]);
    assert.throws(
      () => a.target.dispatchEvent(new CustomEvent("greet:r", { detail: { type: "greet", id: "s", payload: 1 } })),
      EnvelopeError,
    );
    assert.throws(() => a.target.publish({ type: "", id: "x", payload: 1 }), EnvelopeError);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("redis: ready(), state and local-only event names", async () => {
  const prefix = uniquePrefix("ready");
  const side = await targetWithClients({ prefix });
  const admin = await client();
  try {
    assert.equal(side.target.state, "ready");
    await side.target.ready("nobody:listens"); // no listener: resolves at once
    const states: RedisStateChange[] = [];
    side.target.addEventListener("state", (e) => states.push((e as unknown as CustomEvent<RedisStateChange>).detail));
    const local: unknown[] = [];
    side.target.addEventListener("custom", (e: EnvelopeEvent) => local.push(e.detail));
    side.target.dispatchEvent(new CustomEvent("custom", { detail: { type: "x", id: "1", payload: 1 } }));
    assert.equal(local.length, 1);
    // Local-only names never reach Redis.
    const channels = (await admin.pubsub("CHANNELS", `${prefix}*`)) as string[];
    assert.deepEqual(channels, []);
    side.target.addEventListener("greet:pending", () => {});
    const pending = assert.rejects(side.target.ready("greet:pending"), PubSubClosedError);
    await side.target.close();
    await pending;
    await assert.rejects(side.target.ready("greet:pending"), PubSubClosedError);
    assert.throws(() => side.target.publish({ type: "greet", id: "1", payload: 1 }), PubSubClosedError);
    assert.equal(side.target.state, "closed");
    assert.deepEqual(states.at(-1), { state: "closed", previous: "ready" });
  } finally {
    await side.close();
    await quitAll(admin);
  }
});

Deno.test("redis: without a subscribe client the target duplicates the publish client and quits it on close", async () => {
  const prefix = uniquePrefix("duplicate");
  const pub = await client();
  const target = createRedisEventTarget({ publishClient: pub, prefix, onError: () => {} });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  try {
    const s = pubsub.subscribe("greet", "d");
    await pubsub.ready("greet", "d");
    pubsub.publish("greet", "d", "dup");
    assert.deepEqual(await nextWithin(s, 5000), { value: "dup", done: false });
  } finally {
    pubsub.close();
    await target.close();
  }
  assert.equal(pub.status, "ready");
  assert.throws(() => createRedisEventTarget({ publishClient: pub, subscribeClient: pub }), TypeError);
  await quitAll(pub);
});

Deno.test("redis: when the subscribe client ends, state is ended and ready() rejects", async () => {
  const prefix = uniquePrefix("ended");
  const side = await targetWithClients({ prefix });
  try {
    await side.sub.quit();
    await waitFor(() => side.target.state === "ended", 5000, "the ended state");
    assert.ok(side.collected.errors.some(({ error }) => error instanceof RedisConnectionError));
    side.target.addEventListener(topicFor("greet", "e"), () => {});
    await assert.rejects(side.target.ready(topicFor("greet", "e")), RedisSubscribeError);
    // Asked again, it still tells the truth at once.
    await assert.rejects(side.target.ready(topicFor("greet", "e")), RedisSubscribeError);
    assert.ok(side.collected.errors.some(({ error }) => error instanceof RedisSubscribeError));
  } finally {
    await side.close();
  }
});

Deno.test("redis: close() dispatches close once and a for await over a pub/sub subscription ends", async () => {
  const prefix = uniquePrefix("close");
  const side = await targetWithClients({ prefix });
  let closes = 0;
  side.target.addEventListener("close", () => closes++);
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const greets = pubsub.subscribe("greet", "c");
    await pubsub.ready("greet", "c");
    pubsub.publish("greet", "c", "before");
    const seen: string[] = [];
    const reading = (async () => {
      for await (const value of greets) {
        seen.push(value);
        if (seen.length === 1) void side.target.close();
      }
      return seen;
    })();
    assert.deepEqual(await reading, ["before"]);
    assert.equal(pubsub.closed, true);
    assert.throws(() => pubsub.publish("greet", "c", "after"), {
      code: "ERR_PUBSUB_CLOSED",
      message: /transport closed/,
    });
    await side.target.close();
    assert.equal(closes, 1);
    assert.equal(side.target.state, "closed");
  } finally {
    pubsub.close();
    await side.close();
  }
  assert.equal(closes, 1);
});

/** `promise`, or a rejection after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Nothing within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

for (const how of ["quit", "disconnect"] as const) {
  Deno.test(`redis: the subscribe client's ${how}() ends a pub/sub's subscriptions; the target does not resume`, async () => {
    const prefix = uniquePrefix(`end-${how}`);
    const side = await targetWithClients({ prefix });
    const states: string[] = [];
    let closes = 0;
    side.target.addEventListener(
      "state",
      (e) => states.push((e as unknown as CustomEvent<RedisStateChange>).detail.state),
    );
    side.target.addEventListener("close", () => {
      // Dispatched last: the state and the error are already there.
      assert.equal(side.target.state, "ended");
      closes++;
    });
    const pubsub = createPubSub<Events>({ eventTarget: side.target });
    try {
      const greets = pubsub.subscribe("greet", "q");
      const other = pubsub.subscribe("seq", "q");
      await Promise.all([pubsub.ready("greet", "q"), pubsub.ready("seq", "q")]);
      const pending = greets.next();
      if (how === "quit") await side.sub.quit();
      else side.sub.disconnect();
      assert.deepEqual(await within(pending, 5000), { value: undefined, done: true });
      assert.deepEqual(await other.next(), { value: undefined, done: true });
      assert.equal(pubsub.closed, true);
      assert.equal(closes, 1);
      assert.equal(side.target.state, "ended");
      assert.equal(side.target.listenerCount("greet:q"), 0);
      // Only the end of the connection is reported: the subscriptions that ended need no UNSUBSCRIBE.
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(side.collected.errors.map(({ error }) => error.constructor), [RedisConnectionError]);
      if (how === "disconnect") {
        // Ended is final: connecting the client again does not bring the target back.
        await side.sub.connect();
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(side.target.state, "ended");
      }
      await side.target.close();
      assert.equal(closes, 1, "close() after the end dispatches no second close");
      assert.deepEqual(states.slice(-2), ["ended", "closed"]);
    } finally {
      pubsub.close();
      await side.close();
    }
  });
}
