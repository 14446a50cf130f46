/** The reconnecting iroh spoke on real loopback endpoints: dropped connections, a restarted hub endpoint. */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import {
  connectIrohEventTarget,
  type IrohCloseInfo,
  IrohConnectionError,
  type IrohReconnectingDetail,
} from "../../adapters/iroh/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type HubServer, nextEvent, startHubServer, startSpoke } from "./hub_helpers.ts";
import { iroh } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

type Events = { down: number; up: number };

Deno.test({
  name: "iroh spoke: the hub closes its connection 10 times; each time it re-dials, re-subscribes and delivers",
  ignore,
}, async () => {
  const server = await startHubServer();
  const client = await startSpoke(() => server.endpoint, {
    backoff: { initialDelay: 5, maxDelay: 50, resetAfter: 60_000 },
  });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: client.spoke });
  const down = atSpoke.subscribe("down", "1");
  const up = atHub.subscribe("up", "1");
  const attempts: number[] = [];
  const disconnects: IrohCloseInfo[] = [];
  let closes = 0;
  client.spoke.addEventListener("reconnecting", (e) => {
    attempts.push((e as unknown as CustomEvent<IrohReconnectingDetail>).detail.attempt);
  });
  client.spoke.addEventListener("disconnect", (e) => {
    disconnects.push((e as unknown as CustomEvent<IrohCloseInfo>).detail);
  });
  client.spoke.addEventListener("close", () => closes++);
  try {
    await atSpoke.ready("down", "1");
    for (let round = 0; round <= 10; round++) {
      if (round > 0) {
        const reopened = nextEvent(client.spoke, "connect");
        await server.connections.at(-1)!.close();
        await reopened;
        assert.equal(client.spoke.state, "open");
        // The subscription is announced again on the new connection; ready() waits for the hub's answer.
        await atSpoke.ready("down", "1");
      }
      atHub.publish("down", "1", round);
      assert.deepEqual(await nextWithin(down, MS), { value: round, done: false });
      atSpoke.publish("up", "1", round);
      assert.deepEqual(await nextWithin(up, MS), { value: round, done: false });
    }
    assert.equal(server.connections.length, 11);
    assert.equal(client.count.control.get("welcome"), 11);
    assert.equal(client.count.control.get("suback"), 11); // down:1 re-subscribed on each connection
    assert.deepEqual(client.count.data.get("down:1"), 11);
    assert.deepEqual(attempts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(disconnects.length, 10);
    assert.ok(disconnects.every((info) => info.code === 0 && info.error === undefined), JSON.stringify(disconnects));
    assert.equal(closes, 0);
    assert.equal(atSpoke.closed, false);
    assert.equal(client.spoke.listenerCount("down:1"), 1);
    assert.equal(client.spoke.stats().reconnects, 10);
    const wire = client.count.dataFrames() + [...client.count.control.values()].reduce((a, b) => a + b, 0);
    assert.equal(client.spoke.stats().framesIn, wire); // the spoke's own count agrees with the wire's
    assert.equal(client.spoke.stats().dropped, 0);
    assert.equal(server.hub.stats().connections, 1);
    assert.equal(server.hub.stats().subscriptions, 1);
    // Stopping for good dispatches "close" once and ends the subscription.
    await client.spoke.close();
    assert.equal(closes, 1);
    assert.deepEqual(await nextWithin(down, MS), { value: undefined, done: true });
  } finally {
    atHub.close();
    atSpoke.close();
    await client.close();
    await server.close();
  }
});

Deno.test({
  name: "iroh spoke: the hub's endpoint restarts on a new port; dial finds it and the spoke recovers, outbox flushed",
  ignore,
}, async () => {
  let current: HubServer | undefined = await startHubServer();
  const first = current;
  let failedDials = 0;
  const client = await startSpoke(() => {
    if (current === undefined) {
      failedDials++;
      throw new Error("No hub known yet");
    }
    return current.endpoint;
  }, { backoff: { initialDelay: 10, maxDelay: 40 } });
  const atSpoke = createPubSub<Events>({ eventTarget: client.spoke });
  const down = atSpoke.subscribe("down", "1");
  let second: HubServer | undefined;
  try {
    await atSpoke.ready("down", "1");
    const firstPort = first.endpoint.boundSockets()[0];
    const dropped = nextEvent(client.spoke, "disconnect");
    current = undefined;
    await first.close();
    await dropped;
    // Published while no hub is up: waits in the outbox.
    atSpoke.publish("up", "1", 7);
    // A few dials fail while no hub is known, then a new one appears on another port.
    while (failedDials < 3) await nextEvent(client.spoke, "reconnecting");
    second = await startHubServer();
    assert.notEqual(second.endpoint.boundSockets()[0], firstPort);
    const atHub = createPubSub<Events>({ eventTarget: second.hub });
    const up = atHub.subscribe("up", "1");
    const reopened = nextEvent(client.spoke, "connect");
    current = second;
    await reopened;
    assert.deepEqual(await nextWithin(up, MS), { value: 7, done: false });
    await atSpoke.ready("down", "1");
    atHub.publish("down", "1", 8);
    assert.deepEqual(await nextWithin(down, MS), { value: 8, done: false });
    atHub.close();
  } finally {
    atSpoke.close();
    await client.close();
    await second?.close();
  }
});

Deno.test({
  name:
    "iroh spoke: a dial that fails at once is retried maxAttempts times without starving the event loop, then stops",
  ignore,
}, async () => {
  let dials = 0;
  const spoke = connectIrohEventTarget(() => {
    dials++;
    throw new Error("No route to the hub");
  }, { backoff: { initialDelay: 0 }, maxAttempts: 5, onError: () => {} });
  let reconnecting = 0;
  spoke.addEventListener("reconnecting", () => reconnecting++);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  try {
    const info = await spoke.closed;
    assert.equal(dials, 6); // the first attempt and 5 retries
    assert.equal(reconnecting, 5);
    assert.ok(info.error instanceof IrohConnectionError);
    assert.match(info.reason, /No route to the hub/);
    assert.equal(spoke.state, "closed");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(ticks > 0, "the event loop ran timers meanwhile");
  } finally {
    clearInterval(ticker);
  }
});
