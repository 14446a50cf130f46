/**
 * A burst of frames that arrives in one read must not overflow a consumer
 * that keeps up: 10 000 events each way through the hub, subscriptions with
 * the default buffer (1024), every event received in order.
 */

import assert from "node:assert/strict";
import { createPubSub, type Subscription } from "../../mod.ts";
import { startHubServer, startSpoke } from "./hub_helpers.ts";
import { iroh } from "./load_iroh.ts";

const N = 10_000;

async function countAll(sub: Subscription<number>): Promise<number> {
  let n = 0;
  for await (const value of sub) {
    assert.equal(value, n, `event ${n} arrived as ${value}`);
    if (++n === N) break;
  }
  return n;
}

Deno.test({
  name: "iroh hub burst: 10 000 events in one go reach a default-buffer subscriber whole, hub → spoke and spoke → hub",
  ignore: iroh === undefined,
}, async () => {
  const server = await startHubServer();
  const client = await startSpoke(() => server.endpoint);
  const atSpoke = createPubSub<{ seq: number }>({ eventTarget: client.spoke });
  const atHub = createPubSub<{ seq: number }>({ eventTarget: server.hub });
  try {
    const down = atSpoke.subscribe("seq", "down");
    await atSpoke.ready("seq", "down");
    for (let i = 0; i < N; i++) atHub.publish("seq", "down", i);
    assert.equal(await countAll(down), N);

    const up = atHub.subscribe("seq", "up");
    await atHub.ready("seq", "up");
    for (let i = 0; i < N; i++) atSpoke.publish("seq", "up", i);
    assert.equal(await countAll(up), N);
  } finally {
    atSpoke.close();
    atHub.close();
    await client.close();
    await server.close();
  }
});
