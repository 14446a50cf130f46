import assert from "node:assert/strict";
import { CLOSE_EVENT, createPubSub, type EnvelopeEvent, TransportEventTarget } from "../../mod.ts";

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
