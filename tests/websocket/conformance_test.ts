import { conformance } from "../../testing/mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketEventTarget,
  type WebSocketHub,
  type WebSocketSpoke,
} from "../../adapters/websocket/mod.ts";
import { startHub, startPerConnectionServer } from "./helpers.ts";

const quiet = { onError: () => {}, onListenerError: () => {} };

conformance("websocket hub + spoke", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, quiet);
  await spoke.ready("");
  return {
    a: server.hub,
    b: spoke,
    listenerCount: (t, topic) => (t as WebSocketHub | WebSocketSpoke).listenerCount(topic),
    async close() {
      spoke.close();
      await spoke.closed;
      await server.close();
    },
  };
});

conformance("websocket per-connection target + spoke with credentials", async () => {
  const server = startPerConnectionServer({ authenticate: (c) => c === "token" });
  const accepted = server.next();
  const spoke = connectWebSocketEventTarget(server.url, { ...quiet, credentials: () => Promise.resolve("token") });
  const target = await accepted;
  await Promise.all([spoke.ready(""), target.ready("")]);
  return {
    a: target,
    b: spoke,
    listenerCount: (t, topic) => (t as WebSocketEventTarget | WebSocketSpoke).listenerCount(topic),
    async close() {
      spoke.close();
      await spoke.closed;
      await server.close();
    },
  };
});

conformance("websocket hub with history + spoke (recover granted)", async () => {
  const server = startHub({ history: {} });
  const spoke = connectWebSocketEventTarget(server.url, quiet);
  await spoke.ready("");
  return {
    a: server.hub,
    b: spoke,
    listenerCount: (t, topic) => (t as WebSocketHub | WebSocketSpoke).listenerCount(topic),
    async close() {
      spoke.close();
      await spoke.closed;
      await server.close();
    },
  };
});
