// The npm package's WebSocket adapter under Node 20: a spoke using `ws` and
// @alkdev/pubsub/websocket talks to a Deno hub child process
// (fixtures/websocket_hub.ts) over real sockets on 127.0.0.1. Run by
// scripts/test_node.ts with env DENO (the deno binary) and REPO (the repository root).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { within } from "./fixtures/within.mjs";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Buffer } from "node:buffer";
import { WebSocket } from "ws";

import { createPubSub } from "@alkdev/pubsub";
import { connectWebSocketEventTarget, WebSocketHandshakeError } from "@alkdev/pubsub/websocket";

if (!process.env.DENO || !process.env.REPO) {
  throw new Error("tests/node/websocket.test.mjs needs env DENO (the deno binary) and REPO (the repository root)");
}

const TIMEOUT = 30_000;
let hub;
let url;

function nextEvent(target, type) {
  return within(
    new Promise((resolve) => target.addEventListener(type, (e) => resolve(e.detail), { once: true })),
    TIMEOUT,
    type,
  );
}

before(async () => {
  const repo = process.env.REPO;
  hub = spawn(process.env.DENO, ["run", "--allow-net=127.0.0.1", `${repo}/tests/node/fixtures/websocket_hub.ts`], {
    cwd: repo,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: hub.stdout })[Symbol.asyncIterator]();
  const { value } = await within(lines.next(), TIMEOUT, "hub output");
  url = `ws://127.0.0.1:${JSON.parse(value).port}`;
});

after(() => {
  hub?.kill();
});

/** ws's WebSocket, counting the types of the data frames (not "[" control frames) that reach its socket. */
function countingWebSocket() {
  const types = [];
  class CountingWebSocket extends WebSocket {
    constructor(address, protocols) {
      super(address, protocols);
      this.addEventListener("message", (event) => {
        const text = typeof event.data === "string" ? event.data : Buffer.from(event.data).toString("utf8");
        if (!text.startsWith("[")) types.push(JSON.parse(text).type);
      });
    }
  }
  return { WebSocket: CountingWebSocket, types };
}

test("a ws spoke exchanges events with a Deno hub, routed by interest, reconnects, and answers heartbeats", async () => {
  const errors = [];
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(url, {
    WebSocket: wire.WebSocket,
    credentials: () => Promise.resolve({ token: "node-secret" }),
    backoff: { initialDelay: 0 },
    onError: (error) => errors.push(error),
  });
  const pubsub = createPubSub({ eventTarget: spoke });
  const echoed = pubsub.subscribe("echoed", "1");
  const own = pubsub.subscribe("echo", "1");
  try {
    await within(pubsub.ready("echoed", "1"), TIMEOUT, "open");
    const payloads = [null, undefined, 0, "", false, "ünïcødé ✓", { nested: [1, { deep: true }] }];
    for (const payload of payloads) pubsub.publish("echo", "1", payload);
    for (const payload of payloads) {
      assert.deepEqual(await within(echoed.next(), TIMEOUT, "echo"), { value: payload, done: false });
      assert.deepEqual(await within(own.next(), TIMEOUT, "own"), { value: payload, done: false });
    }
    // The hub pings every 100 ms; the spoke must answer for the connection to last.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(spoke.state, "open");

    const reopened = nextEvent(spoke, "open");
    pubsub.publish("drop", "1", null);
    await reopened;
    pubsub.publish("echo", "1", "after reconnect");
    // Skip the echo of "drop" round: only "echo" events come back.
    assert.deepEqual(await within(echoed.next(), TIMEOUT, "echo after reconnect"), {
      value: "after reconnect",
      done: false,
    });
    // At the socket: only the subscribed "echoed" frames, once each; never "noise" (not subscribed) and never
    // the spoke's own "echo" events back, although it listens on echo:1 itself.
    assert.deepEqual(wire.types, Array(payloads.length + 1).fill("echoed"));
    assert.deepEqual(errors, []);
  } finally {
    pubsub.close();
    spoke.close();
    assert.equal((await within(spoke.closed, TIMEOUT, "closed")).code, 1000);
  }
});

test("a ws spoke with wrong credentials gets 4401, does not retry, and ends its pub/sub", async () => {
  const errors = [];
  const spoke = connectWebSocketEventTarget(url, {
    WebSocket,
    credentials: { token: "wrong" },
    backoff: { initialDelay: 0 },
    onError: (error) => errors.push(error),
  });
  let reconnects = 0;
  let closes = 0;
  spoke.addEventListener("reconnecting", () => reconnects++);
  spoke.addEventListener("close", () => closes++);
  const pubsub = createPubSub({ eventTarget: spoke });
  const pending = pubsub.subscribe("echoed", "1").next();
  const info = await within(spoke.closed, TIMEOUT, "closed");
  assert.equal(info.code, 4401);
  assert.equal(spoke.state, "closed");
  assert.equal(reconnects, 0);
  assert.equal(closes, 1);
  // The spoke's one terminal "close" ended the pub/sub's subscription.
  assert.deepEqual(await within(pending, TIMEOUT, "the subscription to end"), { value: undefined, done: true });
  assert.equal(pubsub.closed, true);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof WebSocketHandshakeError);
  assert.equal(errors[0].code, "ERR_WEBSOCKET_HANDSHAKE");
});

test("a ws spoke with a mismatched codec publishing bursts of 30 stops after the first final close (4400)", async () => {
  let reconnects = 0;
  const spoke = connectWebSocketEventTarget(url, {
    WebSocket,
    credentials: { token: "node-secret" },
    // Not JSON: the hub's default codec refuses every frame, and closes after 20 of them.
    codec: {
      encode: (envelope) => "v1" + JSON.stringify(envelope),
      decode: (data) => JSON.parse(String(data).slice(2)),
    },
    backoff: { initialDelay: 50, maxDelay: 100 },
    onError: () => {},
  });
  spoke.addEventListener("reconnecting", () => reconnects++);
  const pubsub = createPubSub({ eventTarget: spoke });
  let sent = 0;
  const timer = setInterval(() => {
    if (spoke.state === "open") { for (let i = 0; i < 30; i++) pubsub.publish("spam", "1", sent++); }
  }, 20);
  try {
    const info = await within(spoke.closed, 6_000, "the final close");
    await new Promise((resolve) => setTimeout(resolve, 500)); // a reconnect would show here
    assert.equal(info.code, 4400);
    assert.equal(reconnects, 0);
  } finally {
    clearInterval(timer);
    pubsub.close();
    spoke.close();
  }
});
