import assert from "node:assert/strict";
import {
  encodePositioned,
  type EnvelopeEvent,
  type EventEnvelope,
  type HistoryRecovery,
  type HubAction,
  type HubPeer,
  HubRouter,
  type HubRouterOptions,
  InProcessEventTarget,
  jsonCodec,
  type PositionedEvent,
  type RefusalReason,
  type StreamPosition,
  type SubscribedInfo,
  topicFor,
  TopicHistory,
} from "../../mod.ts";

class Peer implements HubPeer<string> {
  frames: string[] = [];
  acks: { topic: string; info?: SubscribedInfo }[] = [];
  own: { topic: string; position: StreamPosition }[] = [];
  refusals: { action: HubAction; topic: string; reason: RefusalReason }[] = [];
  constructor(readonly recover = false) {}
  sendData(frame: string): void {
    this.frames.push(frame);
  }
  subscribed(topic: string, info?: SubscribedInfo): void {
    this.acks.push(info === undefined ? { topic } : { topic, info });
  }
  sentAt(topic: string, position: StreamPosition): void {
    this.own.push({ topic, position });
  }
  refused(action: HubAction, topic: string, reason: RefusalReason): void {
    this.refusals.push({ action, topic, reason });
  }
  offsets(): number[] {
    return this.frames.map((f) => JSON.parse(f).offset);
  }
}

function router(options: Partial<HubRouterOptions<string>> = {}) {
  return new HubRouter<string>({
    encode: (envelope) => JSON.stringify(envelope),
    encodeAt: (envelope, position, frame) => encodePositioned(jsonCodec, envelope, position, frame) as string,
    deliverLocal: () => {},
    onError: (error) => {
      throw error;
    },
    history: {},
    ...options,
  });
}

const env = (n: number) => ({ type: "t", id: "1", payload: n });
const event = (n: number) => new CustomEvent(topicFor("t", "1"), { detail: env(n) }) as EnvelopeEvent;
const publish = (r: HubRouter<string>, from: number, to: number) => {
  for (let i = from; i <= to; i++) r.publish(event(i), JSON.stringify(env(i)));
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("hub history: every recover subscriber sees the same offsets; others get the plain frame, byte for byte", () => {
  const r = router();
  const a = new Peer(true), b = new Peer(true), plain = new Peer(false);
  for (const p of [a, b, plain]) r.attach(p);
  r.subscribe(a, "t:1");
  r.subscribe(b, "t:1");
  r.subscribe(plain, "t:1");
  const epoch = a.acks[0].info!.epoch;
  assert.deepEqual(a.acks, [{ topic: "t:1", info: { epoch, offset: 0 } }]);
  assert.deepEqual(plain.acks, [{ topic: "t:1" }]);
  publish(r, 1, 3);
  assert.deepEqual(a.offsets(), [1, 2, 3]);
  assert.deepEqual(b.frames, a.frames);
  assert.equal(a.frames[0], JSON.stringify({ ...env(1), offset: 1, epoch }));
  assert.deepEqual(plain.frames, [1, 2, 3].map((n) => JSON.stringify(env(n))));
  // The sender of a relayed event is told its position instead of getting it back.
  r.publishFrom(a, env(4), JSON.stringify(env(4)));
  assert.deepEqual(a.own, [{ topic: "t:1", position: { epoch, offset: 4 } }]);
  assert.deepEqual(b.offsets(), [1, 2, 3, 4]);
  r.clear();
});

Deno.test("hub history: replay in order then live, in slices, with live events queued behind the replay", async () => {
  const r = router({ history: { size: 1000 } });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  publish(r, 1, 5);
  const last: StreamPosition = { epoch: a.acks[0].info!.epoch, offset: 5 };
  r.detach(a);
  assert.equal(r.stats().topics, 1); // kept: the history records what the dropped peer misses
  publish(r, 6, 700);
  const again = new Peer(true);
  r.attach(again);
  r.subscribe(again, "t:1", last);
  assert.deepEqual(again.acks, [{ topic: "t:1", info: { epoch: last.epoch, offset: 5 } }]);
  assert.equal(again.frames.length, 256); // the first slice at once
  publish(r, 701, 710); // live, while the replay runs: behind it
  while (again.frames.length < 705) await tick();
  assert.deepEqual(again.offsets(), Array.from({ length: 705 }, (_, i) => i + 6));
  publish(r, 711, 711);
  assert.equal(again.offsets().at(-1), 711);
  r.clear();
});

Deno.test("hub history: beyond size, the answer says exactly how many were lost, then the kept ones follow", async () => {
  const r = router({ history: { size: 10 } });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  publish(r, 1, 2);
  r.detach(a);
  publish(r, 3, 30);
  const again = new Peer(true);
  r.attach(again);
  r.subscribe(again, "t:1", { epoch: a.acks[0].info!.epoch, offset: 2 });
  assert.deepEqual(again.acks[0].info, { epoch: a.acks[0].info!.epoch, offset: 20, missed: 18 });
  await tick();
  assert.deepEqual(again.offsets(), Array.from({ length: 10 }, (_, i) => i + 21));
  // Another epoch: an unknown loss, placed at the top, nothing replayed.
  const other = new Peer(true);
  r.attach(other);
  r.subscribe(other, "t:1", { epoch: "000000000000", offset: 2 });
  assert.deepEqual(other.acks[0].info, { epoch: a.acks[0].info!.epoch, offset: 30, missed: null });
  assert.deepEqual(other.frames, []);
  r.clear();
});

Deno.test("hub history: a topic's upstream listener lasts as long as its stream, and no longer", async () => {
  const upstream = new InProcessEventTarget<EnvelopeEvent>();
  const r = router({ upstream, history: { ttl: 50 } });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  r.detach(a);
  assert.equal(upstream.listenerCount("t:1"), 1);
  const deadline = Date.now() + 5000;
  while (upstream.listenerCount("t:1") > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(upstream.listenerCount("t:1"), 0);
  assert.equal(r.stats().topics, 0);
  r.clear();
});

Deno.test("hub history: without history nothing changes for a recover peer, and history needs encodeAt", () => {
  const r = router({ history: undefined });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  publish(r, 1, 1);
  assert.deepEqual(a.acks, [{ topic: "t:1" }]);
  assert.deepEqual(a.frames, [JSON.stringify(env(1))]);
  r.clear();
  assert.throws(() => router({ encodeAt: undefined }), TypeError);
});

Deno.test("hub history over an upstream that stores it: the replay and the live events that came meanwhile meet with no gap and no duplicate", async () => {
  // An upstream numbering every event in a TopicHistory of its own, answering history() 20 ms late.
  const { store, upstream, answered } = storingUpstream(20);
  const numbered = (n: number) => positioned(n, store.append("t:1", env(n), 1));
  const r = router({ upstream });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  await until(() => a.acks.length === 1);
  for (let i = 1; i <= 3; i++) upstream.dispatchEvent(numbered(i));
  const epoch = a.acks[0].info!.epoch;
  assert.deepEqual(a.offsets(), [1, 2, 3]);
  r.detach(a);
  for (let i = 4; i <= 6; i++) store.append("t:1", env(i), 1); // missed: stored upstream, not seen by this hub
  const again = new Peer(true);
  r.attach(again);
  r.subscribe(again, "t:1", { epoch, offset: 3 });
  // Live while the history is read: 7 and 8 (after the snapshot) must follow 4..6, each once.
  upstream.dispatchEvent(numbered(7));
  await until(() => answered() === 2);
  upstream.dispatchEvent(numbered(8));
  await until(() => again.frames.length === 5);
  assert.deepEqual(again.acks, [{ topic: "t:1", info: { epoch, offset: 3 } }]);
  assert.deepEqual(again.offsets(), [4, 5, 6, 7, 8]);
  assert.equal(r.stats().topics, 1);
  r.detach(again);
  assert.equal(r.stats().topics, 0); // the upstream keeps the history: nothing lingers here
  r.clear();
});

Deno.test("hub history over an upstream that stores it: a live copy arriving after the history read returned the same event is not sent again", async () => {
  // Redis streams mode: the script's XADD and PUBLISH run together, but the hub reads history (XRANGE) on one
  // connection and the live message on another, so the live copy of an event can come after the read returned it.
  const { store, upstream, answered } = storingUpstream(0);
  const r = router({ upstream });
  const a = new Peer(true);
  r.attach(a);
  r.subscribe(a, "t:1");
  await until(() => a.acks.length === 1);
  const epoch = a.acks[0].info!.epoch;
  r.detach(a);
  const stored = [1, 2, 3, 4, 5].map((n) => store.append("t:1", env(n), 1)); // all stored before the read
  const again = new Peer(true);
  r.attach(again);
  r.subscribe(again, "t:1", { epoch, offset: 2 });
  await until(() => answered() === 2);
  // The history answered 3, 4 and 5; their live copies come now, while the replay is queued, and after it is sent.
  upstream.dispatchEvent(positioned(4, stored[3]));
  await until(() => again.frames.length >= 3);
  upstream.dispatchEvent(positioned(5, stored[4]));
  upstream.dispatchEvent(positioned(6, store.append("t:1", env(6), 1)));
  upstream.dispatchEvent(positioned(7, store.append("t:1", env(7), 1)));
  await until(() => again.frames.length >= 5);
  await tick();
  assert.deepEqual(again.offsets(), [3, 4, 5, 6, 7]);
  r.detach(again);
  r.clear();
});

/** Event `n` as an upstream that stores history delivers it, at `position`. */
function positioned(n: number, position: StreamPosition): PositionedEvent {
  const e = event(n) as PositionedEvent;
  e.position = position;
  return e;
}

/** An in-process upstream that stores history in a TopicHistory of its own and answers `history()` after `delay` ms. */
function storingUpstream(delay: number) {
  const store = new TopicHistory<EventEnvelope>();
  let answers = 0;
  const upstream = Object.assign(new InProcessEventTarget<EnvelopeEvent>(), {
    history: (topic: string, since: StreamPosition | undefined) =>
      new Promise<HistoryRecovery<EventEnvelope>>((resolve) =>
        setTimeout(() => {
          answers++;
          resolve(store.since(topic, since));
        }, delay)
      ),
  });
  return { store, upstream, answered: () => answers };
}

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
