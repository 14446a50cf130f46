/** A burst from another Redis target reaches a subscriber that keeps up, whole and in order. */

import assert from "node:assert/strict";
import { targetWithClients } from "./_helpers.ts";
import { assertBurstArrives } from "../burst.ts";

for (const sharded of [false, true]) {
  Deno.test(`redis${sharded ? " (sharded)" : ""}: the remote side bursts 10 000 events in one loop; a counting subscriber gets all, in order`, async () => {
    // A short prefix and tiny events pack the most messages into each socket chunk.
    const prefix = `b${crypto.randomUUID().slice(0, 6)}:`;
    const [receiving, sending] = await Promise.all([
      targetWithClients({ prefix, sharded }),
      targetWithClients({ prefix, sharded }),
    ]);
    try {
      await assertBurstArrives(sending.target, receiving.target);
      assert.deepEqual(receiving.collected.errors, []);
      assert.deepEqual(sending.collected.errors, []);
    } finally {
      await Promise.all([receiving.close(), sending.close()]);
    }
  });
}
