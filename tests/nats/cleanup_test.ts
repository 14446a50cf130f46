/**
 * Subscription cleanup at the server: 10,000 subscribe/unsubscribe cycles
 * (ended by return(), break and abort) through a target on a private
 * nats-server leave no subscription on the server, asked through its
 * monitoring endpoint (/connz?subs=1), and none in the target.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { subscribeCycles } from "../subscribe_cycles.ts";
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

      await subscribeCycles(pubsub, CYCLES, { readyBeforePublish: false });
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
