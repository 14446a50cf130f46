import assert from "node:assert/strict";
import {
  type EnvelopeEvent,
  type HubAction,
  type HubPeer,
  HubRouter,
  type HubRouterOptions,
  PublishRefusedError,
  type PubSubError,
  type RefusalReason,
  SubscriptionRefusedError,
} from "../../mod.ts";

class Peer implements HubPeer<string> {
  frames: string[] = [];
  acks: string[] = [];
  refusals: { action: HubAction; topic: string; reason: RefusalReason }[] = [];
  sendData(frame: string): void {
    this.frames.push(frame);
  }
  subscribed(topic: string): void {
    this.acks.push(topic);
  }
  refused(action: HubAction, topic: string, reason: RefusalReason): void {
    this.refusals.push({ action, topic, reason });
  }
}

function setup(options: Partial<HubRouterOptions<string>>) {
  const errors: PubSubError[] = [];
  const r = new HubRouter<string>({
    encode: (envelope) => JSON.stringify(envelope),
    deliverLocal: (_event: EnvelopeEvent) => {},
    onError: (error) => errors.push(error),
    ...options,
  });
  const sender = new Peer(), receiver = new Peer();
  r.attach(sender);
  r.attach(receiver);
  return { r, errors, sender, receiver };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const publish = (r: HubRouter<string>, peer: Peer, topic: string, payload: number) => {
  const [type, id] = topic.split(":");
  const envelope = { type, id, payload };
  r.publishFrom(peer, envelope, JSON.stringify(envelope));
};
const payloads = (peer: Peer) => peer.frames.map((f) => JSON.parse(f).payload);

Deno.test("authorize pipeline: one connection's calls run concurrently, delivery keeps arrival order", async () => {
  let running = 0, most = 0, calls = 0;
  const { r, sender, receiver } = setup({
    publishAuthorization: { cache: false },
    authorize: ({ action }) => {
      if (action === "subscribe") return true;
      calls++;
      running++;
      most = Math.max(most, running);
      // Later calls answer first.
      return new Promise((resolve) => setTimeout(() => (running--, resolve(true)), 40 - calls));
    },
  });
  for (let i = 0; i < 4; i++) r.subscribe(receiver, `t:${i}`);
  const started = performance.now();
  for (let i = 0; i < 30; i++) publish(r, sender, `t:${i % 4}`, i);
  assert.equal(running, 30, "every call started at once, none waited for the ones ahead");
  while (receiver.frames.length < 30 && performance.now() - started < 5_000) await sleep(5);
  assert.deepEqual(payloads(receiver), Array.from({ length: 30 }, (_, i) => i));
  assert.equal(most, 30);
  assert.ok(performance.now() - started < 1_000, "30 calls of ~40 ms overlapped");
  r.clear();
});

Deno.test("authorize pipeline: a publish decision is asked once per (connection, topic), shared while pending, clearable", async () => {
  const asked: string[] = [];
  const { r, sender, receiver } = setup({
    authorize: ({ action, topic }) => {
      if (action === "subscribe") return true;
      asked.push(topic);
      return new Promise((resolve) => setTimeout(() => resolve(topic !== "t:no"), 10));
    },
  });
  r.subscribe(receiver, "t:yes");
  r.subscribe(receiver, "t:no");
  for (let i = 0; i < 100; i++) publish(r, sender, i % 2 ? "t:no" : "t:yes", i);
  await sleep(50);
  assert.deepEqual(asked, ["t:yes", "t:no"], "two calls for 100 publishes on two topics");
  assert.equal(receiver.frames.length, 50);
  assert.equal(sender.refusals.length, 50);
  assert.ok(sender.refusals.every((refusal) => refusal.reason === "forbidden"));
  publish(r, sender, "t:yes", 100);
  assert.equal(receiver.frames.length, 51, "a remembered decision relays at once");
  r.clearPublishDecisions((_context, topic) => topic === "t:yes");
  publish(r, sender, "t:yes", 101);
  publish(r, sender, "t:no", 102);
  assert.deepEqual(asked, ["t:yes", "t:no", "t:yes"]);
  await sleep(50);
  assert.deepEqual(payloads(receiver).slice(-2), [100, 101]);
  r.clear();
});

Deno.test("authorize pipeline: with ttl a decision is asked again once it expires", async () => {
  let asked = 0;
  const { r, sender, receiver } = setup({
    publishAuthorization: { ttl: 30 },
    authorize: ({ action }) => action === "subscribe" || (asked++, true),
  });
  r.subscribe(receiver, "t:1");
  publish(r, sender, "t:1", 1);
  publish(r, sender, "t:1", 2);
  assert.equal(asked, 1);
  await sleep(60);
  publish(r, sender, "t:1", 3);
  assert.equal(asked, 2);
  assert.deepEqual(payloads(receiver), [1, 2, 3]);
  r.clear();
});

Deno.test("authorize pipeline: calls in flight never exceed the cap, whatever unsub and re-sub do", () => {
  const { r, sender, errors } = setup({
    maxAuthorizeInFlight: 8,
    authorize: () => new Promise(() => {}), // never answers
  });
  let most = 0;
  for (let i = 0; i < 10_000; i++) {
    r.subscribe(sender, "t:1");
    r.unsubscribe(sender, "t:1");
    most = Math.max(most, r.stats().authorizing);
  }
  assert.equal(most, 8);
  assert.equal(r.stats().authorizing, 8);
  assert.equal(r.topicsOf(sender), 0);
  const unavailable = sender.refusals.filter((refusal) => refusal.reason === "unavailable");
  assert.equal(unavailable.length, 10_000 - 8);
  assert.equal(errors.length, 0, "refusals past the cap are answered, not reported");
  r.clear();
  assert.equal(r.stats().authorizing, 0, "clear() releases every call's timer");
});

Deno.test("authorize pipeline: a call that never settles is refused after the timeout, reported, and the connection goes on", async () => {
  const { r, sender, receiver, errors } = setup({
    authorizeTimeout: 50,
    authorize: ({ action, topic }) => action === "subscribe" || topic !== "t:stuck" || new Promise(() => {}),
  });
  r.subscribe(receiver, "t:stuck");
  r.subscribe(receiver, "t:ok");
  publish(r, sender, "t:stuck", 1);
  publish(r, sender, "t:ok", 2); // waits behind the stuck one, in order
  await sleep(20);
  assert.deepEqual(payloads(receiver), []);
  await sleep(120);
  assert.deepEqual(sender.refusals, [{ action: "publish", topic: "t:stuck", reason: "unavailable" }]);
  assert.deepEqual(payloads(receiver), [2]);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof PublishRefusedError);
  assert.match((errors[0].cause as Error).message, /within 50 ms/);
  assert.equal(r.stats().authorizing, 0);
  publish(r, sender, "t:ok", 3);
  assert.deepEqual(payloads(receiver), [2, 3], "the connection keeps working");
  // A subscribe that never settles is refused the same way.
  const { r: r2, sender: s2, errors: e2 } = setup({ authorizeTimeout: 30, authorize: () => new Promise(() => {}) });
  r2.subscribe(s2, "t:1");
  await sleep(80);
  assert.deepEqual(s2.refusals, [{ action: "subscribe", topic: "t:1", reason: "unavailable" }]);
  assert.ok(e2[0] instanceof SubscriptionRefusedError);
  r.clear();
  r2.clear();
});
