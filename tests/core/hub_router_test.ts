import assert from "node:assert/strict";
import {
  createPubSub,
  type EnvelopeEvent,
  type HubAction,
  type HubPeer,
  HubRouter,
  type HubRouterOptions,
  InProcessEventTarget,
  PublishRefusedError,
  type PubSubError,
  type RefusalReason,
  SUBSCRIPTION_ERROR_EVENT,
  SubscriptionRefusedError,
  topicFor,
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

function router(options: Partial<HubRouterOptions<string>> = {}) {
  const local: EnvelopeEvent[] = [];
  const errors: PubSubError[] = [];
  const r = new HubRouter<string>({
    encode: (envelope) => JSON.stringify(envelope),
    deliverLocal: (event) => local.push(event),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { r, local, errors };
}

const env = (type: string, id: string, payload: unknown) => ({ type, id, payload });
const frame = (e: { type: string; id: string; payload: unknown }) => JSON.stringify(e);
const event = (e: { type: string; id: string; payload: unknown }) =>
  new CustomEvent(topicFor(e.type, e.id), { detail: e }) as EnvelopeEvent;

Deno.test("hub router: a peer gets only its topics, never its own events, once each", () => {
  const { r } = router();
  const a = new Peer(), b = new Peer(), c = new Peer();
  for (const p of [a, b, c]) r.attach(p);
  r.subscribe(a, "t:1");
  r.subscribe(b, "t:1");
  r.subscribe(b, "u:1");
  assert.deepEqual(a.acks, ["t:1"]);
  assert.deepEqual(b.acks, ["t:1", "u:1"]);
  const e1 = env("t", "1", 1);
  r.publishFrom(a, e1, frame(e1));
  const e2 = env("u", "1", 2);
  r.publish(event(e2), frame(e2));
  const e3 = env("v", "1", 3);
  r.publish(event(e3), frame(e3));
  assert.deepEqual(a.frames, []);
  assert.deepEqual(b.frames, [frame(e1), frame(e2)]);
  assert.deepEqual(c.frames, []);
  assert.deepEqual(r.stats(), {
    topics: 2,
    subscriptions: 3,
    refusedSubscribes: 0,
    refusedPublishes: 0,
    deliveries: 2,
    authorizing: 0,
  });
  r.unsubscribe(b, "t:1");
  r.publish(event(e1), frame(e1));
  assert.equal(a.frames.length, 1);
  assert.equal(b.frames.length, 2);
  r.detach(a);
  r.detach(b);
  assert.deepEqual(r.stats().topics, 0);
  assert.deepEqual(r.stats().subscriptions, 0);
});

Deno.test("hub router: local listeners count as interest and get events once", () => {
  const { r, local } = router();
  const e = env("t", "1", 1);
  r.publish(event(e), frame(e));
  assert.equal(local.length, 0);
  r.addLocal("t:1");
  r.publish(event(e), frame(e));
  assert.equal(local.length, 1);
  r.removeLocal("t:1");
  assert.equal(r.stats().topics, 0);
});

Deno.test("hub router: limits and invalid topics are refused with typed reasons", () => {
  const { r } = router({ maxSubscriptionsPerConnection: 2, maxTopicLength: 10 });
  const a = new Peer();
  r.attach(a);
  r.subscribe(a, "a:1");
  r.subscribe(a, "b:1");
  r.subscribe(a, "c:1");
  r.subscribe(a, "x:" + "y".repeat(20));
  r.subscribe(a, "nocolon");
  r.subscribe(a, "%zz:1");
  assert.deepEqual(a.refusals.map((x) => x.reason), [
    "too-many-subscriptions",
    "topic-too-long",
    "invalid-topic",
    "invalid-topic",
  ]);
  assert.equal(r.stats().refusedSubscribes, 4);
  assert.equal(r.topicsOf(a), 2);
});

Deno.test("hub router: authorize, sync and async, allow, refuse and throw", async () => {
  const { r, errors } = router({
    authorize: ({ action, id, context }) => {
      if (id === "throw") throw new Error("boom");
      if (id === "async") return Promise.resolve((context as { ok: boolean }).ok);
      return action === "subscribe" ? id === "mine" : false;
    },
  });
  const a = new Peer();
  r.attach(a, { ok: true });
  r.subscribe(a, "t:mine");
  r.subscribe(a, "t:other");
  r.subscribe(a, "t:throw");
  r.subscribe(a, "t:async");
  assert.deepEqual(a.acks, ["t:mine"]);
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(a.acks, ["t:mine", "t:async"]);
  assert.deepEqual(a.refusals.map((x) => [x.topic, x.reason]), [["t:other", "forbidden"], ["t:throw", "forbidden"]]);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof SubscriptionRefusedError);
  const b = new Peer();
  r.attach(b);
  const e = env("t", "mine", 1);
  r.publishFrom(b, e, frame(e));
  assert.equal(a.frames.length, 0);
  assert.deepEqual(b.refusals, [{ action: "publish", topic: "t:mine", reason: "forbidden" }]);
});

Deno.test("hub router: async publish authorization keeps each connection's order", async () => {
  let n = 0;
  const { r } = router({
    authorize: ({ action }) =>
      action === "subscribe" ? true : new Promise((resolve) => setTimeout(() => resolve(true), 10 - (n++ % 10))),
  });
  const a = new Peer(), b = new Peer();
  r.attach(a);
  r.attach(b);
  r.subscribe(b, "t:1");
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 0; i < 20; i++) {
    const e = env("t", "1", i);
    r.publishFrom(a, e, frame(e));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(b.frames.map((f) => JSON.parse(f).payload), Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("hub router: a late authorize answer for a withdrawn subscribe is ignored", async () => {
  let release!: (v: boolean) => void;
  const { r } = router({ authorize: () => new Promise((resolve) => (release = resolve)) });
  const a = new Peer();
  r.attach(a);
  r.subscribe(a, "t:1");
  r.unsubscribe(a, "t:1");
  release(true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(a.acks, []);
  assert.equal(r.stats().topics, 0);
});

Deno.test("hub router: with an asynchronous upstream the sender is skipped when its event comes back", async () => {
  // Two hubs over one shared bus that delivers every event (the publisher's own included) later, as Redis does.
  const bus = new InProcessEventTarget<EnvelopeEvent>();
  const upstreamA = new BusTarget(bus), upstreamB = new BusTarget(bus);
  const A = router({ upstream: upstreamA }).r, B = router({ upstream: upstreamB }).r;
  const a1 = new Peer(), a2 = new Peer(), b1 = new Peer();
  A.attach(a1);
  A.attach(a2);
  B.attach(b1);
  for (const [h, p] of [[A, a1], [A, a2], [B, b1]] as const) h.subscribe(p, "t:1");
  const e = env("t", "1", { n: 1 });
  A.publishFrom(a1, e, frame(e));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(a1.frames, []); // never back to the sender
  assert.deepEqual(a2.frames, [frame(e)]); // same hub: once
  assert.deepEqual(b1.frames, [frame(e)]); // other hub: once
  A.clear();
  B.clear();
  assert.equal(bus.listenerCount(), 0);
});

/** An upstream over a shared in-process bus that delivers asynchronously, as Redis does. */
class BusTarget extends InProcessEventTarget<EnvelopeEvent> {
  #bus: InProcessEventTarget<EnvelopeEvent>;
  #hooks = new Map<string, (e: EnvelopeEvent) => void>();
  constructor(bus: InProcessEventTarget<EnvelopeEvent>) {
    super();
    this.#bus = bus;
  }
  override addEventListener(type: string, listener: (e: EnvelopeEvent) => void): void {
    super.addEventListener(type, listener);
    if (this.#hooks.has(type)) return;
    const hook = (e: EnvelopeEvent) => super.dispatchEvent(e);
    this.#hooks.set(type, hook);
    this.#bus.addEventListener(type, hook);
  }
  override removeEventListener(type: string, listener: (e: EnvelopeEvent) => void): void {
    super.removeEventListener(type, listener);
    const hook = this.#hooks.get(type);
    if (hook !== undefined && this.listenerCount(type) === 0) {
      this.#bus.removeEventListener(type, hook);
      this.#hooks.delete(type);
    }
  }
  override dispatchEvent(e: EnvelopeEvent): boolean {
    const copy = new CustomEvent(e.type, { detail: JSON.parse(JSON.stringify(e.detail)) }) as EnvelopeEvent;
    setTimeout(() => this.#bus.dispatchEvent(copy), 1);
    return true;
  }
}

Deno.test("createPubSub: SUBSCRIPTION_ERROR_EVENT ends only that topic's subscriptions, with the error", async () => {
  const target = new InProcessEventTarget<EnvelopeEvent>();
  const pubsub = createPubSub<{ t: number }>({ eventTarget: target });
  const one = pubsub.subscribe("t", "1");
  const two = pubsub.subscribe("t", "2");
  pubsub.publish("t", "1", 7);
  const error = new SubscriptionRefusedError("t:1", "forbidden");
  target.dispatchEvent(new CustomEvent(SUBSCRIPTION_ERROR_EVENT, { detail: { topic: "t:1", error } }) as never);
  assert.deepEqual(await one.next(), { value: 7, done: false });
  await assert.rejects(one.next(), (e) => e === error);
  assert.equal(target.listenerCount("t:1"), 0);
  pubsub.publish("t", "2", 8);
  assert.deepEqual(await two.next(), { value: 8, done: false });
  pubsub.close();
  assert.equal(target.listenerCount(), 0);
});

// The authorize pipeline: concurrent calls, kept order, the publish decision cache, the in-flight cap, the timeout.

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
