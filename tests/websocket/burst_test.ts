/** A burst from the remote side reaches a subscriber that keeps up, whole and in order, both ways. */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { startHub } from "./helpers.ts";
import { countInOrder } from "../burst.ts";

for (const direction of ["spoke to hub", "hub to spoke"]) {
  Deno.test(`websocket: ${direction}, 10 000 events in one loop; a counting subscriber gets all, in order`, async () => {
    const server = startHub();
    const spoke = connectWebSocketEventTarget(server.url, { onError: () => {}, onListenerError: () => {} });
    const hub = createPubSub<{ t: number }>({ eventTarget: server.hub });
    const client = createPubSub<{ t: number }>({ eventTarget: spoke });
    const [sender, receiver] = direction === "spoke to hub" ? [client, hub] : [hub, client];
    try {
      const sub = receiver.subscribe("t", "");
      await spoke.ready("t:");
      const counted = countInOrder(sub, 10_000);
      for (let i = 0; i < 10_000; i++) sender.publish("t", "", i);
      assert.equal(await counted, 10_000);
      assert.deepEqual(server.errors, []);
    } finally {
      hub.close();
      client.close();
      spoke.close();
      await spoke.closed;
      await server.close();
    }
  });
}
