/**
 * The hub on every server runtime: one set of test bodies, run against the npm package's hub on Deno
 * (`Deno.serve` + createWebSocketHub), Node (`ws`'s WebSocketServer + createWebSocketHub) and Bun (`Bun.serve` +
 * createBunWebSocketHub, native fan-out), each in a child process (runtime_hub.ts). Deliveries are counted at each
 * spoke's socket.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub, SubscriptionRefusedError } from "../../mod.ts";
import { connectWebSocketEventTarget, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import {
  closedEvent,
  type CountingWebSocket,
  countingWebSocket,
  handshake,
  maskedFrames,
  nextEvent,
  opened,
  rawUpgrade,
  until,
} from "../websocket/helpers.ts";
import { type RuntimeHub, RUNTIMES, SCRATCH, startRuntimeHub, unique } from "./runtime_hub.ts";

type Events = { a: number; b: number; c: number; x: number; sync: string };

interface Spoke {
  name: string;
  wire: CountingWebSocket;
  target: WebSocketSpoke;
  pubsub: PubSub<Events>;
}

function spokeOn(url: string, name: string, credentials?: unknown): Spoke {
  const wire = countingWebSocket();
  const target = connectWebSocketEventTarget(url, { WebSocket: wire.WebSocket, credentials, onError: () => {} });
  return { name, wire, target, pubsub: createPubSub<Events>({ eventTarget: target }) };
}

async function closeAll(spokes: Spoke[], ...hubs: RuntimeHub[]): Promise<void> {
  for (const spoke of spokes) spoke.target.close();
  await Promise.all(spokes.map((spoke) => spoke.target.closed));
  await Promise.all(hubs.map((hub) => hub.close()));
}

/** The hub publishes a marker on each spoke's sync topic: frames to one socket keep their order. */
async function barrier(hub: RuntimeHub, spokes: Spoke[], marks: Map<Spoke, AsyncIterator<string>>, tag: string) {
  for (const spoke of spokes) await hub.command("publish", { type: "sync", id: spoke.name, payload: tag });
  for (const spoke of spokes) {
    assert.deepEqual(await nextWithin(marks.get(spoke)!, 10_000), { value: tag, done: false }, spoke.name);
  }
}

const N = 50;

for (const runtime of RUNTIMES) {
  const ignore = SCRATCH === undefined;

  Deno.test({
    name: `${runtime} hub: each spoke's socket receives only its topics, once; a relay skips its sender`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime);
      const [A, B, C] = ["A", "B", "C"].map((name) => spokeOn(hub.url, name));
      const all = [A, B, C];
      try {
        const marks = new Map(all.map((s) => [s, s.pubsub.subscribe("sync", s.name)] as const));
        const aAtA = A.pubsub.subscribe("a", "1");
        const bAtB = B.pubsub.subscribe("b", "1");
        const cAtA = A.pubsub.subscribe("c", "2");
        const cAtB = B.pubsub.subscribe("c", "2");
        await hub.command("listen", { type: "c", id: "2" });
        await Promise.all([
          ...all.map((s) => s.pubsub.ready("sync", s.name)),
          A.pubsub.ready("a", "1"),
          B.pubsub.ready("b", "1"),
          A.pubsub.ready("c", "2"),
          B.pubsub.ready("c", "2"),
        ]);
        for (let i = 0; i < N; i++) {
          await hub.command("publish", { type: "a", id: "1", payload: i });
          await hub.command("publish", { type: "b", id: "1", payload: i });
          await hub.command("publish", { type: "c", id: "2", payload: -i });
          A.pubsub.publish("c", "2", 1000 + i);
        }
        await barrier(hub, all, marks, "one");
        await until(() => B.wire.count("c:2") === 2 * N, 10_000, "B's c:2 frames");
        await until(() => hub.events.filter((e) => e.event === "local").length === 2 * N, 10_000, "hub listener");
        assert.equal(A.wire.count("a:1"), N);
        assert.equal(A.wire.count("b:1"), 0);
        assert.equal(A.wire.count("c:2"), N, "A never receives its own relayed events");
        assert.equal(B.wire.count("a:1"), 0);
        assert.equal(B.wire.count("b:1"), N);
        assert.equal(B.wire.count("c:2"), 2 * N);
        assert.equal(C.wire.received.filter((f) => f.topic !== "sync:C").length, 0, "C subscribed to nothing");
        // Order per publisher, at the wire.
        assert.deepEqual(A.wire.payloads("a:1"), Array.from({ length: N }, (_, i) => i));
        assert.deepEqual(
          B.wire.payloads("c:2").filter((p) => (p as number) >= 1000),
          Array.from({ length: N }, (_, i) => 1000 + i),
        );
        // Unsubscribe: nothing more for a:1 reaches A's socket.
        await aAtA.return();
        await until(() => A.wire.sent.some((f) => f === '["unsub","a:1"]'), 5_000, "unsub");
        // The unsub and the barrier's sub go out in order, so the hub has handled it before the marker.
        await barrier(hub, all, marks, "two");
        for (let i = 0; i < N; i++) await hub.command("publish", { type: "a", id: "1", payload: i });
        await barrier(hub, all, marks, "three");
        assert.equal(A.wire.count("a:1"), N, "no frame after unsubscribe");
        const { stats } = await hub.stats();
        assert.equal(stats.connections, 3);
        assert.equal(stats.refusedSubscribes, 0);
        await Promise.all([bAtB.return(), cAtA.return(), cAtB.return()]);
      } finally {
        await closeAll(all, hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: authenticate and authorize, matrix at the wire`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime, { authenticate: "token", authorize: "own" });
      const alice = spokeOn(hub.url, "alice", { token: "user-alice" });
      const admin = spokeOn(hub.url, "admin", { token: "user-admin" });
      const all = [alice, admin];
      try {
        // A bad token: 4401, final.
        const intruder = spokeOn(hub.url, "intruder", { token: "nope" });
        const info = await intruder.target.closed;
        assert.equal(info.code, 4401);
        // Subscribe matrix for alice: own id and "public" allowed, bob's refused.
        const own = alice.pubsub.subscribe("x", "alice");
        const pub = alice.pubsub.subscribe("x", "public");
        const bob = alice.pubsub.subscribe("x", "bob");
        const bobRefused = assert.rejects(alice.pubsub.ready("x", "bob"), SubscriptionRefusedError);
        await alice.pubsub.ready("x", "alice");
        await alice.pubsub.ready("x", "public");
        await bobRefused;
        const adminBob = admin.pubsub.subscribe("x", "bob");
        const adminAlice = admin.pubsub.subscribe("x", "alice");
        await admin.pubsub.ready("x", "bob");
        await admin.pubsub.ready("x", "alice");
        // The hub publishes on every topic; alice's socket gets only hers.
        for (const id of ["alice", "public", "bob"]) await hub.command("publish", { type: "x", id, payload: 1 });
        // Publish matrix: alice may publish on x:alice, not on x:bob (refused, never relayed).
        alice.pubsub.publish("x", "bob", 2);
        const refused = await nextEvent<Error>(alice.target, "error", 10_000);
        assert.equal(refused.name, "PublishRefusedError");
        alice.pubsub.publish("x", "alice", 3);
        assert.deepEqual(await nextWithin(adminAlice, 10_000), { value: 1, done: false });
        assert.deepEqual(await nextWithin(adminAlice, 10_000), { value: 3, done: false });
        assert.deepEqual(await nextWithin(adminBob, 10_000), { value: 1, done: false });
        await until(() => alice.wire.count("x:public") === 1, 10_000, "alice's public frame");
        assert.equal(alice.wire.count("x:bob"), 0, "never a frame for a refused topic");
        assert.equal(alice.wire.count("x:alice"), 1, "the hub's event only; her own is not sent back");
        assert.equal(admin.wire.count("x:bob"), 1, "the refused publish was not relayed");
        const { stats } = await hub.stats();
        assert.equal(stats.refusedSubscribes, 1);
        assert.equal(stats.refusedPublishes, 1);
        await Promise.all([own.return(), pub.return(), bob.return(), adminBob.return(), adminAlice.return()]);
      } finally {
        await closeAll(all, hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: limits: subscriptions per connection, topic length, frame size, inbound rate`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime, {
        maxSubscriptionsPerConnection: 2,
        maxTopicLength: 16,
        maxMessageBytes: 1024,
        inboundLimits: { framesPerSecond: 50, frameBurst: 50 },
      });
      const spoke = spokeOn(hub.url, "s");
      try {
        const one = spoke.pubsub.subscribe("a", "1");
        const two = spoke.pubsub.subscribe("a", "2");
        await spoke.pubsub.ready("a", "1");
        await spoke.pubsub.ready("a", "2");
        const three = spoke.pubsub.subscribe("a", "3");
        const threeReady = spoke.pubsub.ready("a", "3");
        await assert.rejects(threeReady, (e: SubscriptionRefusedError) => e.reason === "too-many-subscriptions");
        await one.return();
        await until(() => spoke.wire.sent.includes('["unsub","a:1"]'), 5_000, "unsub");
        const long = spoke.pubsub.subscribe("b", "x".repeat(40));
        const longReady = spoke.pubsub.ready("b", "x".repeat(40));
        await assert.rejects(longReady, (e: SubscriptionRefusedError) => e.reason === "topic-too-long");
        // At the wire: one refusal each, and no suback for either.
        const refusals = spoke.wire.controlIn.filter((f) => f.startsWith('["subrefused"'));
        assert.deepEqual(refusals.map((f) => JSON.parse(f).slice(0, 3)), [
          ["subrefused", "a:3", "too-many-subscriptions"],
          ["subrefused", `b:${"x".repeat(40)}`, "topic-too-long"],
        ]);
        await Promise.all([two.return(), three.return(), long.return()]);

        // A frame over maxMessageBytes: 4009.
        const big = new WebSocket(hub.url);
        await opened(big);
        await handshake(big);
        const bigClosed = closedEvent(big);
        big.send(JSON.stringify({ type: "a", id: "1", payload: "y".repeat(2000) }));
        assert.equal((await bigClosed).code, 4009);

        // A flood past the inbound rate: 4008.
        const flood = new WebSocket(hub.url);
        await opened(flood);
        await handshake(flood);
        const floodClosed = closedEvent(flood);
        for (let i = 0; i < 500 && flood.readyState === WebSocket.OPEN; i++) {
          flood.send(JSON.stringify({ type: "a", id: "1", payload: i }));
        }
        await floodClosed;
        // Asked of the hub: a Deno hub that closes a socket mid-flood may not get its close frame through.
        await until(() => hub.events.filter((e) => e.event === "disconnect").length >= 2, 10_000, "disconnects");
        assert.deepEqual(hub.events.filter((e) => e.event === "disconnect").map((e) => e.code).slice(-2), [4009, 4008]);
        const codes = hub.events.filter((e) => e.event === "error").map((e) => e.code);
        assert.ok(codes.includes("ERR_FRAME_TOO_LARGE"), `errors: ${codes.join(", ")}`);
        assert.ok(codes.includes("ERR_WEBSOCKET_RATE_LIMIT"), `errors: ${codes.join(", ")}`);
      } finally {
        await closeAll([spoke], hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: two hub processes over one Redis act as one hub`,
    ignore,
    async fn() {
      const prefix = `runtimes-${runtime}-${unique()}`;
      const [one, two] = await Promise.all([
        startRuntimeHub(runtime, { upstream: prefix }),
        startRuntimeHub(runtime, { upstream: prefix }),
      ]);
      const A = spokeOn(one.url, "A");
      const B = spokeOn(two.url, "B");
      const all = [A, B];
      try {
        const atA = A.pubsub.subscribe("x", "1");
        const atB = B.pubsub.subscribe("x", "1");
        await Promise.all([A.pubsub.ready("x", "1"), B.pubsub.ready("x", "1")]);
        for (let i = 0; i < N; i++) A.pubsub.publish("x", "1", i);
        await one.command("publish", { type: "x", id: "1", payload: -1 });
        await two.command("publish", { type: "x", id: "1", payload: -2 });
        const atBGot: unknown[] = [];
        for (let i = 0; i < N + 2; i++) atBGot.push((await nextWithin(atB, 10_000)).value);
        assert.deepEqual(atBGot.filter((p) => (p as number) >= 0), Array.from({ length: N }, (_, i) => i));
        await until(() => A.wire.count("x:1") >= 2, 10_000, "the hubs' events at A");
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(B.wire.count("x:1"), N + 2);
        assert.deepEqual(A.wire.payloads("x:1").sort(), [-1, -2].sort(), "A never receives its own events back");
        await Promise.all([atA.return(), atB.return()]);
      } finally {
        await closeAll(all, one, two);
      }
    },
  });
  Deno.test({
    name: `${runtime} hub: backpressure "drop": a socket that never reads stays open, the hub's memory stays bounded`,
    ignore,
    async fn() {
      const MiB = 1024 * 1024;
      const hub = await startRuntimeHub(runtime, { backpressure: "drop", highWaterMark: MiB });
      const reader = spokeOn(hub.url, "reader");
      let stalled: Deno.TcpConn | undefined;
      try {
        const bulk = reader.pubsub.subscribe("x", "bulk");
        await reader.pubsub.ready("x", "bulk");
        // A socket that subscribes, then never reads again (its kernel buffers fill, then the hub's).
        stalled = await rawUpgrade(hub.url);
        await stalled.write(maskedFrames('["hello",2]'));
        await stalled.write(maskedFrames('["sub","x:bulk"]'));
        await hub.nextEvent((e) => e.event === "connect", 0, 10_000);
        await until(() => hub.events.filter((e) => e.event === "connect").length === 2, 10_000, "two connections");
        await new Promise((r) => setTimeout(r, 300)); // its sub is handled
        const { rss: before } = await hub.stats();
        // 64 MiB of events, 64 times the budget: the stalled socket's share is dropped, not buffered.
        await hub.command("flood", { type: "x", id: "bulk", count: 16_384, size: 4096 });
        await new Promise((r) => setTimeout(r, 500));
        const { stats, rss: after } = await hub.stats();
        assert.equal(stats.connections, 2, "the stalled socket is still open");
        assert.ok(after - before < 48 * MiB, `the hub's RSS rose by ${((after - before) / MiB).toFixed(1)} MiB`);
        assert.deepEqual(hub.events.filter((e) => e.event === "disconnect"), []);
        // The reading spoke got events and was never dropped.
        const first = await nextWithin(bulk, 10_000);
        assert.equal(first.done, false);
        assert.equal(reader.target.state, "open");
        await bulk.return();
      } finally {
        stalled?.close();
        await closeAll([reader], hub);
      }
    },
  });
}
