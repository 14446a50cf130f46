/**
 * Subscription cleanup at the server: 10,000 subscribe/unsubscribe cycles
 * (ended by return(), break and abort) through a target on a private
 * nats-server leave no subscription on the server, asked through its
 * monitoring endpoint (/connz?subs=1), and none in the target.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { hasNatsServer, privateServer, targetWithConnection, uniquePrefix } from "./_helpers.ts";

type Events = { seq: number };

const CYCLES = 10_000;

Deno.test({
  name: `nats: ${CYCLES} subscribe/unsubscribe cycles leave no server-side subscription`,
  ignore: !hasNatsServer(),
  async fn() {
    const server = await privateServer();
    const t = await targetWithConnection({ prefix: uniquePrefix("cleanup"), servers: server.url });
    const pubsub = createPubSub<Events>({ eventTarget: t.target });
    /** The server's count of subscriptions on our connection. */
    const serverSubs = async (): Promise<number> => {
      await t.connection.flush();
      const connz = await server.monitor("/connz?subs=1");
      const connections = connz.connections as { subscriptions_list?: string[] }[];
      return connections.reduce((n, c) => n + (c.subscriptions_list?.length ?? 0), 0);
    };
    try {
      // The count is really there to see: one held subscription shows as one.
      const held = pubsub.subscribe("seq", "held");
      await pubsub.ready("seq", "held");
      assert.equal(await serverSubs(), 1);
      await held.return(undefined);
      assert.equal(await serverSubs(), 0);

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
      assert.equal(t.target.subscriptionCount, 0);
      assert.equal(t.target.listenerCount(), 0);
      assert.equal(await serverSubs(), 0);
    } finally {
      pubsub.close();
      await t.close();
      await server.kill();
    }
  },
});
