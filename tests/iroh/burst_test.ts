/** A burst from the remote side reaches a subscriber that keeps up, whole and in order. */

import assert from "node:assert/strict";
import { createHubIrohEventTarget, createSpokeIrohEventTarget } from "../../adapters/iroh/mod.ts";
import { createPubSub } from "../../mod.ts";
import { connectPair, iroh } from "./load_iroh.ts";
import { countInOrder } from "../burst.ts";

Deno.test({
  name: "iroh: the spoke bursts 10 000 events in one loop; a counting subscriber on the hub gets all, in order",
  ignore: iroh === undefined,
}, async () => {
  const pair = await connectPair();
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn),
    createHubIrohEventTarget(pair.serverConn),
  ]);
  try {
    const n = 10_000;
    const receiver = createPubSub<{ seq: number }>({ eventTarget: hub });
    const publisher = createPubSub<{ seq: number }>({ eventTarget: spoke });
    const sub = receiver.subscribe("seq", "burst");
    const counted = countInOrder(sub, n);
    for (let i = 0; i < n; i++) publisher.publish("seq", "burst", i);
    await spoke.close();
    assert.equal(await counted, n);
    publisher.close();
    receiver.close();
  } finally {
    await Promise.all([spoke.close(), hub.close()]);
    await pair.close();
  }
});
