/**
 * Shared hub test bodies (see hub.ts), scale-out: two hub processes over one Redis act as
 * one hub, on a channel prefix of their own for this run; a SIGKILLed hub's spokes move over to the other, in Redis
 * pub/sub mode and in streams mode (with the hub's history). Deliveries are counted at each spoke's socket.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Subscription, SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../mod.ts";
import { nextEvent, until } from "../websocket/helpers.ts";
import { closeAll, expect, range, type Spoke, spokeOn } from "./hub_kit.ts";
import { type Runtime, startRuntimeHub, unique } from "./runtime_hub.ts";

/** A spoke that knows every hub in `urls` (tried in turn) and reconnects at once, subscribed to x:1. */
export function client(name: string, urls: string[]): Spoke & { x: Subscription<number | string> } {
  const spoke: Spoke = spokeOn(urls, name, { backoff: { initialDelay: 0, maxDelay: 50 } });
  return { ...spoke, x: spoke.pubsub.subscribe("x", "1") };
}

/** Registers the upstream test bodies against the `runtime` hub; `ignore` skips them. */
export function hubUpstreamTests(runtime: Runtime, ignore = false): void {
  Deno.test({
    name:
      `${runtime} hub: two hub processes over one Redis deliver exactly once, the hubs' own events too; a SIGKILLed hub's spokes move over`,
    ignore,
    async fn() {
      const prefix = `alk:test:ws-upstream:${runtime}:${unique()}:`;
      const [one, two] = await Promise.all([
        startRuntimeHub(runtime, { upstream: prefix }),
        startRuntimeHub(runtime, { upstream: prefix }),
      ]);
      // A1 and B1 start on hub one and know hub two; A2 starts on hub two.
      const A1 = client("A1", [one.url, two.url]);
      const B1 = client("B1", [one.url, two.url]);
      const A2 = client("A2", [two.url, one.url]);
      const all = [A1, B1, A2];
      try {
        await Promise.all(all.map((c) => c.pubsub.ready("x", "1")));

        // A1 publishes 100: B1 on the same hub and A2 across Redis each get every one once, in order; A1 none back.
        for (const i of range(0, 100)) A1.pubsub.publish("x", "1", i);
        await expect(A1.x, range(0, 100), "A1's own subscriber");
        await expect(B1.x, range(0, 100), "B1 (same hub)");
        await expect(A2.x, range(0, 100), "A2 (other hub)");
        // A2 publishes 50 more, the last a marker. Redis orders one channel's messages, so once the marker is in at
        // hub one, any Redis echo of A1's 100 (a duplicate, if the hub failed to match it) would have arrived before.
        for (const i of range(100, 49)) A2.pubsub.publish("x", "1", i);
        A2.pubsub.publish("x", "1", "marker");
        const fromA2 = [...range(100, 49), "marker"];
        await expect(A2.x, fromA2, "A2's own subscriber");
        await expect(A1.x, fromA2, "A1 (other hub)");
        await expect(B1.x, fromA2, "B1 (other hub)");
        // Each hub's own publish reaches every spoke, on both hubs.
        await one.command("publish", { type: "x", id: "1", payload: "hub one" });
        for (const c of all) await expect(c.x, ["hub one"], c.name);
        await two.command("publish", { type: "x", id: "1", payload: "hub two" });
        for (const c of all) await expect(c.x, ["hub two"], c.name);
        const hubs = ["hub one", "hub two"];
        assert.deepEqual(B1.wire.payloads("x:1"), [...range(0, 100), ...fromA2, ...hubs], "B1: each event once");
        assert.deepEqual(
          A2.wire.payloads("x:1"),
          [...range(0, 100), ...hubs],
          "A2: each of A1's once, none of its own",
        );
        assert.deepEqual(A1.wire.payloads("x:1"), [...fromA2, ...hubs], "A1: none of its own back");

        // SIGKILL hub one: A1 and B1 move to hub two and keep receiving; nothing is doubled.
        const moved = [nextEvent(A1.target, "open", 20_000), nextEvent(B1.target, "open", 20_000)];
        await one.kill("SIGKILL");
        await Promise.all(moved);
        await Promise.all(all.map((c) => c.pubsub.ready("x", "1")));
        assert.equal(A1.target.stats().reconnects, 1);
        assert.equal(B1.target.stats().reconnects, 1);
        assert.equal(A2.target.stats().reconnects, 0);
        for (const i of range(200, 20)) A2.pubsub.publish("x", "1", i);
        await expect(A2.x, range(200, 20), "A2's own subscriber");
        await expect(A1.x, range(200, 20), "A1 after the failover");
        await expect(B1.x, range(200, 20), "B1 after the failover");
        B1.pubsub.publish("x", "1", "from B1");
        await expect(B1.x, ["from B1"], "B1's own subscriber");
        await expect(A1.x, ["from B1"], "A1");
        await expect(A2.x, ["from B1"], "A2");
        A2.pubsub.publish("x", "1", "last");
        for (const c of all) await expect(c.x, ["last"], c.name);
        assert.deepEqual(A1.wire.payloads("x:1"), [...fromA2, ...hubs, ...range(200, 20), "from B1", "last"]);
        assert.deepEqual(B1.wire.payloads("x:1"), [...range(0, 100), ...fromA2, ...hubs, ...range(200, 20), "last"]);
        assert.deepEqual(A2.wire.payloads("x:1"), [...range(0, 100), ...hubs, "from B1"]);
      } finally {
        await closeAll(all, one, two);
      }
    },
  });

  Deno.test({
    name:
      `${runtime} hub: Redis streams: SIGKILL the spoke's hub mid-sequence; it fails over and gets the whole sequence, 0 lost, 0 duplicated, in order`,
    ignore,
    async fn() {
      const prefix = `alk:test:ws-streams:${runtime}:${unique()}:`;
      const [one, two] = await Promise.all([
        startRuntimeHub(runtime, { upstream: prefix, streams: true }),
        startRuntimeHub(runtime, { upstream: prefix, streams: true }),
      ]);
      const reader = client("reader", [one.url, two.url]);
      const writer = client("writer", [two.url]);
      const gaps: SubscriptionGapDetail[] = [];
      reader.target.addEventListener(SUBSCRIPTION_GAP_EVENT, (e) => {
        gaps.push((e as unknown as CustomEvent<SubscriptionGapDetail>).detail);
      });
      let publisher: ReturnType<typeof setInterval> | undefined;
      const admin = new Redis("redis://127.0.0.1:6379");
      try {
        await Promise.all([reader.pubsub.ready("x", "1"), writer.pubsub.ready("x", "1")]);
        const received: unknown[] = [];
        const reading = (async () => {
          for await (const value of reader.x) {
            received.push(value);
            if (value === 299) return;
          }
        })();
        let sent = 0;
        publisher = setInterval(() => {
          if (sent < 300) writer.pubsub.publish("x", "1", sent++);
        }, 10);
        await until(() => received.length >= 100, 20_000, "100 events before the kill");
        const moved = nextEvent(reader.target, "open", 20_000);
        await one.kill("SIGKILL");
        await moved;
        await reading;
        assert.deepEqual(received, range(0, 300), "every event once, in order");
        assert.deepEqual(gaps, []);
        assert.equal(reader.target.stats().reconnects, 1);
        // At the wire: the reader's socket saw each payload exactly once across both hubs.
        assert.deepEqual(reader.wire.payloads("x:1"), range(0, 300));
      } finally {
        clearInterval(publisher);
        await closeAll([reader, writer], one, two);
        await admin.del(`${prefix}{x:1}:stream`, `${prefix}{x:1}:meta`);
        await admin.quit();
      }
    },
  });
}
