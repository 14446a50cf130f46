/** The hub's authorize pipeline over real sockets: concurrent calls, kept order, the in-flight cap and the timeout. */

import assert from "node:assert/strict";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { createPubSub, type EnvelopeEvent, PublishRefusedError, type PubSubError } from "../../mod.ts";
import { handshake, opened, startHub, until } from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publishFor(latency: number, cache: boolean): Promise<{ delivered: number[]; refused: number }> {
  const server = startHub({
    authorize: ({ action }) =>
      action === "subscribe" || new Promise((resolve) => setTimeout(() => resolve(true), latency)),
    publishAuthorization: { cache },
  });
  const delivered: number[] = [];
  server.hub.addEventListener("n:1", (event: EnvelopeEvent) => delivered.push(event.detail.payload as number));
  let refused = 0;
  const spoke = connectWebSocketEventTarget(server.url, {
    onError: (error) => {
      if (error instanceof PublishRefusedError) refused++;
    },
  });
  try {
    await spoke.ready("");
    const pubsub = createPubSub<{ n: number }>({ eventTarget: spoke });
    // 1,000 events/s for 5 s: ten every 10 ms, on the schedule (a late tick catches up).
    const started = performance.now();
    let sent = 0;
    while (sent < 5_000) {
      const due = Math.min(5_000, Math.floor((performance.now() - started) / 10) * 10 + 10);
      while (sent < due) pubsub.publish("n", "1", sent++);
      await sleep(10);
    }
    await until(() => delivered.length + refused >= 5_000, 10_000, "every event delivered or refused");
    pubsub.close();
    assert.deepEqual(server.errors, []);
    return { delivered, refused };
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
}

Deno.test("websocket authorize pipeline: 1,000 events/s for 5 s with authorize at 10 ms and 100 ms: none refused, none lost, in order", async () => {
  const runs = await Promise.all([publishFor(10, true), publishFor(100, true), publishFor(100, false)]);
  const expected = Array.from({ length: 5_000 }, (_, i) => i);
  for (const [i, { delivered, refused }] of runs.entries()) {
    assert.equal(refused, 0, `run ${i}: refused`);
    assert.equal(delivered.length, 5_000, `run ${i}: delivered`);
    assert.deepEqual(delivered, expected, `run ${i}: order`);
  }
});

Deno.test("websocket authorize pipeline: 10,000 sub/unsub cycles against a 5 s authorize stay under the default in-flight cap (1,024); memory settles", async () => {
  const server = startHub({
    authorize: () => new Promise((resolve) => setTimeout(() => resolve(true), 5_000)),
    inboundLimits: false,
    heartbeat: false,
  });
  const socket = new WebSocket(server.url);
  let refusals = 0;
  socket.addEventListener("message", (event) => {
    if (String(event.data).startsWith('["subrefused"')) refusals++;
  });
  try {
    await opened(socket);
    await handshake(socket);
    const rssBefore = Deno.memoryUsage().rss;
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      socket.send('["sub","t:1"]');
      socket.send('["unsub","t:1"]');
      if (i % 100 === 99) {
        await sleep(1);
        most = Math.max(most, server.hub.stats().authorizing);
      }
    }
    await until(() => refusals >= 10_000 - 1_024, 10_000, "the refusals past the cap");
    most = Math.max(most, server.hub.stats().authorizing);
    assert.equal(most, 1_024, "calls in flight reached the cap and never passed it");
    assert.equal(refusals, 10_000 - 1_024);
    // The calls settle after 5 s; nothing of them stays.
    await until(() => server.hub.stats().authorizing === 0, 15_000, "the calls to settle");
    const grown = Deno.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`);
    assert.equal(server.hub.stats().topics, 0);
  } finally {
    socket.close();
    await server.close();
  }
});

Deno.test("websocket authorize pipeline: an authorize that never settles is refused after the timeout, reported, and the connection goes on", async () => {
  const server = startHub({
    authorize: ({ action, topic }) => action === "subscribe" || topic !== "stuck:1" || new Promise(() => {}),
    authorizeTimeout: 200,
  });
  const delivered: string[] = [];
  server.hub.addEventListener("stuck:1", () => delivered.push("stuck"));
  server.hub.addEventListener("ok:1", () => delivered.push("ok"));
  const errors: PubSubError[] = [];
  const spoke = connectWebSocketEventTarget(server.url, { onError: (error) => errors.push(error) });
  try {
    await spoke.ready("");
    const pubsub = createPubSub<{ stuck: number; ok: number }>({ eventTarget: spoke });
    pubsub.publish("stuck", "1", 1);
    pubsub.publish("ok", "1", 2); // waits behind the stuck one: order is kept
    await sleep(100);
    assert.deepEqual(delivered, []);
    await until(() => delivered.length === 1, 5_000, "the ok event");
    assert.deepEqual(delivered, ["ok"]);
    await until(() => errors.length === 1, 5_000, "the refusal at the spoke");
    assert.ok(errors[0] instanceof PublishRefusedError);
    assert.equal((errors[0] as PublishRefusedError).reason, "unavailable");
    assert.equal(server.errors.length, 1);
    assert.match(String((server.errors[0].cause as Error).message), /within 200 ms/);
    assert.equal(server.hub.stats().authorizing, 0);
    pubsub.publish("ok", "1", 3);
    await until(() => delivered.length === 2, 5_000, "the next event");
    assert.equal(spoke.stats().reconnects, 0);
    pubsub.close();
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
