/**
 * After each reconnect the spoke announces its subscriptions again before
 * anything in its outbox goes out (issue 11), asserted at the hub's wire.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { countingWebSocket, nextEvent, startHub, until } from "./helpers.ts";

type Events = { down: number; up: number };

Deno.test("websocket resubscribe: killed 10 times, the spoke's subscriptions reach the hub before its queued publishes", async () => {
  const server = startHub();
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, {
    WebSocket: wire.WebSocket,
    // Long enough to publish into the outbox while disconnected.
    backoff: { initialDelay: 40, maxDelay: 40, resetAfter: 60_000 },
    onError: () => {},
  });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const down1 = atSpoke.subscribe("down", "1");
  const down2 = atSpoke.subscribe("down", "2");
  const up = atHub.subscribe("up", "1");
  const subs = new Set(['["sub","down:1"]', '["sub","down:2"]']);
  try {
    await Promise.all([atSpoke.ready("down", "1"), atSpoke.ready("down", "2")]);
    for (let round = 1; round <= 10; round++) {
      const reconnecting = nextEvent(spoke, "reconnecting");
      // The hub kills the spoke's socket: alternately a normal close and a heartbeat-style one.
      server.connections.at(-1)!.close(round % 2 === 0 ? 1000 : 4000, `Kill ${round}`);
      await reconnecting;
      assert.equal(spoke.state, "reconnecting");
      const queued = [round * 10, round * 10 + 1, round * 10 + 2];
      for (const value of queued) atSpoke.publish("up", "1", value);
      await nextEvent(spoke, "open");

      // At the hub's wire: the hello, then both subscriptions, then the queued events, in order.
      const frames = server.wire.at(-1)!;
      await until(() => frames.length >= 6, 5000, `round ${round}: six frames at the hub`);
      assert.deepEqual(JSON.parse(frames[0]).slice(0, 2), ["hello", 2]);
      assert.deepEqual(new Set(frames.slice(1, 3)), subs, `round ${round}: ${frames.join(" ")}`);
      assert.deepEqual(
        frames.slice(3, 6).map((f) => JSON.parse(f).payload),
        queued,
        `round ${round}: ${frames.join(" ")}`,
      );
      for (const value of queued) assert.deepEqual(await nextWithin(up, 5000), { value, done: false });

      // Events flow after the reconnect, and the old connection left nothing behind at the hub.
      await Promise.all([atSpoke.ready("down", "1"), atSpoke.ready("down", "2")]);
      atHub.publish("down", "1", round);
      atHub.publish("down", "2", -round);
      assert.deepEqual(await nextWithin(down1, 5000), { value: round, done: false });
      assert.deepEqual(await nextWithin(down2, 5000), { value: -round, done: false });
      assert.equal(server.hub.stats().subscriptions, 2);
      assert.equal(server.hub.stats().topics, 3); // down:1, down:2 and the hub's own up:1
    }
    assert.equal(server.connections.length, 11);
    assert.equal(spoke.stats().reconnects, 10);
    // One data frame per hub publish reached the spoke: none lost or doubled across the reconnects.
    assert.deepEqual(wire.payloads("down:1"), Array.from({ length: 10 }, (_, i) => i + 1));
  } finally {
    await down1.return();
    await down2.return();
    await up.return();
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
