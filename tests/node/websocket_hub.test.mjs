// The hub on Node, as docs/architecture/hub.md sets it up: createWebSocketHub over `ws`'s WebSocketServer, in this
// process, with `ws` spokes. Under `node --test` (deno task test node) and `bun test` (deno task test bun). And the
// conformance kit over this runtime's own hub and a spoke: the Node hub under Node, the Bun hub (`Bun.serve`, native
// fan-out) under Bun, as tests/websocket/conformance_test.ts runs it over the Deno hub.
import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "./fixtures/within.mjs";
import { WebSocket, WebSocketServer } from "ws";

import { createPubSub, SubscriptionRefusedError } from "@alkdev/pubsub";
import { conformance } from "@alkdev/pubsub/testing";
import { connectWebSocketEventTarget, createWebSocketHub } from "@alkdev/pubsub/websocket";

test("a Node hub on ws: authenticate, authorize, routing by interest, relay without echo", async () => {
  const errors = [];
  const hub = createWebSocketHub({
    authenticate: (credentials) => (typeof credentials?.user === "string" ? { user: credentials.user } : false),
    authorize: ({ action, id, context }) => action === "publish" || id === context?.user,
    onError: (error) => errors.push(error),
  });
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket, request) => hub.accept(socket, request));
  await new Promise((resolve) => wss.on("listening", resolve));
  const url = `ws://127.0.0.1:${wss.address().port}`;
  const atHub = createPubSub({ eventTarget: hub });

  // Counts the data frames reaching each spoke's socket.
  const frames = { ada: [], bob: [] };
  const spokeFor = (user) => {
    class Counting extends WebSocket {
      constructor(address, protocols) {
        super(address, protocols);
        this.on("message", (data, binary) => {
          const text = binary ? data.toString() : String(data);
          if (!text.startsWith("[")) frames[user].push(JSON.parse(text));
        });
      }
    }
    const target = connectWebSocketEventTarget(url, { WebSocket: Counting, credentials: { user }, onError: () => {} });
    return { target, pubsub: createPubSub({ eventTarget: target }) };
  };
  const ada = spokeFor("ada");
  const bob = spokeFor("bob");
  try {
    const adaOwn = ada.pubsub.subscribe("inbox", "ada");
    const bobOwn = bob.pubsub.subscribe("inbox", "bob");
    const adaSnoop = ada.pubsub.subscribe("inbox", "bob");
    const snoopRefused = assert.rejects(ada.pubsub.ready("inbox", "bob"), SubscriptionRefusedError);
    await ada.pubsub.ready("inbox", "ada");
    await bob.pubsub.ready("inbox", "bob");
    await snoopRefused;
    await assert.rejects(adaSnoop.next(), SubscriptionRefusedError); // the refused subscription ends with the refusal
    atHub.publish("inbox", "ada", "for ada");
    atHub.publish("inbox", "bob", "for bob");
    assert.deepEqual(await within(adaOwn.next(), 10_000, "ada"), { value: "for ada", done: false });
    assert.deepEqual(await within(bobOwn.next(), 10_000, "bob"), { value: "for bob", done: false });
    // Ada publishes to Bob's inbox: relayed to Bob, not back to Ada's socket.
    ada.pubsub.publish("inbox", "bob", "from ada");
    assert.deepEqual(await within(bobOwn.next(), 10_000, "relay"), { value: "from ada", done: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(frames.ada.map((f) => f.payload), ["for ada"]);
    assert.deepEqual(frames.bob.map((f) => f.payload), ["for bob", "from ada"]);
    const stats = hub.stats();
    assert.equal(stats.connections, 2);
    assert.equal(stats.refusedSubscribes, 1);
    assert.deepEqual(errors, []);
    await Promise.all([adaOwn.return(), bobOwn.return()]);
  } finally {
    ada.target.close();
    bob.target.close();
    await Promise.all([ada.target.closed, bob.target.closed]);
    atHub.close();
    await hub.close();
    await new Promise((resolve) => wss.close(resolve));
  }
});

/** This runtime's hub with `options` on 127.0.0.1, a free port: the Bun hub under Bun, else createWebSocketHub on ws. */
async function serveHub(options) {
  if (typeof globalThis.Bun !== "undefined") {
    const { createBunWebSocketHub } = await import("@alkdev/pubsub/bun");
    const hub = createBunWebSocketHub(options);
    const server = globalThis.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request, server) => (hub.upgrade(request, server) ? undefined : new Response("", { status: 404 })),
      websocket: hub.websocket,
    });
    return { hub, url: `ws://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
  }
  const hub = createWebSocketHub(options);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket, request) => hub.accept(socket, request));
  await new Promise((resolve) => wss.on("listening", resolve));
  return { hub, url: `ws://127.0.0.1:${wss.address().port}`, stop: () => new Promise((resolve) => wss.close(resolve)) };
}

/** A conformance pair: this runtime's hub (with `options`) and one spoke. */
async function hubAndSpoke(options = {}) {
  const { hub, url, stop } = await serveHub({ onError: () => {}, onListenerError: () => {}, ...options });
  const spoke = connectWebSocketEventTarget(url, { WebSocket, onError: () => {}, onListenerError: () => {} });
  await spoke.ready("");
  return {
    a: hub,
    b: spoke,
    listenerCount: (target, topic) => target.listenerCount(topic),
    async close() {
      spoke.close();
      await spoke.closed;
      await hub.close();
      await stop();
    },
  };
}

const runtime = typeof globalThis.Bun !== "undefined" ? "bun" : "node";
conformance(`${runtime} hub + spoke`, () => hubAndSpoke(), { test });
conformance(`${runtime} hub with history + spoke (recover granted)`, () => hubAndSpoke({ history: {} }), { test });

test("a Node hub on ws sends text frames: the same UTF-8 text to each subscriber, control frames too", async () => {
  // The hub hands ws each data frame as bytes encoded once, with `binary: false` (adapters/websocket/ws_text.ts):
  // at the wire they must still be text frames, byte for byte the JSON, to every subscribed socket and no other.
  const hub = createWebSocketHub();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket, request) => hub.accept(socket, request));
  await new Promise((resolve) => wss.on("listening", resolve));
  const url = `ws://127.0.0.1:${wss.address().port}`;
  const atHub = createPubSub({ eventTarget: hub });
  const sockets = [];
  const open = async (topic) => {
    const socket = new WebSocket(url);
    sockets.push(socket);
    const frames = [];
    let arrived = () => {};
    socket.on("message", (data, binary) => {
      frames.push({ binary, text: data.toString("utf8") });
      arrived();
    });
    const next = async (count) => {
      while (frames.length < count) await within(new Promise((resolve) => (arrived = resolve)), 10_000, topic);
      return frames;
    };
    await new Promise((resolve, reject) => socket.on("open", resolve).on("error", reject));
    socket.send('["hello",2]');
    socket.send(JSON.stringify(["sub", topic]));
    await next(2); // welcome, suback
    return { frames, next };
  };
  try {
    const a = await open("note:1");
    const b = await open("note:1");
    const other = await open("note:2");
    const payloads = ["plain", "ü€ 😀 ✓"];
    for (const payload of payloads) atHub.publish("note", "1", payload);
    atHub.publish("note", "2", "other");
    const expected = payloads.map((payload) => JSON.stringify({ type: "note", id: "1", payload }));
    for (const client of [a, b]) {
      const frames = await client.next(4);
      assert.deepEqual(frames.map((f) => f.binary), [false, false, false, false]);
      assert.deepEqual(frames.map((f) => f.text), ['["welcome",2]', '["suback","note:1"]', ...expected]);
    }
    const frames = await other.next(3);
    assert.deepEqual(frames.map((f) => [f.binary, f.text]), [
      [false, '["welcome",2]'],
      [false, '["suback","note:2"]'],
      [false, JSON.stringify({ type: "note", id: "2", payload: "other" })],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(a.frames.length + b.frames.length + other.frames.length, 11);
  } finally {
    for (const socket of sockets) socket.close();
    atHub.close();
    await hub.close();
    await new Promise((resolve) => wss.close(resolve));
  }
});
