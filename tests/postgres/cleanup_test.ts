/**
 * Channel cleanup at the server: 10,000 subscribe/unsubscribe cycles (ended by return(), break and abort) leave no
 * channel LISTENed, asked of the server on the listening connection itself (pg_listening_channels()), and none in
 * the target.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { subscribeCycles } from "../subscribe_cycles.ts";
import { listeningChannels, pgTarget, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { seq: number };

const CYCLES = 10_000;

Deno.test(`postgres: ${CYCLES} subscribe/unsubscribe cycles leave 0 channels LISTENed`, async () => {
  const t = await pgTarget({ prefix: uniquePrefix("cleanup") });
  const pubsub = createPubSub<Events>({ eventTarget: t.target });
  try {
    await waitFor(() => t.target.state === "ready", 10_000, "ready");
    const conn = t.opened[0];
    // The count is really there to see: one held subscription shows as one channel.
    const held = pubsub.subscribe("seq", "held");
    await pubsub.ready("seq", "held");
    assert.deepEqual(await listeningChannels(conn), [t.target.channelFor("seq:held")]);
    await held.return(undefined);
    await waitFor(() => t.target.listeningCount === 0, 5000, "UNLISTEN");
    assert.deepEqual(await listeningChannels(conn), []);

    await subscribeCycles(pubsub, CYCLES, { readyBeforePublish: true });
    assert.equal(t.target.listenerCount(), 0);
    await waitFor(() => t.target.listeningCount === 0, 10_000, "the last UNLISTEN");
    assert.deepEqual(await listeningChannels(conn), []);
    assert.equal(t.opened.length, 1);
  } finally {
    pubsub.close();
    await t.close();
  }
});
