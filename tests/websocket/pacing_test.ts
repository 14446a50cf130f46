/** A library spoke paces itself under a library hub's announced inbound limits: fast publishers lose nothing. */

import assert from "node:assert/strict";
import {
  connectWebSocketEventTarget,
  type WebSocketHub,
  WebSocketOutboxOverflowError,
} from "../../adapters/websocket/mod.ts";
import { createPubSub, type PubSubError } from "../../mod.ts";
import { nextEvent, startHub, until } from "./helpers.ts";

/** Collects the events of topic n:1 at the hub, through a pub/sub subscription, until `last` says so. */
function collect(
  hub: WebSocketHub<Request>,
  last: (n: number, count: number) => boolean,
): { received: number[]; reading: Promise<void> } {
  const received: number[] = [];
  const sub = createPubSub<{ n: number }>({ eventTarget: hub }).subscribe("n", "1");
  const reading = (async () => {
    for await (const n of sub) if (last(n, received.push(n))) break;
  })();
  return { received, reading };
}

Deno.test("websocket pacing: the welcome announces the hub's inbound limits", async () => {
  const server = startHub();
  const socket = new WebSocket(server.url);
  try {
    await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
    socket.send(JSON.stringify(["hello", 2, null, { features: [] }]));
    const welcome = await new Promise<string>((resolve) =>
      socket.addEventListener("message", (event) => resolve(event.data), { once: true })
    );
    assert.deepEqual(JSON.parse(welcome), [
      "welcome",
      2,
      {
        limits: { framesPerSecond: 25_000, frameBurst: 100_000, bytesPerSecond: 8_388_608, byteBurst: 16_777_216 },
        features: [],
      },
    ]);
  } finally {
    socket.close();
    await server.close();
  }
});

Deno.test("websocket pacing: 100,000 events in one loop to a default hub: no 4008, none lost, in order", async () => {
  const server = startHub();
  const errors: PubSubError[] = [];
  const spoke = connectWebSocketEventTarget(server.url, { onError: (error) => errors.push(error) });
  const { received, reading } = collect(server.hub, (_n, count) => count === 100_000);
  const disconnects: unknown[] = [];
  spoke.addEventListener("disconnect", (event) => disconnects.push((event as CustomEvent).detail));
  try {
    await nextEvent(spoke, "open");
    const pubsub = createPubSub<{ n: number }>({ eventTarget: spoke });
    for (let i = 0; i < 100_000; i++) pubsub.publish("n", "1", i);
    assert.ok(spoke.bufferedAmount > 0, "the spoke holds what the hub's limits do not allow yet");
    const drained = nextEvent(spoke, "drain", 30_000);
    await until(() => received.length === 100_000, 30_000, "all 100,000 events at the hub");
    await drained;
    await reading;
    assert.equal(spoke.bufferedAmount, 0);
    assert.deepEqual(disconnects, [], "the hub never closed the spoke");
    assert.equal(spoke.state, "open");
    assert.deepEqual(server.errors, []);
    assert.deepEqual(errors, []);
    assert.equal(spoke.stats().dropped, 0);
    for (let i = 0; i < received.length; i++) if (received[i] !== i) assert.fail(`event ${i} is ${received[i]}`);
    // At the hub's socket: exactly the 100,000 data frames (besides the hello and the heartbeat), no more.
    const dataFrames = server.wire[0].filter((frame) => !frame.startsWith("["));
    assert.equal(dataFrames.length, 100_000);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket pacing: past outboxSize the oldest events are dropped, counted and reported once", async () => {
  const server = startHub({ inboundLimits: { framesPerSecond: 1_000, frameBurst: 1_000 } });
  const errors: PubSubError[] = [];
  const spoke = connectWebSocketEventTarget(server.url, { outboxSize: 500, onError: (error) => errors.push(error) });
  const { received, reading } = collect(server.hub, (n) => n === 1_999);
  try {
    await nextEvent(spoke, "open");
    const pubsub = createPubSub<{ n: number }>({ eventTarget: spoke });
    for (let i = 0; i < 2_000; i++) pubsub.publish("n", "1", i);
    await reading;
    // About 500 went at once (half the burst), 500 were held: the others, the oldest held, were dropped.
    const sentAtOnce = received.findIndex((n, i) => n !== i);
    assert.ok(sentAtOnce >= 500 && sentAtOnce < 560, `${sentAtOnce} went at once`);
    assert.deepEqual(received.slice(sentAtOnce), Array.from({ length: 500 }, (_, i) => 1_500 + i));
    assert.equal(spoke.stats().dropped, 2_000 - received.length);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof WebSocketOutboxOverflowError);
    assert.deepEqual(server.errors, []);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket pacing: under tight hub limits the library spoke is never closed with 4008; events arrive paced", async () => {
  const server = startHub({ inboundLimits: { framesPerSecond: 10, frameBurst: 20 }, heartbeat: false });
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const { received, reading } = collect(server.hub, (_n, count) => count === 30);
  try {
    await nextEvent(spoke, "open");
    const pubsub = createPubSub<{ n: number }>({ eventTarget: spoke });
    const started = performance.now();
    for (let i = 0; i < 30; i++) pubsub.publish("n", "1", i);
    await reading;
    const took = performance.now() - started;
    assert.deepEqual(received, Array.from({ length: 30 }, (_, i) => i));
    // Ten at once (half the burst), twenty more at 9 a second.
    assert.ok(took > 1_500, `paced: took ${Math.round(took)} ms`);
    assert.equal(server.connections.length, 1, "no reconnect");
    assert.equal(server.hub.stats().disconnects, 0);
    assert.deepEqual(server.errors, []);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
