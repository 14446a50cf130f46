/**
 * Protocol versioning (issue 11): a version 1 peer gets close code 4426 and
 * a reason naming version 2, never silent misrouting; a spoke facing a hub
 * that answers with anything but `["welcome", 2]` stops with 4400.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { CloseCode, connectWebSocketEventTarget, WebSocketHandshakeError } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, opened, startHub } from "./helpers.ts";

type Events = { news: string };

Deno.test("websocket version: hand-written v1 peers get 4426 'Protocol version 2 required'; v2 spokes are unaffected", async (t) => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const news = atSpoke.subscribe("news", "1");
  const heard = atHub.subscribe("news", "1");
  try {
    await atSpoke.ready("news", "1");
    // A v1 spoke opened with ["auth", credentials]; a v1 spoke without credentials sent data at once.
    const v1: [string, string][] = [
      ["auth frame", '["auth","x"]'],
      ["data frame first", '{"type":"news","id":"1","payload":"from v1"}'],
    ];
    for (const [name, frame] of v1) {
      await t.step(name, async () => {
        const before = server.errors.length;
        const raw = new WebSocket(server.url);
        const received: string[] = [];
        raw.addEventListener("message", (e) => received.push(String(e.data)));
        await opened(raw);
        raw.send(frame);
        const event = await closedEvent(raw);
        assert.equal(event.code, CloseCode.UnsupportedProtocol);
        assert.equal(event.code, 4426);
        assert.equal(event.reason, "Protocol version 2 required");
        assert.deepEqual(received, [], "nothing was sent to the v1 peer");
        const error = server.errors[before] as WebSocketHandshakeError;
        assert.ok(error instanceof WebSocketHandshakeError);
        assert.equal(error.closeCode, 4426);
        assert.match(error.message, /version 2/);
      });
    }
    // The v1 peer's event went nowhere; the v2 spoke still works.
    atHub.publish("news", "1", "v2 only");
    assert.deepEqual(await nextWithin(heard, 5000), { value: "v2 only", done: false });
    assert.deepEqual(await nextWithin(news, 5000), { value: "v2 only", done: false });
    assert.equal(spoke.state, "open");
  } finally {
    await news.return();
    await heard.return();
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket version: a spoke whose hub does not answer ['welcome', 2] stops (4400; 4408 after data) and does not retry", async (t) => {
  for (const answer of ['["welcome",1]', '["welcome","2"]', '["auth-ok"]', '{"type":"news","id":"1","payload":"x"}']) {
    await t.step(answer, async () => {
      const sockets: WebSocket[] = [];
      const hub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
        const { socket, response } = Deno.upgradeWebSocket(request);
        sockets.push(socket);
        socket.addEventListener("message", () => socket.send(answer), { once: true });
        return response;
      });
      const errors: unknown[] = [];
      const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${hub.addr.port}`, {
        backoff: { initialDelay: 0 },
        handshakeTimeout: 300,
        onError: (error) => errors.push(error),
      });
      try {
        const info = await spoke.closed;
        // A wrong control frame ends the handshake at once; data (a v1 hub broadcasting) is reported and the
        // handshake times out.
        assert.equal(info.code, answer.startsWith("[") ? CloseCode.BadRequest : CloseCode.HandshakeTimeout);
        assert.ok(errors.length >= 1);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(sockets.length, 1, "the spoke must not retry");
      } finally {
        spoke.close();
        await Promise.all(sockets.map((s) => s.readyState === WebSocket.CLOSED ? undefined : closedEvent(s)));
        await hub.shutdown();
      }
    });
  }
});
