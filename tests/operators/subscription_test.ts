/** Operators over real subscriptions: listeners are released as soon as the operators are done with them. */

import assert from "node:assert/strict";
import {
  batch,
  chain,
  createPubSub,
  dedupe,
  filter,
  flat,
  groupBy,
  InProcessEventTarget,
  join,
  map,
  pipe,
  reduce,
  take,
  toArray,
  topicFor,
  window,
} from "../../mod.ts";
import { within } from "./helpers.ts";

type Events = { job: { id: number; done: boolean }; chat: string };

function setup() {
  const eventTarget = new InProcessEventTarget();
  const pubsub = createPubSub<Events>({ eventTarget });
  return { eventTarget, pubsub };
}

Deno.test("subscription: pipe(subscribe, filter, take(1)) releases the listener as soon as the value is taken", async () => {
  const { eventTarget, pubsub } = setup();
  const topic = topicFor("job", "7");
  const done = pipe(pubsub.subscribe("job", "7"), filter((j) => j.done), take(1));
  assert.equal(eventTarget.listenerCount(topic), 1);
  pubsub.publish("job", "7", { id: 1, done: false });
  pubsub.publish("job", "7", { id: 2, done: true });
  pubsub.publish("job", "7", { id: 3, done: true });
  const first = await within(done.next());
  assert.deepEqual(first, { value: { id: 2, done: true }, done: false });
  assert.equal(eventTarget.listenerCount(topic), 0); // released before the value was handed on
  assert.deepEqual(await done.next(), { value: undefined, done: true });
  pubsub.close();
});

Deno.test("subscription: the same with for await and a value published later", async () => {
  const { eventTarget, pubsub } = setup();
  const stream = pipe(pubsub.subscribe("job", "8"), filter((j) => j.done), map((j) => j.id), take(1));
  setTimeout(() => {
    pubsub.publish("job", "8", { id: 1, done: false });
    pubsub.publish("job", "8", { id: 2, done: true });
  }, 5);
  for await (const id of stream) {
    assert.equal(id, 2);
    assert.equal(eventTarget.listenerCount(), 0);
  }
  pubsub.close();
});

Deno.test("subscription: take(0) closes the subscription on the first next()", async () => {
  const { eventTarget, pubsub } = setup();
  const sub = pubsub.subscribe("chat", "room");
  const none = pipe(sub, take(0));
  assert.equal(eventTarget.listenerCount(topicFor("chat", "room")), 1);
  assert.deepEqual(await none.next(), { value: undefined, done: true });
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

for (
  const [name, make] of [
    ["filter", (s: AsyncIterable<string>) => pipe(s, filter(() => true))],
    ["map", (s: AsyncIterable<string>) => pipe(s, map((x) => x))],
    ["filter + map + take", (s: AsyncIterable<string>) => pipe(s, filter(() => true), map((x) => x), take(2))],
    ["batch", (s: AsyncIterable<string>) => pipe(s, batch(2, { maxWait: 10 }))],
    ["groupBy", (s: AsyncIterable<string>) => pipe(s, groupBy((x) => x))],
    ["chain", (s: AsyncIterable<string>) => pipe(s, chain(["x"]))],
    ["flat", (s: AsyncIterable<string>) => pipe(s, flat())],
    ["dedupe", (s: AsyncIterable<string>) => pipe(s, dedupe())],
    ["window", (s: AsyncIterable<string>) => pipe(s, window(2))],
    ["reduce", (s: AsyncIterable<string>) => pipe(s, reduce((a, b) => a + b, ""))],
    ["toArray", (s: AsyncIterable<string>) => pipe(s, toArray())],
    ["pipe alone", (s: AsyncIterable<string>) => pipe(s)],
  ] as const
) {
  for (const how of ["return", "throw"] as const) {
    Deno.test(`subscription: ${how}() on ${name} before its first next() releases the subscription`, async () => {
      const { eventTarget, pubsub } = setup();
      const stream = make(pubsub.subscribe("chat", "room")) as AsyncIterator<unknown>;
      assert.equal(eventTarget.listenerCount(topicFor("chat", "room")), 1);
      if (how === "return") assert.deepEqual(await stream.return!(), { value: undefined, done: true });
      else await assert.rejects(stream.throw!(new Error("stop")), /stop/);
      assert.equal(eventTarget.listenerCount(topicFor("chat", "room")), 0);
      pubsub.close();
    });
  }
}

Deno.test("subscription: join closes every subscription on return() before its first next()", async () => {
  const { eventTarget, pubsub } = setup();
  const both = pipe(pubsub.subscribe("chat", "a"), join(pubsub.subscribe("chat", "b")));
  await both.return();
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

Deno.test("subscription: breaking a join of two subscriptions releases both listeners", async () => {
  const { eventTarget, pubsub } = setup();
  const both = pipe(pubsub.subscribe("chat", "a"), join(pubsub.subscribe("chat", "b")));
  // Two topics, and the pub/sub's close and subscription-error listeners.
  assert.equal(eventTarget.listenerCount(), 4);
  setTimeout(() => pubsub.publish("chat", "b", "hello"), 1);
  for await (const message of both) {
    assert.equal(message, "hello");
    break;
  }
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

Deno.test("subscription: batch with maxWait over a subscription, then return() clears timer and listener", async () => {
  const { eventTarget, pubsub } = setup();
  const batches = pipe(pubsub.subscribe("chat", "log"), batch(3, { maxWait: 10 }));
  const first = batches.next();
  pubsub.publish("chat", "log", "a");
  pubsub.publish("chat", "log", "b");
  assert.deepEqual(await within(first), { value: ["a", "b"], done: false });
  const second = batches.next();
  pubsub.publish("chat", "log", "c");
  pubsub.publish("chat", "log", "d");
  pubsub.publish("chat", "log", "e");
  assert.deepEqual(await within(second), { value: ["c", "d", "e"], done: false });
  const third = batches.next();
  pubsub.publish("chat", "log", "f"); // starts a timer
  await batches.return();
  assert.deepEqual(await third, { value: undefined, done: true });
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

Deno.test("subscription: groupBy over a subscription releases it when the outer iterator and groups close", async () => {
  const { eventTarget, pubsub } = setup();
  const groups = pipe(pubsub.subscribe("job", "all"), groupBy((j) => j.id));
  const firstGroup = groups.next();
  pubsub.publish("job", "all", { id: 1, done: false });
  pubsub.publish("job", "all", { id: 1, done: true });
  const group = (await within(firstGroup)).value!;
  assert.equal(group.key, 1);
  const values = [];
  for await (const job of group) {
    values.push(job.done);
    if (job.done) break;
  }
  assert.deepEqual(values, [false, true]);
  // The outer iterator is still open: its topic, and the pub/sub's close and subscription-error listeners.
  assert.equal(eventTarget.listenerCount(), 3);
  await groups.return();
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

Deno.test("subscription: pubsub.close() ends a pipeline gracefully", async () => {
  const { eventTarget, pubsub } = setup();
  const stream = pipe(pubsub.subscribe("chat", "x"), map((s) => s.toUpperCase()), batch(10));
  pubsub.publish("chat", "x", "a");
  const pending = stream.next();
  setTimeout(() => pubsub.close(), 1);
  assert.deepEqual(await within(pending), { value: ["A"], done: false });
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  assert.equal(eventTarget.listenerCount(), 0);
});
