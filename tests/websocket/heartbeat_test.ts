import assert from "node:assert/strict";
import {
  connectWebSocketEventTarget,
  type WebSocketCloseInfo,
  WebSocketHeartbeatError,
} from "../../adapters/websocket/mod.ts";
import { closedEvent, handshake, nextEvent, opened, startHub } from "./helpers.ts";

const interval = 100;
const timeout = 100;
// Generous slack for a loaded machine; the bound itself is interval + timeout.
const slack = 1000;

Deno.test("websocket: the hub closes a peer that never answers pings within interval + timeout", async () => {
  const server = startHub({ heartbeat: { interval, timeout } });
  const raw = new WebSocket(server.url); // a plain socket: it says hello, then never answers ["ping"]
  const pings: string[] = [];
  try {
    await opened(raw);
    // The heartbeat starts once the handshake is done.
    await handshake(raw);
    const start = performance.now();
    raw.addEventListener("message", (e) => pings.push(String(e.data)));
    const event = await closedEvent(raw);
    const elapsed = performance.now() - start;
    assert.equal(event.code, 4000);
    assert.equal(event.reason, "Heartbeat timeout");
    assert.ok(elapsed >= interval + timeout - 30, `closed too early: ${elapsed} ms`);
    assert.ok(elapsed <= interval + timeout + slack, `closed too late: ${elapsed} ms`);
    assert.deepEqual(pings, ['["ping"]']);
    assert.equal(server.errors.length, 1);
    assert.ok(server.errors[0] instanceof WebSocketHeartbeatError);
    assert.equal(server.errors[0].code, "ERR_WEBSOCKET_HEARTBEAT_TIMEOUT");
    assert.equal((await server.connections[0].closed).code, 4000);
  } finally {
    await server.close();
  }
});

Deno.test("websocket: a peer that answers pings stays connected", async () => {
  const server = startHub({ heartbeat: { interval: 30, timeout: 60 } });
  // The spoke sends no pings of its own but answers the hub's.
  const spoke = connectWebSocketEventTarget(server.url, { heartbeat: false, onError: () => {} });
  let closes = 0;
  spoke.addEventListener("disconnect", () => closes++);
  spoke.addEventListener("close", () => closes++);
  try {
    await spoke.ready("");
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(closes, 0);
    assert.equal(spoke.state, "open");
    assert.equal(server.hub.connections, 1);
    assert.deepEqual(server.errors, []);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket: the spoke drops a silent hub within interval + timeout and reconnects", async () => {
  const sockets: WebSocket[] = [];
  const silent = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    sockets.push(socket);
    // A hand-made hub: it answers the hello, then never answers anything again (no pong).
    socket.addEventListener("message", (e) => {
      if (String(e.data).startsWith('["hello",2')) socket.send('["welcome",2]');
    });
    return response;
  });
  const errors: unknown[] = [];
  const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${silent.addr.port}`, {
    heartbeat: { interval, timeout },
    backoff: { initialDelay: 10_000 },
    onError: (error) => errors.push(error),
  });
  try {
    await spoke.ready("");
    const start = performance.now();
    const detail = await nextEvent<WebSocketCloseInfo>(spoke, "disconnect", interval + timeout + slack + 1000);
    const elapsed = performance.now() - start;
    assert.equal(detail.code, 4000);
    assert.ok(detail.error instanceof WebSocketHeartbeatError);
    assert.ok(elapsed <= interval + timeout + slack, `closed too late: ${elapsed} ms`);
    assert.equal(spoke.state, "reconnecting");
    assert.equal(errors.length, 1);
  } finally {
    spoke.close();
    await spoke.closed;
    await Promise.all(sockets.map((s) => {
      const done = closedEvent(s);
      s.close();
      return done;
    }));
    await silent.shutdown();
  }
});
