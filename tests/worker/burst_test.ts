/** A burst from a real worker reaches a main-thread subscriber that keeps up, whole and in order. */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { createWorkerEventTarget } from "../../adapters/worker/mod.ts";
import { countInOrder } from "../burst.ts";

for (const batch of [false, true]) {
  Deno.test(`worker${batch ? " (batch: true)" : ""}: the worker bursts 10 000 events in one loop; a counting subscriber gets all, in order`, async () => {
    const worker = new Worker(new URL("./fixtures/burst_worker.ts", import.meta.url), {
      type: "module",
      name: batch ? "batch" : "plain",
    });
    const target = createWorkerEventTarget(worker, { closeEndpoint: true });
    const pubsub = createPubSub<{ seq: number }>({ eventTarget: target });
    try {
      assert.equal(await countInOrder(pubsub.subscribe("seq", "burst"), 10_000), 10_000);
    } finally {
      pubsub.close();
      target.close();
    }
  });
}
