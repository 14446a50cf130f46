/**
 * A subscription made at any moment of the subscribe client's life becomes
 * live (an event published afterwards round-trips), and `ready()` resolves
 * only once it really is.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createPubSub } from "../../mod.ts";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { quitAll, REDIS_URL, uniquePrefix } from "./_helpers.ts";

const MS = 10_000;
type Status = "wait" | "connecting" | "connect" | "ready" | "reconnecting";

for (const status of ["wait", "connecting", "connect", "ready", "reconnecting"] as Status[]) {
  for (const sharded of [false, true]) {
    Deno.test(`redis${sharded ? " (sharded)" : ""}: subscribe while the subscribe client is "${status}", then round-trip an event`, async () => {
      const pub = new Redis(REDIS_URL, { lazyConnect: true });
      const sub = new Redis(REDIS_URL, { lazyConnect: true });
      pub.on("error", () => {});
      sub.on("error", () => {});
      const errors: unknown[] = [];
      const target = createRedisEventTarget({
        publishClient: pub,
        subscribeClient: sub,
        prefix: uniquePrefix("startup"),
        sharded,
        onError: (error) => errors.push(error),
      });
      const pubsub = createPubSub<{ t: number }>({ eventTarget: target });
      try {
        const subscribed = new Promise<ReturnType<typeof pubsub.subscribe<"t">>>((resolve, reject) => {
          const now = () => {
            try {
              assert.equal(sub.status, status);
              resolve(pubsub.subscribe("t", status));
            } catch (error) {
              reject(error);
            }
          };
          if (status === "wait") now();
          else if (status === "connect") sub.once("connect", now);
          else if (status === "reconnecting") sub.once("reconnecting", now);
          else if (status === "ready") sub.once("ready", now);
          void pub.connect().catch(() => {});
          if (status === "reconnecting") {
            // Connected, then the connection drops and ioredis reconnects.
            sub.once("ready", () => sub.disconnect(true));
          }
          void sub.connect().catch(() => {});
          if (status === "connecting") now();
        });
        const subscription = await subscribed;
        await pubsub.ready("t", status);
        const readyRedis = new Redis(REDIS_URL);
        try {
          // Redis itself confirms the channel has a subscriber before anything is published.
          const channel = target.channelFor(`t:${status}`);
          const counts = sharded
            ? await readyRedis.call("PUBSUB", "SHARDNUMSUB", channel) as [string, number]
            : await readyRedis.call("PUBSUB", "NUMSUB", channel) as [string, number];
          assert.equal(Number(counts[1]), 1, `Redis reports no subscriber on ${channel} after ready()`);
        } finally {
          await quitAll(readyRedis);
        }
        pubsub.publish("t", status, 42);
        assert.deepEqual(await nextWithin(subscription, MS), { value: 42, done: false });
        assert.deepEqual(errors, []);
      } finally {
        pubsub.close();
        await target.close();
        await quitAll(pub, sub);
      }
    });
  }
}
