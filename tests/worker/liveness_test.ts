/**
 * The liveness check: a Deno worker terminated from outside (no event at all)
 * closes the target with reason "timeout" and ends pending iterators; a live
 * worker, even one that publishes nothing, keeps answering and stays open.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { createWorkerEventTarget, type WorkerCloseDetail } from "../../adapters/worker/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import type { WorkerTestEvents } from "./fixtures/events.ts";

const MS = 10_000;

function start(name: string, liveness = { interval: 50, timeout: 400 }) {
  const worker = new Worker(new URL("./fixtures/pubsub_worker.ts", import.meta.url), { type: "module", name });
  const target = createWorkerEventTarget(worker, { closeEndpoint: true, liveness, onError: () => {} });
  const pubsub = createPubSub<WorkerTestEvents>({ eventTarget: target });
  const closed = new Promise<WorkerCloseDetail>((resolve) =>
    target.addEventListener("close", (event) => resolve(event.detail as unknown as WorkerCloseDetail), { once: true })
  );
  return { worker, target, pubsub, closed };
}

Deno.test("worker liveness: worker.terminate() from outside closes the target with reason timeout and ends iterators", async () => {
  const { worker, target, pubsub, closed } = start("terminated");
  try {
    const status = pubsub.subscribe("status", "terminated");
    assert.deepEqual(await nextWithin(status, MS), { value: "ready", done: false });
    await status.return();
    const ticks = pubsub.subscribe("tick", "terminated", { overflow: "drop-oldest" });
    pubsub.publish("command", "terminated", { name: "stream" });
    assert.equal((await nextWithin(ticks, MS)).done, false);
    const stoppedAt = Date.now();
    worker.terminate(); // no event reaches the parent
    let result: IteratorResult<number>;
    do result = await nextWithin(ticks, MS); while (!result.done);
    assert.deepEqual(await closed, { reason: "timeout" });
    const took = Date.now() - stoppedAt;
    assert.ok(took >= 300, `closed after ${took} ms, before the timeout`);
    assert.equal(target.closed, true);
    assert.equal(pubsub.closed, true);
  } finally {
    pubsub.close();
    target.close();
  }
});

Deno.test("worker liveness: a live worker that publishes nothing answers pings and stays open", async () => {
  const { target, pubsub } = start("idle");
  try {
    const status = pubsub.subscribe("status", "idle");
    assert.deepEqual(await nextWithin(status, MS), { value: "ready", done: false });
    await status.return();
    await new Promise((r) => setTimeout(r, 1200)); // three timeouts of silence but for pongs
    assert.equal(target.closed, false);
    const pong = pubsub.subscribe("pong", "echo");
    pubsub.publish("ping", "echo", 1);
    assert.deepEqual(await nextWithin(pong, MS), { value: 1, done: false });
  } finally {
    pubsub.close();
    target.close();
  }
});

Deno.test("worker liveness: invalid options are RangeErrors", () => {
  const { port1, port2 } = new MessageChannel();
  try {
    assert.throws(() => createWorkerEventTarget(port1, { liveness: { interval: 0, timeout: 10 } }), RangeError);
    assert.throws(() => createWorkerEventTarget(port1, { liveness: { interval: 100, timeout: 50 } }), /no less/);
  } finally {
    port1.close();
    port2.close();
  }
});

Deno.test("worker liveness: off by default (no ping is sent); with it on, pings go out and pongs come back", async () => {
  const { port1, port2 } = new MessageChannel();
  const seen: unknown[] = [];
  port2.onmessage = (event) => seen.push(event.data);
  const quiet = createWorkerEventTarget(port1);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(seen, []);
  quiet.close();
  const { port1: a, port2: b } = new MessageChannel();
  const probing = createWorkerEventTarget(a, { closeEndpoint: true, liveness: { interval: 20, timeout: 10_000 } });
  const answering = createWorkerEventTarget(b, { closeEndpoint: true });
  const pubsub = createPubSub<{ t: number }>({ eventTarget: answering });
  pubsub.publish("t", "1", 1); // the clock starts with a first message
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(probing.closed, false);
  probing.close();
  answering.close();
  pubsub.close();
  port1.close();
  port2.close();
});
