/**
 * Routing by interest (issue 11), asserted at the wire: each spoke's socket is
 * a counting WebSocket, so what is counted is what the hub actually sent.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub, topicFor } from "../../mod.ts";
import { connectWebSocketEventTarget, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type CountingWebSocket, countingWebSocket, type HubServer, startHub, until } from "./helpers.ts";

type Events = { a: number; b: number; c: number; sync: string };

interface Spoke {
  name: string;
  wire: CountingWebSocket;
  target: WebSocketSpoke;
  pubsub: PubSub<Events>;
}

function spokeOn(server: HubServer, name: string): Spoke {
  const wire = countingWebSocket();
  const target = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
  return { name, wire, target, pubsub: createPubSub<Events>({ eventTarget: target }) };
}

/**
 * A barrier per spoke: the hub publishes a marker on the spoke's own sync topic and waits for it. Frames to one
 * connection arrive in the order the hub sent them, so everything the hub sent the spoke before is in by then.
 */
async function barrier(hub: PubSub<Events>, spokes: Spoke[], marks: Map<Spoke, AsyncIterator<string>>, tag: string) {
  for (const spoke of spokes) hub.publish("sync", spoke.name, tag);
  for (const spoke of spokes) {
    assert.deepEqual(await nextWithin(marks.get(spoke)!, 5000), { value: tag, done: false }, spoke.name);
  }
}

Deno.test("websocket routing: each spoke's socket receives only the topics it subscribed to (the issue's scenario)", async () => {
  const server = startHub();
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const [A, B, C] = ["A", "B", "C"].map((name) => spokeOn(server, name));
  const all = [A, B, C];
  const marks = new Map(all.map((s) => [s, s.pubsub.subscribe("sync", s.name)] as const));
  // A subscribes a:1, B b:1, C nothing. A and B also listen on c:2, where A publishes.
  const aAtA = A.pubsub.subscribe("a", "1");
  const bAtB = B.pubsub.subscribe("b", "1");
  const c2AtA = A.pubsub.subscribe("c", "2");
  const c2AtB = B.pubsub.subscribe("c", "2");
  const c2AtHub = atHub.subscribe("c", "2");
  try {
    await Promise.all([
      ...all.map((s) => s.pubsub.ready("sync", s.name)),
      A.pubsub.ready("a", "1"),
      B.pubsub.ready("b", "1"),
      A.pubsub.ready("c", "2"),
      B.pubsub.ready("c", "2"),
    ]);
    // 50 listeners on one topic send one subscribe frame.
    const many = Array.from({ length: 50 }, () => C.pubsub.subscribe("a", "9"));
    await C.pubsub.ready("a", "9");
    assert.equal(
      C.wire.sent.filter((f) => f.startsWith(JSON.stringify(["sub", topicFor("a", "9")]).slice(0, -1))).length,
      1,
    );
    for (const sub of many) await sub.return();
    await until(() => server.hub.stats().subscriptions === 7, 5000, "C's a:9 to be withdrawn");
    assert.equal(C.wire.sent.filter((f) => f === JSON.stringify(["unsub", topicFor("a", "9")])).length, 1);

    for (let i = 0; i < 500; i++) {
      atHub.publish("a", "1", i);
      atHub.publish("b", "1", i);
      atHub.publish("c", "1", i);
    }
    for (let i = 0; i < 200; i++) A.pubsub.publish("c", "2", i);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    // B got A's relay through the hub, once each and in order; the hub's own listener too.
    for (const i of range(200)) assert.deepEqual(await nextWithin(c2AtB, 5000), { value: i, done: false });
    for (const i of range(200)) assert.deepEqual(await nextWithin(c2AtHub, 5000), { value: i, done: false });
    // A's own subscriber got its events locally, once each.
    for (const i of range(200)) assert.deepEqual(await nextWithin(c2AtA, 5000), { value: i, done: false });
    await barrier(atHub, all, marks, "after the burst");

    assert.deepEqual(A.wire.payloads("a:1"), range(500));
    assert.deepEqual(B.wire.payloads("b:1"), range(500));
    assert.deepEqual(B.wire.payloads("c:2"), range(200), "relayed to the interested spoke exactly once, in order");
    assert.equal(A.wire.count("c:2"), 0, "never back to the sender");
    for (const spoke of all) {
      const foreign = spoke.wire.received.filter((f) =>
        !f.topic.startsWith("sync:") && !(spoke === A && f.topic === "a:1") &&
        !(spoke === B && (f.topic === "b:1" || f.topic === "c:2"))
      );
      assert.deepEqual(foreign, [], `${spoke.name} received frames for topics it never subscribed to`);
    }
    assert.equal(C.wire.received.filter((f) => !f.topic.startsWith("sync:")).length, 0);

    // A's subscription ends: the hub stops sending a:1 to A.
    await aAtA.return();
    await until(() => A.wire.sent.includes(JSON.stringify(["unsub", "a:1"])), 5000, "A's unsub");
    await until(() => server.hub.stats().subscriptions === 6, 5000, "the hub to drop A's a:1");
    for (let i = 0; i < 500; i++) atHub.publish("a", "1", 1000 + i);
    await barrier(atHub, all, marks, "after the unsubscribe");
    assert.equal(A.wire.count("a:1"), 500, "nothing for a:1 after the unsubscribe");
    assert.equal(B.wire.count("a:1") + C.wire.count("a:1"), 0);
    assert.equal(server.hub.stats().deliveries, 500 + 500 + 200 + 6);
  } finally {
    for (const sub of [aAtA, bAtB, c2AtA, c2AtB, c2AtHub]) await sub.return();
    atHub.close();
    for (const spoke of all) {
      spoke.pubsub.close();
      spoke.target.close();
      await spoke.target.closed;
    }
    await server.close();
  }
});

Deno.test("websocket routing: a hub publish reaches only subscribed spokes, and the hub's own listeners need no frame", async () => {
  const server = startHub();
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const X = spokeOn(server, "X");
  const Y = spokeOn(server, "Y");
  const fromY = atHub.subscribe("b", "7");
  const atX = X.pubsub.subscribe("b", "7");
  try {
    await X.pubsub.ready("b", "7");
    await Y.target.ready("");
    // Hub-local listeners are not announced anywhere: the hub holds one topic for its own listener and X's.
    assert.equal(server.hub.stats().topics, 1);
    assert.equal(server.hub.stats().subscriptions, 1);
    Y.pubsub.publish("b", "7", 1);
    assert.deepEqual(await nextWithin(fromY, 5000), { value: 1, done: false });
    assert.deepEqual(await nextWithin(atX, 5000), { value: 1, done: false });
    atHub.publish("b", "7", 2);
    assert.deepEqual(await nextWithin(fromY, 5000), { value: 2, done: false });
    assert.deepEqual(await nextWithin(atX, 5000), { value: 2, done: false });
    assert.deepEqual(X.wire.payloads("b:7"), [1, 2]);
    assert.equal(Y.wire.received.length, 0, "Y subscribed to nothing");
    assert.ok(!Y.wire.sent.some((f) => f.startsWith('["sub"')), "Y announced nothing");
  } finally {
    await fromY.return();
    await atX.return();
    atHub.close();
    for (const spoke of [X, Y]) {
      spoke.pubsub.close();
      spoke.target.close();
      await spoke.target.closed;
    }
    await server.close();
  }
});
