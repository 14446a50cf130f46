import assert from "node:assert/strict";
import {
  CLOSE_EVENT,
  createPubSub,
  InProcessEventTarget,
  PubSubClosedError,
  PubSubError,
  SUBSCRIPTION_ERROR_EVENT,
  SubscriptionOverflowError,
  SubscriptionRefusedError,
  topicFor,
} from "../../mod.ts";

type Events = { tick: number; any: unknown };

Deno.test("createPubSub: default target delivers in process", async () => {
  const pubsub = createPubSub<Events>();
  const sub = pubsub.subscribe("tick", "a");
  await pubsub.ready("tick", "a");
  pubsub.publish("tick", "a", 1);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  pubsub.close();
});

Deno.test("createPubSub: two instances without a shared target are isolated", async () => {
  const a = createPubSub<Events>();
  const b = createPubSub<Events>();
  const sub = b.subscribe("tick", "x");
  a.publish("tick", "x", 1);
  b.publish("tick", "x", 2);
  assert.equal((await sub.next()).value, 2);
  a.close();
  b.close();
});

Deno.test("createPubSub: 10 000 subscribe/unsubscribe cycles by break, return, abort and close leave zero listeners", async () => {
  const eventTarget = new InProcessEventTarget();
  const pubsub = createPubSub<Events>({ eventTarget });
  for (let i = 0; i < 10_000; i++) {
    const id = String(i % 10);
    const way = i % 3;
    if (way === 0) {
      const sub = pubsub.subscribe("tick", id);
      pubsub.publish("tick", id, i);
      for await (const _ of sub) break;
    } else if (way === 1) {
      await pubsub.subscribe("tick", id).return();
    } else {
      const controller = new AbortController();
      pubsub.subscribe("tick", id, { signal: controller.signal });
      controller.abort();
    }
  }
  assert.equal(eventTarget.listenerCount(), 0);
  const other = createPubSub<Events>({ eventTarget });
  for (let i = 0; i < 100; i++) other.subscribe("tick", String(i));
  // 100 topic listeners and the pub/sub's one CLOSE_EVENT and one SUBSCRIPTION_ERROR_EVENT listener, held while it
  // has subscriptions.
  assert.equal(eventTarget.listenerCount(), 102);
  assert.equal(eventTarget.listenerCount(CLOSE_EVENT), 1);
  assert.equal(eventTarget.listenerCount(SUBSCRIPTION_ERROR_EVENT), 1);
  other.close();
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

Deno.test("createPubSub: a slow subscriber's overflow never throws at publish or disturbs others", async () => {
  const pubsub = createPubSub<Events>();
  const slow = pubsub.subscribe("tick", "a", { bufferSize: 4 });
  const fast = pubsub.subscribe("tick", "a", { bufferSize: 100 });
  for (let i = 0; i < 100; i++) pubsub.publish("tick", "a", i);
  for (let i = 0; i < 100; i++) assert.equal((await fast.next()).value, i);
  for (let i = 0; i < 4; i++) assert.equal((await slow.next()).value, i);
  await assert.rejects(slow.next(), SubscriptionOverflowError);
  pubsub.close();
});

Deno.test("createPubSub: subscriptionDefaults apply, per-call options win", async () => {
  const pubsub = createPubSub<Events>({ subscriptionDefaults: { bufferSize: 2, overflow: "drop-oldest" } });
  const byDefault = pubsub.subscribe("tick", "a");
  const overridden = pubsub.subscribe("tick", "a", { overflow: "drop-newest" });
  for (let i = 0; i < 5; i++) pubsub.publish("tick", "a", i);
  assert.deepEqual([(await byDefault.next()).value, (await byDefault.next()).value], [3, 4]);
  assert.deepEqual([(await overridden.next()).value, (await overridden.next()).value], [0, 1]);
  pubsub.close();
});

Deno.test("createPubSub: payloads arrive by reference, exactly as published", async () => {
  const pubsub = createPubSub<Events>();
  const sub = pubsub.subscribe("any", "p");
  const object = { a: 1 };
  const payloads = [null, undefined, 0, "", false, NaN, object];
  for (const p of payloads) pubsub.publish("any", "p", p);
  for (const p of payloads) assert.ok(Object.is((await sub.next()).value, p));
  pubsub.close();
});

Deno.test("createPubSub: close() drains buffered values then ends, and is idempotent", async () => {
  const pubsub = createPubSub<Events>();
  const sub = pubsub.subscribe("tick", "a");
  pubsub.publish("tick", "a", 1);
  pubsub.close();
  pubsub.close();
  assert.equal(pubsub.closed, true);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
  assert.throws(() => pubsub.publish("tick", "a", 2), (e: unknown) => {
    assert.ok(e instanceof PubSubClosedError && e instanceof PubSubError);
    assert.equal(e.code, "ERR_PUBSUB_CLOSED");
    assert.match(e.message, /Cannot publish "tick"/);
    return true;
  });
  assert.throws(() => pubsub.subscribe("tick", "a"), PubSubClosedError);
});

Deno.test("createPubSub: bad type or id are TypeErrors", () => {
  const pubsub = createPubSub<Events>();
  assert.throws(() => pubsub.publish("" as "tick", "a", 1), TypeError);
  assert.throws(() => pubsub.subscribe("tick", 5 as unknown as string), TypeError);
  pubsub.close();
});

Deno.test("createPubSub: works over a plain EventTarget and ignores foreign events", async () => {
  const eventTarget = new EventTarget();
  const pubsub = createPubSub<Events>({ eventTarget: eventTarget as InProcessEventTarget });
  const sub = pubsub.subscribe("tick", "a");
  eventTarget.dispatchEvent(new Event(topicFor("tick", "a"))); // no detail: ignored
  pubsub.publish("tick", "a", 3);
  assert.equal((await sub.next()).value, 3);
  pubsub.close();
});

Deno.test("createPubSub: the target's CLOSE_EVENT ends subscriptions after their buffered values", async () => {
  const eventTarget = new InProcessEventTarget();
  const pubsub = createPubSub<Events>({ eventTarget });
  const sub = pubsub.subscribe("tick", "a");
  const waiting = pubsub.subscribe("tick", "b");
  const pending = waiting.next();
  pubsub.publish("tick", "a", 1);
  eventTarget.dispatchEvent(new CustomEvent(CLOSE_EVENT, { detail: { type: "x", id: "", payload: null } }));
  assert.equal(pubsub.closed, true);
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
  assert.throws(() => pubsub.publish("tick", "a", 2), { name: "PubSubClosedError", message: /transport closed/ });
  assert.equal(eventTarget.listenerCount(), 0);
});

Deno.test("createPubSub: 10 000 refused topics among 20 000 subscriptions end in time linear in their number", async () => {
  const eventTarget = new InProcessEventTarget();
  const pubsub = createPubSub<Events>({ eventTarget });
  const subs = Array.from({ length: 20_000 }, (_, i) => pubsub.subscribe("tick", String(i)));
  const start = performance.now();
  for (let i = 10_000; i < 20_000; i++) {
    const topic = topicFor("tick", String(i));
    const detail = { topic, error: new SubscriptionRefusedError(topic, "too-many-subscriptions") };
    eventTarget.dispatchEvent(new CustomEvent(SUBSCRIPTION_ERROR_EVENT, { detail }) as never);
  }
  const elapsed = performance.now() - start;
  // About 0.25 s here; scanning every subscription per refusal took 15 s.
  assert.ok(elapsed < 5000, `${Math.round(elapsed)} ms`);
  await assert.rejects(subs[19_999].next(), { reason: "too-many-subscriptions" });
  assert.equal(eventTarget.listenerCount("tick:0"), 1);
  assert.equal(eventTarget.listenerCount("tick:10000"), 0);
  pubsub.close();
  assert.equal(eventTarget.listenerCount(), 0);
});
