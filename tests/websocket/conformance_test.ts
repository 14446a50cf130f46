import { conformance, type ConformancePair } from "../../testing/mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketEventTarget,
  type WebSocketHub,
  type WebSocketHubOptions,
  type WebSocketSpoke,
} from "../../adapters/websocket/mod.ts";
import { startHub, startPerConnectionServer } from "./helpers.ts";

const quiet = { onError: () => {}, onListenerError: () => {} };

/** A hub (with `options`) and one spoke. */
async function hubAndSpoke(options: WebSocketHubOptions<Request> = {}) {
  const server = startHub(options);
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
  } satisfies ConformancePair;
}

conformance("websocket hub + spoke", () => hubAndSpoke());

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

conformance("websocket hub with history + spoke (recover granted)", () => hubAndSpoke({ history: {} }));
