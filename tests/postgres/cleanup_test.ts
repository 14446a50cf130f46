/**
 * Channel cleanup at the server: 10,000 subscribe/unsubscribe cycles (ended by return(), break and abort) leave no
 * channel LISTENed, asked of the server on the listening connection itself (pg_listening_channels()), and none in
 * the target.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
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

    const controller = new AbortController();
    for (let i = 0; i < CYCLES; i++) {
      const id = String(i % 97);
      const style = i % 3;
      if (style === 0) {
        const sub = pubsub.subscribe("seq", id);
        if (i % 500 === 0) await pubsub.ready("seq", id);
        await sub.return(undefined);
      } else if (style === 1) {
        const sub = pubsub.subscribe("seq", id);
        await pubsub.ready("seq", id);
        pubsub.publish("seq", id, i);
        for await (const value of sub) {
          assert.equal(value, i);
          break;
        }
      } else {
        const local = new AbortController();
        const sub = pubsub.subscribe("seq", id, { signal: AbortSignal.any([controller.signal, local.signal]) });
        local.abort();
        assert.deepEqual(await sub.next(), { value: undefined, done: true });
      }
    }
    assert.equal(t.target.listenerCount(), 0);
    await waitFor(() => t.target.listeningCount === 0, 10_000, "the last UNLISTEN");
    assert.deepEqual(await listeningChannels(conn), []);
    assert.equal(t.opened.length, 1);
  } finally {
    pubsub.close();
    await t.close();
  }
});
