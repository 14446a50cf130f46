/** A burst from the remote side reaches a subscriber that keeps up, whole and in order, both ways. */

import assert from "node:assert/strict";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { startHub } from "./helpers.ts";
import { assertBurstArrives } from "../burst.ts";

for (const direction of ["spoke to hub", "hub to spoke"]) {
  Deno.test(`websocket: ${direction}, 10 000 events in one loop; a counting subscriber gets all, in order`, async () => {
    const server = startHub();
    const spoke = connectWebSocketEventTarget(server.url, { onError: () => {}, onListenerError: () => {} });
    try {
      if (direction === "spoke to hub") {
        await assertBurstArrives(spoke, server.hub, { ready: () => spoke.ready("t:") });
      } else {
        await assertBurstArrives(server.hub, spoke);
      }
      assert.deepEqual(server.errors, []);
    } finally {
      spoke.close();
      await spoke.closed;
      await server.close();
    }
  });
}
