/**
 * A hub's upstream losing an event, with the Redis target in this process so the test can kill its subscriber
 * connection and see what each PUBLISH reached. Two hub processes over one Redis, and their failover, run against
 * every runtime's hub: tests/runtimes/hub_upstream.ts.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
import { expect } from "../runtimes/hub_kit.ts";
import { client } from "../runtimes/hub_upstream.ts";
import { nextEvent, startHub, until } from "./helpers.ts";

Deno.test("websocket upstream: an event Redis loses (subscriber connection killed) does not make later ones echo back to their sender", async () => {
  const url = "redis://127.0.0.1:6379";
  const publishClient = new Redis(url);
  // The subscribe client reconnects after 300 ms, so an event published meanwhile reaches no subscriber.
  const subscribeClient = new Redis(url, { retryStrategy: () => 300 });
  const admin = new Redis(url);
  for (const c of [publishClient, subscribeClient, admin]) c.on("error", () => {});
  const subscriberId = await subscribeClient.client("ID");
  const published: [number, unknown][] = [];
  const upstream = createRedisEventTarget({
    publishClient,
    subscribeClient,
    prefix: `alk:test:ws-upstream-loss:${crypto.randomUUID().slice(0, 8)}:`,
    onPublished: (receivers, envelope) => published.push([receivers, envelope.payload]),
    onError: () => {},
  });
  const server = startHub({ upstream });
  const S = client("S", [server.url]);
  const T = client("T", [server.url]);
  try {
    await Promise.all([S.pubsub.ready("x", "1"), T.pubsub.ready("x", "1")]);
    S.pubsub.publish("x", "1", "a");
    await expect(T.x, ["a"], "T");
    await expect(S.x, ["a"], "S's own subscriber");

    const resubscribed = nextEvent(upstream, "resubscribed", 20_000);
    await admin.client("KILL", "ID", String(subscriberId));
    S.pubsub.publish("x", "1", "lost");
    await expect(S.x, ["lost"], "S's own subscriber");
    await until(() => published.some(([, payload]) => payload === "lost"), 10_000, "the lost event's PUBLISH");
    assert.deepEqual(published.find(([, payload]) => payload === "lost"), [0, "lost"], "no subscriber got it");
    await resubscribed;
    await Promise.all([S.pubsub.ready("x", "1"), T.pubsub.ready("x", "1")]);

    for (const value of ["b", "c"]) S.pubsub.publish("x", "1", value);
    await expect(T.x, ["b", "c"], "T after the gap");
    await expect(S.x, ["b", "c"], "S's own subscriber");
    T.pubsub.publish("x", "1", "from T");
    await expect(S.x, ["from T"], "S");
    assert.deepEqual(S.wire.payloads("x:1"), ["from T"], "S got none of its own events back");
    assert.deepEqual(T.wire.payloads("x:1"), ["a", "b", "c"]);
  } finally {
    for (const c of [S, T]) {
      c.pubsub.close();
      c.target.close();
    }
    await Promise.all([S.target.closed, T.target.closed]);
    await server.close();
    await upstream.close();
    await Promise.all([publishClient.quit(), subscribeClient.quit(), admin.quit()]);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
});
