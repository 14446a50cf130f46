/**
 * Recovery across hubs on iroh (issue 20): two iroh hub processes (fixtures/redis_hub.ts) over one Redis in streams
 * mode, so they agree on offsets. The reader's hub is SIGKILLed mid-sequence; its spoke dials the other hub and
 * resumes from its last position. Deliveries are counted on the reader's receive stream. QUIC tells the spoke nothing
 * of a killed hub until its idle timeout; the spoke's heartbeat (feature "ping") notices within 2 × interval + timeout.
 */

import assert from "node:assert/strict";
import { createPubSub, SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../mod.ts";
import { connectIrohEventTarget } from "../../adapters/iroh/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type Child, denoChild } from "../child.ts";
import { dial, type HubAddress } from "./child_hub.ts";
import { countingConnection, nextEvent, wireCount } from "./hub_helpers.ts";
import { bindEndpoint, closeEndpoints, type Endpoint, iroh } from "./load_iroh.ts";

type Events = { x: number };

/** fixtures/redis_hub.ts with `args`, with its own permissions (this group has none for Redis). */
function redisHubChild(args: string[]): Child {
  return denoChild(new URL("./fixtures/redis_hub.ts", import.meta.url), args, [
    "--allow-ffi",
    "--allow-net=127.0.0.1",
    "--allow-env",
    "--allow-read=.,/usr/bin/ldd",
  ]);
}

async function startRedisHub(prefix: string): Promise<{ child: Child; address: HubAddress }> {
  const child = redisHubChild([prefix]);
  const address = await child.next((l) => "id" in l, 20_000, "hub address") as unknown as HubAddress;
  return { child, address };
}

Deno.test({
  name:
    "iroh recovery, Redis streams: SIGKILL the spoke's hub mid-sequence; it fails over and gets the whole sequence, 0 lost, 0 duplicated, in order",
  ignore: iroh === undefined,
}, async () => {
  const prefix = `alk:test:iroh-streams:${crypto.randomUUID().slice(0, 8)}:`;
  const [one, two] = await Promise.all([startRedisHub(prefix), startRedisHub(prefix)]);
  const endpoints: Endpoint[] = await Promise.all([bindEndpoint(), bindEndpoint()]);
  const count = wireCount();
  // The reader's dial takes the hubs in turn, as a user's dial over several addresses would.
  const hubs = [one.address, two.address];
  let attempt = 0;
  const reader = connectIrohEventTarget(
    async () => countingConnection(await dial(endpoints[0], hubs[attempt++ % 2]), count),
    { backoff: { initialDelay: 0, maxDelay: 50 }, heartbeat: { interval: 200, timeout: 300 }, onError: () => {} },
  );
  const writer = connectIrohEventTarget(() => dial(endpoints[1], two.address), { onError: () => {} });
  const gaps: SubscriptionGapDetail[] = [];
  reader.addEventListener(
    SUBSCRIPTION_GAP_EVENT,
    (e) => gaps.push((e as unknown as CustomEvent<SubscriptionGapDetail>).detail),
  );
  const atReader = createPubSub<Events>({ eventTarget: reader });
  const atWriter = createPubSub<Events>({ eventTarget: writer });
  const sub = atReader.subscribe("x", "1");
  let publisher: ReturnType<typeof setInterval> | undefined;
  try {
    await atReader.ready("x", "1");
    const received: number[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await nextWithin(sub, 30_000);
        if (done) return;
        received.push(value);
        if (value === 299) return;
      }
    })();
    let sent = 0;
    publisher = setInterval(() => {
      if (sent < 300) atWriter.publish("x", "1", sent++);
    }, 10);
    const deadline = Date.now() + 20_000;
    while (received.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(received.length >= 100, `only ${received.length} events before the kill`);
    const moved = nextEvent(reader, "connect");
    const killedAt = performance.now();
    await one.child.kill();
    await moved;
    const failover = performance.now() - killedAt;
    console.log(`failover: connected to the other hub ${failover.toFixed(0)} ms after SIGKILL`);
    // QUIC alone takes its idle timeout (35 s measured); the heartbeat notices within 2 × 200 + 300 ms.
    assert.ok(failover < 5_000, `failover took ${failover.toFixed(0)} ms`);
    await reading;
    assert.deepEqual(received, Array.from({ length: 300 }, (_, i) => i), "every event once, in order");
    assert.deepEqual(gaps, []);
    assert.equal(reader.stats().reconnects, 1);
    // At the wire: the reader's receive streams, over both hubs, carried each event exactly once.
    assert.equal(count.data.get("x:1"), 300);
  } finally {
    clearInterval(publisher);
    atReader.close();
    atWriter.close();
    await Promise.all([reader.close(), writer.close()]);
    await closeEndpoints(...endpoints);
    await Promise.all([one.child.kill(), two.child.kill()]);
    const cleaner = redisHubChild([prefix, "--clean", "x:1"]);
    assert.deepEqual(await cleaner.next((l) => "cleaned" in l, 20_000, "the cleanup"), { cleaned: 2 });
    await cleaner.done;
    await cleaner.process.status;
  }
});
