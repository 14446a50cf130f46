/**
 * The per-connection limits at the wire, on an in-process hub: pongs, the send budget on control frames, inbound rate
 * limits, the invalid-frame window and the heartbeat. The attacks themselves (and memory) are in abuse_test.ts.
 */

import assert from "node:assert/strict";
import {
  CloseCode,
  connectWebSocketEventTarget,
  createWebSocketHub,
  WebSocketBackpressureError,
  WebSocketRateLimitError,
} from "../../adapters/websocket/mod.ts";
import { closedEvent, handshake, maskedFrames, nextEvent, opened, rawUpgrade, startHub, until } from "./helpers.ts";

/** Reads for `ms` and returns everything received. */
async function readFor(conn: Deno.TcpConn, ms: number): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  const deadline = Date.now() + ms;
  // One read outstanding at a time: a read abandoned on an idle tick would swallow the bytes it later returns.
  let reading: Promise<number | null> | undefined;
  while (Date.now() < deadline) {
    reading ??= conn.read(buffer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([reading, new Promise<"idle">((r) => (timer = setTimeout(() => r("idle"), 50)))]);
    clearTimeout(timer);
    if (n === "idle") continue;
    reading = undefined;
    if (n === null) break;
    text += new TextDecoder("latin1").decode(buffer.subarray(0, n));
  }
  reading?.catch(() => {}); // settles when the test closes the connection
  return text;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

Deno.test("websocket limits: no pong before the handshake is done (a ping there closes with 4400); pongs after it", async () => {
  const server = startHub({ authenticate: (credentials) => credentials === "secret", heartbeat: false });
  const early = new WebSocket(server.url);
  const earlyReceived: string[] = [];
  early.addEventListener("message", (e) => earlyReceived.push(String(e.data)));
  const raw = new WebSocket(server.url);
  const received: string[] = [];
  raw.addEventListener("message", (e) => received.push(String(e.data)));
  try {
    await Promise.all([opened(early), opened(raw)]);
    const earlyClosed = closedEvent(early);
    early.send('["ping"]');
    assert.equal((await earlyClosed).code, CloseCode.BadRequest);
    assert.deepEqual(earlyReceived, [], "the hub answered before the handshake");
    raw.send('["hello",2,"secret"]');
    await until(() => received.length === 1, 5000, "the welcome");
    raw.send('["ping"]');
    await until(() => received.length === 2, 5000, "the pong");
    assert.deepEqual(received, ['["welcome",2]', '["pong"]']);
  } finally {
    const done = closedEvent(raw);
    raw.close();
    await done;
    await server.close();
  }
});

Deno.test("websocket limits: a ping while the last pong is unsent gets no second pong", async () => {
  const server = startHub({ heartbeat: false });
  const conn = await rawUpgrade(server.url);
  try {
    const pings = 2000;
    await conn.write(maskedFrames('["hello",2]', 1));
    await conn.write(maskedFrames('["ping"]', pings)); // at once, without reading
    const text = await readFor(conn, 1000);
    const pongs = count(text, '["pong"]');
    assert.ok(pongs >= 1, "no pong at all");
    // One pong per turn of the hub's event loop at most, not one per ping.
    assert.ok(pongs <= pings / 10, `${pongs} pongs for ${pings} pings`);
    assert.equal(server.connections[0].state, "open");
  } finally {
    conn.close();
    await server.close();
  }
});

Deno.test("websocket limits: control frames count against the send budget (a tiny handshake budget refuses the welcome)", async () => {
  const server = startHub({ authenticate: () => true, handshakeHighWaterMark: 512 });
  const spoke = connectWebSocketEventTarget(server.url, { credentials: "x", onError: () => {} });
  try {
    // The welcome (its length + 1024 of per-frame overhead) does not fit 512: the hub closes with 4013.
    const info = await nextEvent<{ code: number }>(spoke, "disconnect", 5000);
    assert.equal(info.code, CloseCode.SlowConsumer);
    const error = server.errors.find((e) => e instanceof WebSocketBackpressureError) as WebSocketBackpressureError;
    assert.ok(error !== undefined);
    assert.equal(error.highWaterMark, 512);
    // The cost is the welcome's own length (at least the bare `["welcome",2]`) plus the per-frame overhead.
    assert.ok(error.cost >= '["welcome",2]'.length + 1024 && error.cost < 512 + 1024, `cost ${error.cost}`);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket limits: a peer past the inbound frame rate is closed with 4008 (the library spoke paces itself instead)", async () => {
  const server = startHub({ inboundLimits: { framesPerSecond: 10, frameBurst: 20 }, heartbeat: false });
  const raw = new WebSocket(server.url);
  try {
    await opened(raw);
    await handshake(raw); // a bare hello: no limits announced, so nothing paces this peer
    const closed = closedEvent(raw);
    for (let i = 0; i < 50; i++) raw.send(JSON.stringify({ type: "n", id: "1", payload: i }));
    // The hub closes with 4008. The peer, still sending, may see 1006 instead: Deno resets a TCP connection closed
    // with unread data in it.
    assert.equal((await server.connections[0].closed).code, CloseCode.RateLimited);
    await closed;
    const error = server.errors.find((e) => e instanceof WebSocketRateLimitError) as WebSocketRateLimitError;
    assert.equal(error.limit, "frames");
    assert.equal(error.handshake, false);
    assert.equal(error.code, "ERR_WEBSOCKET_RATE_LIMIT");
  } finally {
    raw.close();
    await server.close();
  }
});

Deno.test("websocket limits: a frame over the handshake byte burst closes with 4008 before authentication", async () => {
  const server = startHub({ authenticate: () => true, heartbeat: false });
  const raw = new WebSocket(server.url);
  try {
    await opened(raw);
    const closed = closedEvent(raw);
    raw.send(JSON.stringify(["hello", 2, "x".repeat(70 * 1024)]));
    assert.equal((await closed).code, CloseCode.RateLimited);
    const error = server.errors.find((e) => e instanceof WebSocketRateLimitError) as WebSocketRateLimitError;
    assert.equal(error.limit, "bytes");
    assert.equal(error.handshake, true);
  } finally {
    await server.close();
  }
});

Deno.test("websocket limits: maxInvalidFrames invalid frames within the window close with 4400", async () => {
  const server = startHub({ maxInvalidFrames: 3, heartbeat: false });
  const raw = new WebSocket(server.url);
  try {
    await opened(raw);
    await handshake(raw);
    const closed = closedEvent(raw);
    raw.send("not json");
    raw.send('["nope"]');
    raw.send("{}");
    const event = await closed;
    assert.equal(event.code, CloseCode.BadRequest);
    assert.equal(event.reason, "Too many invalid frames");
    assert.equal(server.errors.length, 4, "three invalid frames and the close");
  } finally {
    await server.close();
  }
});

Deno.test("websocket limits: a large invalid frame counts one strike per started 64 KiB", async () => {
  const server = startHub({ maxInvalidFrames: 20, heartbeat: false });
  const raw = new WebSocket(server.url);
  try {
    await opened(raw);
    await handshake(raw);
    const closed = closedEvent(raw);
    // 300,000 bytes: five strikes each; the fourth such frame is the twentieth strike.
    const big = "x".repeat(300_000);
    let frames = 0;
    for (; frames < 3; frames++) raw.send(big);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(raw.readyState, WebSocket.OPEN, "15 strikes: still open");
    raw.send(big);
    const event = await closed;
    assert.equal(event.code, CloseCode.BadRequest);
    assert.equal(event.reason, "Too many invalid frames");
    assert.equal(server.errors.length, 5, "four invalid frames and the close");
  } finally {
    await server.close();
  }
});

Deno.test("websocket limits: junk does not answer the heartbeat", async () => {
  const server = startHub({ heartbeat: { interval: 100, timeout: 200 } });
  const raw = new WebSocket(server.url); // never pongs; sends junk every 40 ms instead
  try {
    await opened(raw);
    await handshake(raw);
    const closed = closedEvent(raw);
    const timer = setInterval(() => raw.readyState === WebSocket.OPEN && raw.send("junk"), 40);
    const event = await closed;
    clearInterval(timer);
    assert.equal(event.code, CloseCode.HeartbeatTimeout);
  } finally {
    await server.close();
  }
});

Deno.test("websocket limits: bad limit options throw RangeError when the hub is made", async () => {
  assert.throws(() => createWebSocketHub({ inboundLimits: { framesPerSecond: 0 } }), RangeError);
  assert.throws(() => createWebSocketHub({ handshakeInboundLimits: { byteBurst: -1 } }), RangeError);
  assert.throws(() => createWebSocketHub({ maxInvalidFrames: 2.5 }), RangeError);
  assert.throws(() => createWebSocketHub({ inboundSlice: 0 }), RangeError);
  assert.throws(() => createWebSocketHub({ frameOverhead: -1 }), RangeError);
  assert.throws(() => createWebSocketHub({ handshakeHighWaterMark: 0 }), RangeError);
  await createWebSocketHub({ inboundLimits: { framesPerSecond: Infinity, bytesPerSecond: 1024 } }).close();
});
