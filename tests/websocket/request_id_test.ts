/**
 * Matchable subscribe answers: each `sub` carries a request id the hub echoes, so a spoke that unsubscribes and
 * quickly subscribes again never takes the answer to its earlier `sub` for the answer to the new one. Asserted at the
 * spoke's socket: when `ready()` resolves, the `suback` for the latest `sub` has arrived.
 */

import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { assertReadyWaitsForItsOwnSuback } from "../resubscribe_race.ts";
import { countingWebSocket, startHub, until } from "./helpers.ts";

const topic = "news:1";

Deno.test("websocket request ids: 1,000 rapid unsub/re-subs against a slow authorize; ready() waits for its own suback", async () => {
  let authorized = 0;
  const server = startHub({
    // 0–3 ms per decision, so earlier answers are often in flight when the spoke subscribes again.
    authorize: () => new Promise((r) => setTimeout(() => r(++authorized > 0), Math.floor(Math.random() * 4))),
  });
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
  try {
    await assertReadyWaitsForItsOwnSuback(spoke, topic, wire.sent, wire.controlIn);
    await until(() => server.hub.stats().topics === 0, 5000, "the hub to drop the topic");
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
