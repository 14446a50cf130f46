/** A burst from another NATS target reaches a subscriber that keeps up, whole and in order. */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { countInOrder } from "../burst.ts";
import { targetWithConnection, uniquePrefix } from "./_helpers.ts";

Deno.test("nats: the remote side bursts 10 000 events in one loop; a counting subscriber gets all, in order", async () => {
  const prefix = uniquePrefix("burst");
  const [receiving, sending] = await Promise.all([targetWithConnection({ prefix }), targetWithConnection({ prefix })]);
  const receiver = createPubSub<{ t: number }>({ eventTarget: receiving.target });
  const sender = createPubSub<{ t: number }>({ eventTarget: sending.target });
  try {
    const sub = receiver.subscribe("t", "");
    await receiver.ready("t", "");
    const counted = countInOrder(sub, 10_000);
    for (let i = 0; i < 10_000; i++) sender.publish("t", "", i);
    assert.equal(await counted, 10_000);
    assert.deepEqual(receiving.collected.errors, []);
    assert.deepEqual(sending.collected.errors, []);
  } finally {
    receiver.close();
    sender.close();
    await Promise.all([receiving.close(), sending.close()]);
  }
});
