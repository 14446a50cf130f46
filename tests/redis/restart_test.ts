/**
 * Reconnection: a private redis-server is SIGKILLed mid-stream and restarted
 * on the same port, and its pub/sub clients are killed with CLIENT KILL; with
 * sequence numbers the test proves that every event published after the
 * verified "resubscribed" signal arrives, in order, with no duplicates.
 */

import assert from "node:assert/strict";
import type { RedisOptions } from "ioredis";
import { createPubSub, type PubSub } from "../../mod.ts";
import type { RedisEventTarget, RedisStateChange } from "../../adapters/redis/mod.ts";
import { client, freePort, quitAll, RedisServer, targetWithClients, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { seq: number };

interface Run {
  receivedAfterMark: number[];
  mark: number | undefined;
  states: RedisStateChange[];
}

/** Publishes seq events every few ms from `from` while `disrupt` runs, and checks what `to` received. */
async function streamThrough(
  fromPubsub: PubSub<Events>,
  to: RedisEventTarget,
  disrupt: () => Promise<void>,
): Promise<Run> {
  const toPubsub = createPubSub<Events>({ eventTarget: to });
  const run: Run = { receivedAfterMark: [], mark: undefined, states: [] };
  const received: number[] = [];
  const sub = toPubsub.subscribe("seq", "stream", { bufferSize: 100_000 });
  await toPubsub.ready("seq", "stream");
  let seq = 0;
  let resubscribed = false;
  let closes = 0;
  to.addEventListener("close", () => closes++);
  to.addEventListener("state", (e) => run.states.push((e as unknown as CustomEvent<RedisStateChange>).detail));
  to.addEventListener("resubscribed", () => {
    // Everything published from here on must arrive.
    run.mark = seq;
    resubscribed = true;
  });
  const reader = (async () => {
    for await (const value of sub) received.push(value);
  })();
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      fromPubsub.publish("seq", "stream", ++seq);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  await waitFor(() => received.length >= 20, 10_000, "events before the disruption");
  await disrupt();
  await waitFor(() => resubscribed, 20_000, "the resubscribed signal");
  const mark = run.mark!;
  await waitFor(() => seq >= mark + 200, 20_000, "200 events after the resubscribe");
  publishing = false;
  await publisher;
  const last = seq;
  await waitFor(() => received.at(-1) === last, 10_000, `event ${last} to arrive`);
  // A reconnection is not the end: no "close", and the pub/subs over both targets live on.
  assert.equal(closes, 0);
  assert.equal(toPubsub.closed, false);
  assert.equal(fromPubsub.closed, false);
  await sub.return(undefined);
  await reader;
  toPubsub.close();

  // Per-publisher order across the whole run. ioredis re-sends a PUBLISH that was in flight when the
  // server died (autoResendUnfulfilledCommands), so an event from before the disruption may repeat.
  for (let i = 1; i < received.length; i++) {
    assert.ok(received[i] >= received[i - 1], `out of order at ${i}: ${received.slice(Math.max(0, i - 5), i + 5)}`);
  }
  // Every event after the verified resubscribe arrived exactly once, in order.
  run.receivedAfterMark = received.filter((n) => n > mark);
  assert.deepEqual(run.receivedAfterMark, Array.from({ length: last - mark }, (_, i) => mark + i + 1));
  return run;
}

Deno.test("redis: after SIGKILL and restart, every event published after the verified resubscribe arrives once", async () => {
  const server = new RedisServer(freePort());
  await server.start();
  const prefix = uniquePrefix("restart");
  const a = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const b = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const pa = createPubSub<Events>({ eventTarget: a.target });
  try {
    const run = await streamThrough(pa, b.target, async () => {
      await server.kill();
      await waitFor(() => b.target.state === "reconnecting", 10_000, "the reconnecting state");
      await server.start();
    });
    const names = run.states.map((s) => s.state);
    assert.deepEqual(names.slice(0, 3), ["reconnecting", "resubscribing", "ready"]);
    assert.equal(b.target.state, "ready");
  } finally {
    pa.close();
    await Promise.all([a.close(), b.close()]);
    await server.kill();
  }
});

Deno.test("redis: after CLIENT KILL TYPE pubsub, every event published after the verified resubscribe arrives once", async () => {
  const server = new RedisServer(freePort());
  await server.start();
  const prefix = uniquePrefix("client-kill");
  const a = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const b = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const admin = await client(server.url);
  const pa = createPubSub<Events>({ eventTarget: a.target });
  try {
    const run = await streamThrough(pa, b.target, async () => {
      const killed = await admin.client("KILL", "TYPE", "pubsub");
      assert.ok(Number(killed) >= 1, "at least the subscribe connection was killed");
    });
    assert.ok(run.states.some((s) => s.state === "resubscribing"));
  } finally {
    pa.close();
    await Promise.all([a.close(), b.close()]);
    await quitAll(admin);
    await server.kill();
  }
});

Deno.test("redis: a subscription made while Redis is down goes live after it comes back", async () => {
  const server = new RedisServer(freePort());
  await server.start();
  const prefix = uniquePrefix("down");
  const a = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const b = await targetWithClients({ prefix, url: server.url, ...clientOptions() });
  const pa = createPubSub<Events>({ eventTarget: a.target });
  const pb = createPubSub<Events>({ eventTarget: b.target });
  try {
    await server.kill();
    await waitFor(() => b.target.state === "reconnecting", 10_000, "the reconnecting state");
    const sub = pb.subscribe("seq", "late");
    const ready = pb.ready("seq", "late");
    await server.start();
    await ready;
    await waitFor(() => b.target.state === "ready" && a.pub.status === "ready", 10_000, "both sides ready");
    pa.publish("seq", "late", 1);
    const first = await sub.next();
    assert.deepEqual(first, { value: 1, done: false });
    assert.equal(pa.closed || pb.closed, false);
    await sub.return(undefined);
  } finally {
    pa.close();
    pb.close();
    await Promise.all([a.close(), b.close()]);
    await server.kill();
  }
});

function clientOptions(): { probeInterval: number; redisOptions: RedisOptions } {
  return { probeInterval: 200, redisOptions: { retryStrategy: () => 50, maxRetriesPerRequest: null } };
}
