/**
 * The adapter between the main thread and real Deno Workers that use the
 * adapter on their side (fixtures/pubsub_worker.ts): delivery both ways,
 * payload exactness under structured clone, order, transfer, BroadcastChannel
 * between two workers, and a worker that goes away mid-stream.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub, type PubSubError, type Subscription } from "../../mod.ts";
import {
  createWorkerEventTarget,
  type WorkerCloseDetail,
  WorkerError,
  type WorkerEventTarget,
  type WorkerEventTargetOptions,
} from "../../adapters/worker/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import type { WorkerTestEvents } from "./fixtures/events.ts";

const MS = 10_000;

interface Started {
  worker: Worker;
  target: WorkerEventTarget;
  pubsub: PubSub<WorkerTestEvents>;
  errors: PubSubError[];
  closed: Promise<WorkerCloseDetail>;
  dispose(): void;
}

/** Starts the fixture worker and waits until its subscriptions are live. */
async function start(name: string, options: WorkerEventTargetOptions = {}): Promise<Started> {
  const worker = new Worker(new URL("./fixtures/pubsub_worker.ts", import.meta.url), { type: "module", name });
  const errors: PubSubError[] = [];
  const target = createWorkerEventTarget(worker, { onError: (e) => errors.push(e), closeEndpoint: true, ...options });
  const pubsub = createPubSub<WorkerTestEvents>({ eventTarget: target });
  const closed = new Promise<WorkerCloseDetail>((resolve) =>
    target.addEventListener("close", (event) => {
      pubsub.close(); // the documented wiring: the target's close ends the pub/sub's subscriptions
      resolve(event.detail as unknown as WorkerCloseDetail);
    }, { once: true })
  );
  const status = pubsub.subscribe("status", name);
  assert.deepEqual(await nextWithin(status, MS), { value: "ready", done: false });
  await status.return();
  return {
    worker,
    target,
    pubsub,
    errors,
    closed,
    dispose: () => {
      pubsub.close();
      target.close(); // terminates the worker (closeEndpoint)
    },
  };
}

async function take<T>(sub: Subscription<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await nextWithin(sub, MS);
    assert.equal(r.done, false, `Subscription ended after ${out.length} of ${n} values`);
    out.push(r.value as T);
  }
  return out;
}

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

for (const batch of [false, true]) {
  const suffix = batch ? " (batch)" : "";

  Deno.test(`worker: real Worker round trip keeps structured-clone values${suffix}`, async () => {
    const w = await start("echo", { batch });
    try {
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      const payloads: unknown[] = [
        null,
        undefined,
        0,
        -0,
        "",
        false,
        NaN,
        10n ** 20n,
        "ünïcødé ✓",
        new Date(1_700_000_000_000),
        new Map<unknown, unknown>([["a", 1], [2, { b: [3] }]]),
        new Set([1, "two", null]),
        /x+y/gi,
        new Uint8Array([1, 2, 255]),
        new Float64Array([0.5, -1]),
        new ArrayBuffer(4),
        new DataView(new Uint8Array([5, 6]).buffer),
        new RangeError("kept as a RangeError"),
        { nested: { deep: [true, null, undefined] }, missing: undefined },
        [1, , 3], // a hole
      ];
      const pongs = w.pubsub.subscribe("pong", "echo", { bufferSize: 100 });
      const own = w.pubsub.subscribe("ping", "echo", { bufferSize: 100 });
      for (const p of payloads) w.pubsub.publish("ping", "echo", p);
      w.pubsub.publish("ping", "echo", cyclic);
      w.pubsub.publish("ping", "echo", new Point(3, 4));

      const back = await take(pongs, payloads.length + 2);
      assert.deepStrictEqual(back.slice(0, payloads.length), payloads);
      assert.ok(Object.is(back[3], -0), "-0 survives");
      const cycle = back[payloads.length] as Record<string, unknown>;
      assert.equal(cycle.self, cycle, "cycles survive");
      const point = back[payloads.length + 1] as Point;
      assert.equal(Object.getPrototypeOf(point), Object.prototype, "class prototypes are lost");
      assert.deepEqual({ ...point }, { x: 3, y: 4 });
      assert.equal(typeof point.norm, "undefined");

      // The publisher's own subscriber got each ping exactly once, by reference.
      const mine = await take(own, payloads.length + 2);
      assert.ok(mine.slice(0, payloads.length).every((v, i) => Object.is(v, payloads[i])));
      assert.equal(mine[payloads.length], cyclic);
      assert.ok(mine[payloads.length + 1] instanceof Point, "local subscribers get the very object");
      assert.equal(own.buffered, 0);
      assert.deepEqual(w.errors, []);
    } finally {
      w.dispose();
    }
  });

  Deno.test(`worker: real Worker keeps per-publisher order both ways${suffix}`, async () => {
    const w = await start("order", { batch });
    try {
      const n = 5000;
      const pongs = w.pubsub.subscribe("pong", "echo", { bufferSize: n });
      for (let i = 0; i < n; i++) w.pubsub.publish("ping", "echo", i);
      assert.deepEqual(await take(pongs, n), Array.from({ length: n }, (_, i) => i));
      assert.deepEqual(w.errors, []);
    } finally {
      w.dispose();
    }
  });
}

Deno.test("worker: transfer moves buffers, local subscribers get a copy", async () => {
  const w = await start("transfer", {
    transfer: (envelope) => envelope.payload instanceof Uint8Array ? [envelope.payload.buffer] : undefined,
  });
  try {
    const pongs = w.pubsub.subscribe("pong", "echo");
    const own = w.pubsub.subscribe("ping", "echo");
    const bytes = new Uint8Array([7, 8, 9]);
    w.pubsub.publish("ping", "echo", bytes);
    assert.equal(bytes.buffer.byteLength, 0, "the buffer was transferred, so it is detached here");
    assert.deepEqual(await take(own, 1), [new Uint8Array([7, 8, 9])]);
    assert.deepEqual(await take(pongs, 1), [new Uint8Array([7, 8, 9])]);
  } finally {
    w.dispose();
  }
});

Deno.test("worker: BroadcastChannel between two workers", async () => {
  const channel = `worker-test-${crypto.randomUUID()}`;
  const [a, b] = await Promise.all([start("alice"), start("bob")]);
  try {
    const joined = [a, b].map((w) => w.pubsub.subscribe("status", w.worker === a.worker ? "alice" : "bob"));
    a.pubsub.publish("command", "alice", { name: "join", channel });
    b.pubsub.publish("command", "bob", { name: "join", channel });
    for (const s of joined) assert.deepEqual(await take(s, 1), ["joined"]);
    const heardByAlice = a.pubsub.subscribe("heard", "alice", { bufferSize: 1000 });
    const heardByBob = b.pubsub.subscribe("heard", "bob", { bufferSize: 1000 });
    const n = 200;
    a.pubsub.publish("command", "alice", { name: "say", count: n });
    const expected = Array.from({ length: n }, (_, i) => ({ from: "alice", i }));
    // Bob hears Alice over the channel; Alice hears herself exactly once, through local delivery.
    assert.deepEqual(await take(heardByBob, n), expected);
    assert.deepEqual(await take(heardByAlice, n), expected);
    // Nothing more arrives (no echo, no duplicates): a sentinel from Bob comes next for both.
    b.pubsub.publish("command", "bob", { name: "say", count: 1 });
    assert.deepEqual(await take(heardByAlice, 1), [{ from: "bob", i: 0 }]);
    assert.deepEqual(await take(heardByBob, 1), [{ from: "bob", i: 0 }]);
    for (const s of joined) s.return();
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    a.dispose();
    b.dispose();
  }
});

Deno.test("worker: closing the parent side mid-stream terminates the worker and ends iterators", async () => {
  const w = await start("streamer");
  const ticks = w.pubsub.subscribe("tick", "streamer", { overflow: "drop-oldest" });
  w.pubsub.publish("command", "streamer", { name: "stream" });
  await take(ticks, 3);
  const pending = ticks.next(); // waits for a value that will never come
  w.target.close(); // closeEndpoint: terminates the worker
  // The worker is gone: the stream (one tick a millisecond) stops reaching the Worker object.
  let raw = 0;
  const count = (): void => void raw++;
  w.worker.addEventListener("message", count);
  await new Promise((resolve) => setTimeout(resolve, 200));
  w.worker.removeEventListener("message", count);
  assert.equal(raw, 0, "no message arrives after the worker was terminated");
  assert.deepEqual(await w.closed, { reason: "closed" });
  assert.equal(w.target.closed, true);
  // Buffered ticks may still be yielded; then the iterator ends.
  let result = await pending;
  while (!result.done) result = await nextWithin(ticks, MS);
  assert.equal(w.pubsub.closed, true);
  assert.equal(w.target.listenerCount(), 0);
  assert.throws(
    () =>
      w.target.dispatchEvent(
        new CustomEvent("tick:streamer", { detail: { type: "tick", id: "streamer", payload: 1 } }) as never,
      ),
    { code: "ERR_PUBSUB_CLOSED" },
  );
});

Deno.test("worker: a worker that crashes mid-stream closes the target and ends iterators", async () => {
  const w = await start("crasher");
  try {
    const ticks = w.pubsub.subscribe("tick", "crasher", { overflow: "drop-oldest" });
    w.pubsub.publish("command", "crasher", { name: "stream" });
    await take(ticks, 3);
    w.pubsub.publish("command", "crasher", { name: "crash" });
    const detail = await w.closed;
    assert.equal(detail.reason, "error");
    assert.ok(detail.error instanceof WorkerError);
    assert.match(detail.error.message, /Crash requested by the test/);
    assert.equal(w.errors.length, 1);
    assert.equal(w.errors[0], detail.error);
    let result = await nextWithin(ticks, MS);
    while (!result.done) result = await nextWithin(ticks, MS);
    assert.equal(w.pubsub.closed, true);
  } finally {
    w.dispose(); // already closed; the worker was terminated by closeEndpoint on the error
  }
});
