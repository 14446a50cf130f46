import assert from "node:assert/strict";
import {
  CLOSE_EVENT,
  createPubSub,
  type EnvelopeEvent,
  REMOTE_BACKLOG,
  REMOTE_SLICE,
  TransportEventTarget,
} from "../../mod.ts";
import { countInOrder } from "../burst.ts";

/** A loopback transport: what it sends comes straight back; `finish()` closes it for good. */
class Loopback extends TransportEventTarget {
  dispatchEvent(event: EnvelopeEvent): boolean {
    return this.dispatchLocal(event);
  }
  finish(reason: string): boolean {
    return this.emitClose({ reason });
  }
}

Deno.test("TransportEventTarget: close is dispatched once and ends a pub/sub's subscriptions", async () => {
  const target = new Loopback();
  const pubsub = createPubSub<{ tick: number }>({ eventTarget: target });
  const sub = pubsub.subscribe("tick", "1");
  const closes: unknown[] = [];
  target.addEventListener(CLOSE_EVENT, (e) => closes.push(e.detail));
  pubsub.publish("tick", "1", 1);
  assert.equal(target.finish("gone"), true);
  assert.equal(target.finish("again"), false);
  assert.deepEqual(closes, [{ reason: "gone" }]);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
  assert.equal(pubsub.closed, true);
});

Deno.test("TransportEventTarget: a close listener added after the close hears it once, later", async () => {
  const target = new Loopback();
  target.finish("gone");
  const heard: unknown[] = [];
  target.addEventListener(CLOSE_EVENT, (e) => heard.push(e.detail));
  assert.deepEqual(heard, []); // not synchronously
  await Promise.resolve();
  assert.deepEqual(heard, [{ reason: "gone" }]);
  assert.equal(target.listenerCount(), 0);

  // So a pub/sub created over a finished transport ends its subscriptions instead of waiting forever.
  const pubsub = createPubSub<{ tick: number }>({ eventTarget: target });
  const sub = pubsub.subscribe("tick", "1");
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
  assert.equal(pubsub.closed, true);
  assert.equal(target.listenerCount(), 0);
});

/** A transport whose remote side is simulated: `receive()` delivers as a network read would. */
class Remote extends TransportEventTarget {
  dispatchEvent(event: EnvelopeEvent): boolean {
    return this.dispatchLocal(event);
  }
  receive(n: number, from = 0): void {
    for (let i = from; i < from + n; i++) {
      this.deliverRemote(new CustomEvent("t:1", { detail: { type: "t", id: "1", payload: i } }) as EnvelopeEvent);
    }
  }
  finish(): void {
    this.emitClose({ reason: "gone" });
  }
  drop(): void {
    this.dropListeners();
  }
  backlog(): Promise<void> | undefined {
    return this.remoteBacklog();
  }
}

Deno.test("TransportEventTarget: 10 000 remote events in one synchronous run reach a counting consumer, in order", async () => {
  const target = new Remote();
  const pubsub = createPubSub<{ t: number }>({ eventTarget: target });
  const sub = pubsub.subscribe("t", "1"); // the default bufferSize, 1024
  const counted = countInOrder(sub, 10_000);
  target.receive(10_000);
  const drained = target.backlog();
  assert.ok(drained !== undefined, "most of the burst waits for later turns");
  await drained;
  assert.equal(await counted, 10_000);
  assert.equal(target.backlog(), undefined);
  pubsub.close();
});

Deno.test("TransportEventTarget: close comes after the backlog; dropListeners discards it", async () => {
  const target = new Remote();
  const seen: unknown[] = [];
  target.addEventListener("t:1", (e) => seen.push(e.detail.payload));
  target.addEventListener(CLOSE_EVENT, () => seen.push("close"));
  target.receive(1000);
  target.finish();
  assert.equal(seen.length, 256); // one slice now; close waits
  await target.backlog();
  assert.equal(seen.length, 1001);
  assert.equal(seen[1000], "close");

  const other = new Remote();
  const heard: unknown[] = [];
  other.addEventListener("t:1", (e) => heard.push(e.detail.payload));
  other.addEventListener(CLOSE_EVENT, () => heard.push("close"));
  other.receive(1000);
  other.finish();
  other.drop(); // the waiting close is dispatched, the backlog discarded, no drain left scheduled
  assert.equal(heard.length, 257);
  assert.equal(heard[256], "close");
  assert.equal(other.backlog(), undefined);
});

Deno.test("TransportEventTarget: the backlog is bounded by REMOTE_BACKLOG; beyond it everything is delivered at once", () => {
  const target = new Remote();
  let seen = 0;
  target.addEventListener("t:1", () => seen++);
  target.receive(REMOTE_SLICE + REMOTE_BACKLOG);
  assert.equal(seen, REMOTE_SLICE + REMOTE_BACKLOG);
  assert.equal(target.backlog(), undefined);
});
