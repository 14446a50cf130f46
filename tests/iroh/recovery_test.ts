/** Recovery on the iroh hub and spoke over real loopback endpoints: the same router and RemoteInterest as WebSocket. */

import assert from "node:assert/strict";
import { createPubSub, SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../mod.ts";
import type { IrohSpoke } from "../../adapters/iroh/mod.ts";
import { nextEvent, startHubServer, startSpoke } from "./hub_helpers.ts";
import { iroh } from "./load_iroh.ts";

const ignore = iroh === undefined;

type Events = { n: number };

function gapsOf(spoke: IrohSpoke): SubscriptionGapDetail[] {
  const gaps: SubscriptionGapDetail[] = [];
  spoke.addEventListener(
    SUBSCRIPTION_GAP_EVENT,
    (e) => gaps.push((e as unknown as CustomEvent<SubscriptionGapDetail>).detail),
  );
  return gaps;
}

Deno.test({
  name: "iroh recovery: the hub drops the spoke 10 times at 100 events/s; every event once, in order, no gap",
  ignore,
}, async () => {
  const server = await startHubServer({ history: { size: 1000 } });
  const client = await startSpoke(() => server.endpoint, {
    backoff: { initialDelay: 5, maxDelay: 50, resetAfter: 60_000 },
  });
  const gaps = gapsOf(client.spoke);
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: client.spoke });
  const sub = atSpoke.subscribe("n", "1");
  const received: number[] = [];
  const reading = (async () => {
    for await (const n of sub) {
      received.push(n);
      if (n === 299) break;
    }
  })();
  let publisher: ReturnType<typeof setInterval> | undefined;
  try {
    await atSpoke.ready("n", "1");
    let sent = 0;
    publisher = setInterval(() => {
      if (sent < 300) atHub.publish("n", "1", sent++);
    }, 10);
    for (let drop = 1; drop <= 10; drop++) {
      await new Promise((r) => setTimeout(r, 200));
      const reopened = nextEvent(client.spoke, "connect");
      await server.connections.at(-1)!.close();
      await reopened;
    }
    await reading;
    assert.deepEqual(received, Array.from({ length: 300 }, (_, i) => i));
    assert.deepEqual(gaps, []);
    assert.equal(server.connections.length, 11);
  } finally {
    clearInterval(publisher);
    atHub.close();
    atSpoke.close();
    await client.close();
    await server.close();
  }
});

Deno.test({
  name: "iroh recovery: offline past the history's size, one typed gap with the count, then the kept and live events",
  ignore,
}, async () => {
  const server = await startHubServer({ history: { size: 5 } });
  const client = await startSpoke(() => server.endpoint, { backoff: { initialDelay: 300, maxDelay: 300 } });
  const gaps = gapsOf(client.spoke);
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: client.spoke });
  const sub = atSpoke.subscribe("n", "1");
  try {
    await atSpoke.ready("n", "1");
    atHub.publish("n", "1", 1);
    assert.deepEqual(await sub.next(), { value: 1, done: false });
    const reopened = nextEvent(client.spoke, "connect");
    await server.connections.at(-1)!.close();
    for (let i = 2; i <= 21; i++) atHub.publish("n", "1", i);
    await reopened;
    await atSpoke.ready("n", "1");
    atHub.publish("n", "1", 22);
    const after: number[] = [];
    for (let i = 0; i < 6; i++) after.push((await sub.next()).value as number);
    assert.deepEqual(after, [17, 18, 19, 20, 21, 22]);
    assert.equal(gaps.length, 1);
    assert.deepEqual([gaps[0].topic, gaps[0].error.reason, gaps[0].error.missed], ["n:1", "too-old", 15]);
  } finally {
    atHub.close();
    atSpoke.close();
    await client.close();
    await server.close();
  }
});
