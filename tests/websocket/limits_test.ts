/**
 * The routing table under churn and at its limits (issue 11): subscriptions
 * per connection and topic length, each refused with a typed reason while the
 * hub keeps serving everyone else; nothing left behind after churn.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSubError, type Subscription, SubscriptionRefusedError } from "../../mod.ts";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, countingWebSocket, handshake, opened, startHub, until } from "./helpers.ts";

type Events = { churn: number; many: number; other: number; sync: number; news: number };

Deno.test("websocket limits: 10,000 subscribe/unsubscribe cycles leave the hub with 0 topics and 0 subscriptions", async () => {
  // An asynchronous authorize: many answers arrive after the spoke has already withdrawn the topic.
  const server = startHub({ authorize: () => new Promise((resolve) => setTimeout(() => resolve(true), 0)) });
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  try {
    await spoke.ready("");
    for (let i = 0; i < 10_000; i++) {
      const id = String(i % 499);
      const sub = atSpoke.subscribe("churn", id);
      // Some are live before they end. (Few: an unsub then a sub, two small writes, wait ~40 ms for a delayed ACK.)
      if (i % 500 === 0) await atSpoke.ready("churn", id);
      await sub.return();
      // The hub's own listeners churn too.
      if (i % 10 === 0) await atHub.subscribe("churn", String(i % 7)).return();
    }
    // A barrier: the hub answers in order, so once sync:1 is acknowledged it has handled every frame before it.
    const sync = atSpoke.subscribe("sync", "1");
    await atSpoke.ready("sync", "1");
    await new Promise((resolve) => setTimeout(resolve, 20)); // late authorize answers for withdrawn topics
    let stats = server.hub.stats();
    assert.equal(stats.topics, 1, "only sync:1 is left");
    assert.equal(stats.subscriptions, 1);
    assert.equal(server.connections[0].topics, 1);
    assert.equal(wire.sent.filter((f) => f.startsWith('["sub","churn:')).length, 10_000);
    assert.equal(wire.sent.filter((f) => f.startsWith('["unsub","churn:')).length, 10_000);
    assert.equal(wire.received.length, 0, "no data frame for any churned topic");
    await sync.return();
    await until(() => server.hub.stats().subscriptions === 0, 5000, "sync:1 to be withdrawn");
    stats = server.hub.stats();
    assert.equal(stats.topics, 0);
    assert.equal(stats.subscriptions, 0);
    assert.equal(spoke.stats().topics, 0);
    assert.equal(spoke.listenerCount(), 0);
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket limits: a spoke past maxSubscriptionsPerConnection gets typed refusals; the hub serves others", async () => {
  const server = startHub(); // the default limit: 4096
  const errors: PubSubError[] = [];
  const greedy = connectWebSocketEventTarget(server.url, { onError: (error) => errors.push(error) });
  const other = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atGreedy = createPubSub<Events>({ eventTarget: greedy });
  const atOther = createPubSub<Events>({ eventTarget: other });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  // Past the default limit. (With 100k, the ~10 MB of refusals the hub writes to one spoke in this one process pass
  // its 8 MiB high-water mark, and it closes the spoke as a slow consumer.)
  const total = 12_000;
  const subs: Subscription<number>[] = [];
  const otherNews = atOther.subscribe("other", "1");
  try {
    await atOther.ready("other", "1");
    for (let i = 0; i < total; i++) subs.push(atGreedy.subscribe("many", String(i)));
    const readiness = await Promise.allSettled(subs.map((_, i) => atGreedy.ready("many", String(i))));
    const refused = readiness.filter((r) => r.status === "rejected");
    assert.equal(refused.length, total - 4096);
    for (const r of refused) {
      const reason = (r as PromiseRejectedResult).reason;
      assert.ok(reason instanceof SubscriptionRefusedError);
      assert.equal(reason.code, "ERR_SUBSCRIPTION_REFUSED");
      assert.equal(reason.reason, "too-many-subscriptions");
    }
    // The first 4096 are live; the rest ended with the refusal.
    assert.ok(readiness.slice(0, 4096).every((r) => r.status === "fulfilled"));
    await assert.rejects(subs[total - 1].next(), { reason: "too-many-subscriptions" });
    assert.equal(errors.filter((e) => e instanceof SubscriptionRefusedError).length, total - 4096);
    let stats = server.hub.stats();
    assert.equal(stats.subscriptions, 4096 + 1);
    assert.equal(stats.refusedSubscribes, total - 4096);

    // The greedy connection stays open and its live topics still get events; the other spoke is served.
    atHub.publish("many", "0", 1);
    assert.deepEqual(await nextWithin(subs[0], 5000), { value: 1, done: false });
    atGreedy.publish("other", "1", 2);
    atHub.publish("other", "1", 3);
    // Two publishers: no order between them.
    const got = [(await nextWithin(otherNews, 5000)).value, (await nextWithin(otherNews, 5000)).value];
    assert.deepEqual(got.sort(), [2, 3]);
    assert.equal(greedy.state, "open");

    // Releasing some makes room again.
    for (const sub of subs.slice(0, 100)) await sub.return();
    const again = atGreedy.subscribe("many", "again");
    await atGreedy.ready("many", "again");
    stats = server.hub.stats();
    assert.equal(stats.subscriptions, 4096 - 100 + 1 + 1);
    await again.return();
  } finally {
    await otherNews.return();
    atHub.close();
    atGreedy.close();
    atOther.close();
    greedy.close();
    other.close();
    await Promise.all([greedy.closed, other.closed]);
    await server.close();
  }
});

Deno.test("websocket limits: a topic longer than maxTopicLength is refused, the connection stays", async (t) => {
  await t.step("the default limit, 1024", async () => {
    const server = startHub();
    const wire = countingWebSocket();
    const spoke = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
    const pubsub = createPubSub<Events>({ eventTarget: spoke });
    const atHub = createPubSub<Events>({ eventTarget: server.hub });
    const long = "x".repeat(1100);
    const tooLong = pubsub.subscribe("news", long);
    const fits = pubsub.subscribe("news", "x".repeat(1000));
    try {
      await assert.rejects(pubsub.ready("news", long), { code: "ERR_SUBSCRIPTION_REFUSED", reason: "topic-too-long" });
      await assert.rejects(tooLong.next(), SubscriptionRefusedError);
      await pubsub.ready("news", "x".repeat(1000));
      atHub.publish("news", long, 1);
      atHub.publish("news", "x".repeat(1000), 2);
      assert.deepEqual(await nextWithin(fits, 5000), { value: 2, done: false });
      assert.equal(wire.received.length, 1);
      assert.equal(spoke.state, "open");
    } finally {
      await fits.return();
      atHub.close();
      pubsub.close();
      spoke.close();
      await spoke.closed;
      await server.close();
    }
  });

  await t.step("a lower limit; and a string that is no topic, from a raw socket", async () => {
    const server = startHub({ maxTopicLength: 16, maxSubscriptionsPerConnection: 2 });
    const raw = new WebSocket(server.url);
    const received: string[] = [];
    raw.addEventListener("message", (e) => received.push(String(e.data)));
    try {
      await opened(raw);
      await handshake(raw);
      raw.send('["sub","news:0123456789abcdef"]'); // 21 characters
      raw.send('["sub","no topic"]');
      raw.send('["sub","news:1"]');
      raw.send('["sub","news:1"]'); // a repeat is acknowledged again, and holds one slot
      raw.send('["sub","news:2"]');
      raw.send('["sub","news:3"]');
      await until(() => received.length === 7, 5000, "seven answers");
      assert.equal(received[0], '["welcome",2]');
      const answers = received.slice(1).map((f) => JSON.parse(f));
      assert.deepEqual(answers.map((a) => a.slice(0, 3)), [
        ["subrefused", "news:0123456789abcdef", "topic-too-long"],
        ["subrefused", "no topic", "invalid-topic"],
        ["suback", "news:1"],
        ["suback", "news:1"],
        ["suback", "news:2"],
        ["subrefused", "news:3", "too-many-subscriptions"],
      ]);
      assert.ok(answers.filter((a) => a[0] === "subrefused").every((a) => typeof a[3] === "string" && a[3] !== ""));
      assert.equal(raw.readyState, WebSocket.OPEN);
      assert.equal(server.hub.stats().subscriptions, 2);
    } finally {
      const done = closedEvent(raw);
      raw.close();
      await done;
      await server.close();
    }
  });
});
