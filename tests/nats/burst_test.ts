/** A burst from another NATS target reaches a subscriber that keeps up, whole and in order. */

import assert from "node:assert/strict";
import { assertBurstArrives } from "../burst.ts";
import { targetWithConnection, uniquePrefix } from "./_helpers.ts";

Deno.test("nats: the remote side bursts 10 000 events in one loop; a counting subscriber gets all, in order", async () => {
  const prefix = uniquePrefix("burst");
  const [receiving, sending] = await Promise.all([targetWithConnection({ prefix }), targetWithConnection({ prefix })]);
  try {
    await assertBurstArrives(sending.target, receiving.target);
    assert.deepEqual(receiving.collected.errors, []);
    assert.deepEqual(sending.collected.errors, []);
  } finally {
    await Promise.all([receiving.close(), sending.close()]);
  }
});
