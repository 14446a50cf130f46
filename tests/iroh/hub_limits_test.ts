/** The iroh hub's per-connection limits (core's, as on the WebSocket hub): inbound rates and invalid frames. */

import assert from "node:assert/strict";
import { createPubSub, type PubSubError } from "../../mod.ts";
import { IROH_CLOSE_CODES, IrohConnectionError } from "../../adapters/iroh/mod.ts";
import { rawPeer, startHubServer, startSpoke, until } from "./hub_helpers.ts";
import { bindEndpoint, closeEndpoints, iroh } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

/** A hub taking 50 frames/s (bursts of 100) per connection, its errors collected. */
async function limitedHub() {
  const errors: PubSubError[] = [];
  const server = await startHubServer({
    inboundLimits: { framesPerSecond: 50, frameBurst: 100 },
    onError: (error) => errors.push(error),
  });
  return { errors, server };
}

Deno.test({
  name: "iroh hub limits: a peer over inboundLimits is closed with code 8; other spokes are unaffected",
  ignore,
}, async () => {
  const { errors, server } = await limitedHub();
  const calm = await startSpoke(() => server.endpoint);
  // A bare hello announces no limits to this peer, and nothing paces it: it floods.
  const raw = await bindEndpoint();
  try {
    const atCalm = createPubSub<{ n: number }>({ eventTarget: calm.spoke });
    const sub = atCalm.subscribe("n", "calm");
    await atCalm.ready("n", "calm");
    const { conn, send } = await rawPeer(raw, server);
    await send('["hello",2]');
    await until(() => server.connections.length === 2 && server.connections[1]?.state === "open", MS, "open");
    try {
      for (let i = 0; i < 500; i++) await send(JSON.stringify({ type: "n", id: "flood", payload: i }));
    } catch {
      // The hub closed the connection mid-flood: the writes after it fail.
    }
    const info = await server.connections[1].closed;
    assert.equal(info.code, IROH_CLOSE_CODES.rateLimited);
    assert.ok(
      errors.some((e) => e instanceof IrohConnectionError && e.closeCode === IROH_CLOSE_CODES.rateLimited),
      errors.map(String).join("\n"),
    );
    // The calm spoke kept its connection and its subscription.
    const atHub = createPubSub<{ n: number }>({ eventTarget: server.hub });
    atHub.publish("n", "calm", 1);
    assert.deepEqual((await sub.next()).value, 1);
    assert.equal(calm.spoke.stats().reconnects, 0);
    conn.close(0n, []);
    atCalm.close();
    atHub.close();
  } finally {
    await closeEndpoints(raw);
    await calm.close();
    await server.close();
  }
});

Deno.test({
  name: "iroh hub limits: the welcome announces the limits and a library spoke paces itself under them",
  ignore,
}, async () => {
  const { errors, server } = await limitedHub();
  const spoke = await startSpoke(() => server.endpoint);
  try {
    const atHub = createPubSub<{ n: number }>({ eventTarget: server.hub });
    const received: number[] = [];
    const sub = atHub.subscribe("n", "1");
    const reading = (async () => {
      for await (const n of sub) if (received.push(n) === 100) break;
    })();
    const atSpoke = createPubSub<{ n: number }>({ eventTarget: spoke.spoke });
    await spoke.spoke.ready("");
    const started = performance.now();
    for (let i = 0; i < 100; i++) atSpoke.publish("n", "1", i);
    assert.ok(spoke.spoke.bufferedAmount > 0, "the spoke holds what the limits do not allow yet");
    await reading;
    // 50 at once (half the burst), 50 more at 45 a second.
    assert.ok(performance.now() - started > 800, "paced");
    assert.deepEqual(received, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(spoke.spoke.stats().reconnects, 0);
    assert.equal(spoke.spoke.bufferedAmount, 0);
    assert.deepEqual(errors, []);
    atSpoke.close();
    atHub.close();
  } finally {
    await spoke.close();
    await server.close();
  }
});

Deno.test({
  name: "iroh hub limits: maxInvalidFrames invalid frames within the window close the connection with code 8",
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const server = await startHubServer({ maxInvalidFrames: 3, onError: (error) => errors.push(error) });
  const raw = await bindEndpoint();
  try {
    const { conn, send } = await rawPeer(raw, server);
    await send('["hello",2]');
    await until(() => server.hub.stats().connections === 1 && server.connections[0]?.state === "open", MS, "open");
    await send('["nope"]');
    await send('{"not":"an envelope"}');
    await send('["sub"]');
    const closed = await server.connections[0].closed;
    assert.equal(closed.code, IROH_CLOSE_CODES.rateLimited);
    assert.match(closed.reason, /rate limited/);
    assert.ok(errors.some((e) => /3 invalid frames/.test(e.message)), errors.map(String).join("\n"));
    conn.close(0n, []);
  } finally {
    await closeEndpoints(raw);
    await server.close();
  }
});
