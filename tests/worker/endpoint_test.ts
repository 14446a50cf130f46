/**
 * The adapter over MessageChannel ports in one thread: clone failures, bad
 * input from the other side (driven through the real decoder over a real
 * port), transfer, and close/ownership.
 */

import assert from "node:assert/strict";
import { createPubSub, EnvelopeError, PubSubClosedError, type PubSubError } from "../../mod.ts";
import {
  createWorkerEventTarget,
  WIRE_TAG,
  WorkerCloneError,
  type WorkerCloseDetail,
} from "../../adapters/worker/mod.ts";
import { nextWithin } from "../../testing/mod.ts";

const MS = 5000;

type Events = { job: unknown; other: unknown };

function pair(options: { batch?: boolean } = {}) {
  const { port1, port2 } = new MessageChannel();
  const errorsA: PubSubError[] = [];
  const errorsB: PubSubError[] = [];
  const targetA = createWorkerEventTarget(port1, { ...options, onError: (e) => errorsA.push(e) });
  const targetB = createWorkerEventTarget(port2, { ...options, onError: (e) => errorsB.push(e) });
  const a = createPubSub<Events>({ eventTarget: targetA });
  const b = createPubSub<Events>({ eventTarget: targetB });
  return {
    port1,
    port2,
    targetA,
    targetB,
    a,
    b,
    errorsA,
    errorsB,
    close() {
      a.close();
      b.close();
      targetA.close();
      targetB.close();
      port1.close();
      port2.close();
    },
  };
}

Deno.test("worker: a payload that cannot be cloned throws at publish and the target keeps working", async () => {
  const p = pair();
  try {
    const remote = p.b.subscribe("job", "1");
    const own = p.a.subscribe("job", "1");
    for (const bad of [() => "a function", Symbol("s"), { nested: new WeakMap() }]) {
      assert.throws(() => p.a.publish("job", "1", bad), (error: unknown) => {
        assert.ok(error instanceof WorkerCloneError);
        assert.equal(error.code, "ERR_WORKER_DATA_CLONE");
        assert.equal(error.type, "job");
        assert.equal(error.id, "1");
        assert.match(error.message, /^Cannot send "job" with id "1" to the other thread: the payload cannot be cloned/);
        assert.equal((error.cause as Error).name, "DataCloneError");
        return true;
      });
    }
    p.a.publish("job", "1", "fine");
    // Neither side saw the bad payloads: the next value is the good one, on both.
    assert.deepEqual(await nextWithin(own, MS), { value: "fine", done: false });
    assert.deepEqual(await nextWithin(remote, MS), { value: "fine", done: false });
    assert.deepEqual([...p.errorsA, ...p.errorsB], []);
  } finally {
    p.close();
  }
});

Deno.test("worker: with batch, an uncloneable payload is reported and the rest of the batch arrives in order", async () => {
  const p = pair({ batch: true });
  try {
    const remote = p.b.subscribe("job", "1");
    p.a.publish("job", "1", 1);
    p.a.publish("job", "1", () => "a function"); // does not throw: found at the flush
    p.a.publish("job", "1", 3);
    assert.deepEqual(await nextWithin(remote, MS), { value: 1, done: false });
    assert.deepEqual(await nextWithin(remote, MS), { value: 3, done: false });
    assert.equal(p.errorsA.length, 1);
    assert.ok(p.errorsA[0] instanceof WorkerCloneError);
    assert.equal(p.errorsA[0].code, "ERR_WORKER_DATA_CLONE");
  } finally {
    p.close();
  }
});

Deno.test("worker: foreign messages are ignored; malformed tagged ones are reported and others still arrive", async () => {
  const { port1, port2 } = new MessageChannel();
  const errors: PubSubError[] = [];
  const target = createWorkerEventTarget(port2, { onError: (e) => errors.push(e) });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  try {
    const sub = pubsub.subscribe("job", "1");
    const other = pubsub.subscribe("other", "1");
    // Someone else's traffic on a shared port: silently ignored.
    for (const foreign of ["hello", 42, null, { type: "job", id: "1", payload: "x" }, ["not the tag", "job", "1", 0]]) {
      port1.postMessage(foreign);
    }
    // Tagged but malformed: each reported as an EnvelopeError.
    port1.postMessage([WIRE_TAG]); // no triple
    port1.postMessage([WIRE_TAG, "job", "1"]); // a partial triple
    port1.postMessage([WIRE_TAG, "", "1", "empty type"]);
    port1.postMessage([WIRE_TAG, "job", 1, "numeric id"]);
    // One bad triple among good ones: the good ones still arrive, on their own topics only.
    port1.postMessage([WIRE_TAG, "job", "1", "first", 5, "1", "bad type", "other", "1", "second"]);
    port1.postMessage([WIRE_TAG, "job", "1", "last"]);
    assert.deepEqual(await nextWithin(sub, MS), { value: "first", done: false });
    assert.deepEqual(await nextWithin(sub, MS), { value: "last", done: false });
    assert.deepEqual(await nextWithin(other, MS), { value: "second", done: false });
    assert.equal(errors.length, 5);
    for (const error of errors) {
      assert.ok(error instanceof EnvelopeError, String(error));
      assert.equal(error.code, "ERR_INVALID_ENVELOPE");
    }
    assert.match(errors[0].message, /got 1 items/);
    assert.match(errors[1].message, /got 3 items/);
    assert.match(errors[2].message, /type to be a non-empty string, got ""/);
    assert.match(errors[3].message, /id to be a string, got 1/);
    assert.match(errors[4].message, /type to be a non-empty string, got 5/);
    assert.equal(sub.buffered + other.buffered, 0);
  } finally {
    pubsub.close();
    target.close();
    port1.close();
    port2.close();
  }
});

Deno.test("worker: a throwing onError does not break delivery", async () => {
  const { port1, port2 } = new MessageChannel();
  const original = console.error;
  const logged: unknown[] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  const target = createWorkerEventTarget(port2, {
    onError: () => {
      throw new Error("onError failure (expected by the test)");
    },
  });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  try {
    const sub = pubsub.subscribe("job", "1");
    port1.postMessage([WIRE_TAG, "", "1", 0]);
    port1.postMessage([WIRE_TAG, "job", "1", "ok"]);
    assert.deepEqual(await nextWithin(sub, MS), { value: "ok", done: false });
    assert.equal(logged.length, 1);
  } finally {
    console.error = original;
    pubsub.close();
    target.close();
    port1.close();
    port2.close();
  }
});

Deno.test("worker: transfer without local subscribers moves the buffer; with batch too", async () => {
  for (const batch of [false, true]) {
    const { port1, port2 } = new MessageChannel();
    const transfer = (e: { payload: unknown }) => e.payload instanceof ArrayBuffer ? [e.payload] : undefined;
    const targetA = createWorkerEventTarget(port1, { batch, transfer, closeEndpoint: true });
    const targetB = createWorkerEventTarget(port2, { batch, closeEndpoint: true });
    const a = createPubSub<Events>({ eventTarget: targetA });
    const b = createPubSub<Events>({ eventTarget: targetB });
    try {
      const remote = b.subscribe("job", "bytes");
      const buffers = [new Uint8Array([1, 2]).buffer, new Uint8Array([3]).buffer];
      for (const buffer of buffers) a.publish("job", "bytes", buffer);
      await Promise.resolve(); // the batch flushes in a microtask
      assert.deepEqual(buffers.map((x) => x.byteLength), [0, 0], "transferred, so detached here");
      const got = [(await nextWithin(remote, MS)).value, (await nextWithin(remote, MS)).value];
      assert.deepEqual(got.map((x) => [...new Uint8Array(x as ArrayBuffer)]), [[1, 2], [3]]);
    } finally {
      a.close();
      b.close();
      targetA.close();
      targetB.close();
    }
  }
});

Deno.test("worker: close() removes its listeners, emits close once, refuses publishes, leaves the port to its owner", async () => {
  const { port1, port2 } = new MessageChannel();
  const target = createWorkerEventTarget(port1);
  const peer = createWorkerEventTarget(port2, { closeEndpoint: true });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  const closes: WorkerCloseDetail[] = [];
  target.addEventListener("close", (e) => void closes.push(e.detail as unknown as WorkerCloseDetail));
  const sub = pubsub.subscribe("job", "1");
  const pending = sub.next();
  // No wiring: createPubSub ends its subscriptions on the target's "close" by itself.
  target.close();
  target.close(); // idempotent
  assert.deepEqual(closes, [{ reason: "closed" }]);
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(pubsub.closed, true);
  assert.throws(
    () =>
      target.dispatchEvent(
        new CustomEvent("job:1", { detail: { type: "job", id: "1", payload: 0 } }) as never,
      ),
    PubSubClosedError,
  );
  // The port is still the caller's and still works: a raw message goes through to the peer.
  const received = new Promise((resolve) => port2.addEventListener("message", (e) => resolve(e.data), { once: true }));
  port1.postMessage("still open");
  assert.equal(await received, "still open");
  port1.close();
  peer.close(); // closes port2 (closeEndpoint)
});

Deno.test("worker: dispatchEvent rejects an envelope that does not match its topic, and non-endpoints", () => {
  const { port1, port2 } = new MessageChannel();
  const target = createWorkerEventTarget(port1, { closeEndpoint: true });
  try {
    assert.throws(
      () => target.dispatchEvent(new CustomEvent("job:2", { detail: { type: "job", id: "1", payload: 0 } }) as never),
      EnvelopeError,
    );
    assert.throws(() => target.dispatchEvent(new CustomEvent("job:1", { detail: "nope" }) as never), EnvelopeError);
    assert.throws(() => createWorkerEventTarget({} as never), TypeError);
    assert.throws(() => createWorkerEventTarget(null as never), TypeError);
    // A non-topic event name stays local.
    let heard = 0;
    target.addEventListener("custom", () => heard++);
    target.dispatchEvent(new CustomEvent("custom") as never);
    assert.equal(heard, 1);
  } finally {
    target.close();
    port2.close();
  }
});

Deno.test("worker: with closeEndpoint, close() closes the port", async () => {
  const { port1, port2 } = new MessageChannel();
  const target = createWorkerEventTarget(port1, { closeEndpoint: true });
  target.close();
  let heard = 0;
  port2.addEventListener("message", () => heard++);
  port2.start();
  port1.postMessage("after close"); // a closed port sends nothing
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(heard, 0);
  port2.close();
});
