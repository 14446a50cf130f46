import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import {
  CloseCode,
  connectWebSocketEventTarget,
  WebSocketBackpressureError,
  type WebSocketHubOptions,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { maskedFrames, rawUpgrade, startHub, until } from "./helpers.ts";

type Events = { bulk: string; news: string };

/**
 * Opens a WebSocket by hand over TCP, reads the 101 response, says hello and subscribes to `topics` (protocol 2),
 * and then never reads again.
 */
async function stalledClient(url: string, topics: string[]): Promise<Deno.TcpConn> {
  const conn = await rawUpgrade(url);
  await conn.write(maskedFrames(JSON.stringify(["hello", 2])));
  for (const topic of topics) await conn.write(maskedFrames(JSON.stringify(["sub", topic])));
  return conn;
}

async function flood(options: WebSocketHubOptions<Request>, stop: (server: ReturnType<typeof startHub>) => boolean) {
  const server = startHub({ highWaterMark: 256 * 1024, heartbeat: false, ...options });
  const conn = await stalledClient(server.url, ["bulk:1"]);
  // The hub sends a connection only the topics it subscribed to: wait until the stalled one holds bulk:1.
  await until(() => server.connections[0]?.topics === 1 && server.hub.stats().subscriptions === 1);
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const news = atSpoke.subscribe("news", "1");
  await atSpoke.ready("news", "1");
  const chunk = "x".repeat(64 * 1024);
  let sent = 0;
  // Paced, so a reading peer keeps up; stops once the policy acted (or after 100 MiB).
  while (!stop(server) && sent < 1600) {
    atHub.publish("bulk", "1", chunk);
    sent++;
    await new Promise((r) => setTimeout(r, 1));
  }
  return {
    server,
    sent,
    async checkOthersAndClose() {
      atHub.publish("news", "1", "others unaffected");
      assert.deepEqual(await nextWithin(news, 10_000), { value: "others unaffected", done: false });
      assert.equal(spoke.state, "open");
      // The reading spoke never subscribed to bulk:1: not one 64 KiB frame reached it.
      assert.ok(spoke.stats().bytesIn < 64 * 1024, `the spoke received ${spoke.stats().bytesIn} bytes`);
      atHub.close();
      atSpoke.close();
      spoke.close();
      await spoke.closed;
      conn.close();
      await server.close();
    },
  };
}

Deno.test("websocket backpressure: the hub closes a peer that stops reading with 4013", async () => {
  const run = await flood({}, (s) => s.errors.length > 0);
  const { server } = run;
  try {
    assert.ok(server.errors.length >= 1, `no backpressure error after ${run.sent} events of 64 KiB`);
    const error = server.errors[0] as WebSocketBackpressureError;
    assert.ok(error instanceof WebSocketBackpressureError);
    assert.equal(error.code, "ERR_WEBSOCKET_BACKPRESSURE");
    assert.equal(error.highWaterMark, 256 * 1024);
    // The budget counts real cost: bufferedAmount plus the per-frame overhead of every frame in flight.
    assert.ok(error.cost > 256 * 1024, `cost ${error.cost}`);
    assert.ok(error.bufferedAmount > 0 && error.frames > 0);
    // Bounded: the hub stopped well before sending everything it was given.
    assert.ok(run.sent < 1600);
    assert.equal(server.connections[0].state, "closed");
  } finally {
    await run.checkOthersAndClose();
  }
  // The close frame could only get through once the stalled peer went away.
  assert.equal((await server.connections[0].closed).code, CloseCode.SlowConsumer);
});

Deno.test("websocket backpressure: under the drop policy the peer stays and the error is reported once", async () => {
  let afterError = 0;
  const run = await flood({ backpressure: "drop" }, (s) => s.errors.length > 0 && ++afterError > 50);
  const { server } = run;
  try {
    assert.equal(server.errors.length, 1, "one error per episode");
    assert.ok(server.errors[0] instanceof WebSocketBackpressureError);
    assert.equal(server.connections[0].state, "open");
  } finally {
    await run.checkOthersAndClose();
  }
});
