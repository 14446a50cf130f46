/** The iroh hub's per-connection limits (core's, as on the WebSocket hub): inbound rates and invalid frames. */

import assert from "node:assert/strict";
import { createPubSub, encodeFrame, type PubSubError } from "../../mod.ts";
import { IROH_CLOSE_CODES, type IrohCloseInfo, IrohConnectionError } from "../../adapters/iroh/mod.ts";
import { nextEvent, startHubServer, startSpoke, until } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

Deno.test({
  name: "iroh hub limits: a spoke over inboundLimits is closed with code 8 and reconnects; others are unaffected",
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const server = await startHubServer({
    inboundLimits: { framesPerSecond: 50, frameBurst: 100 },
    onError: (error) => errors.push(error),
  });
  const flooder = await startSpoke(() => server.endpoint, { backoff: { initialDelay: 50, maxDelay: 100 } });
  const calm = await startSpoke(() => server.endpoint);
  try {
    const atCalm = createPubSub<{ n: number }>({ eventTarget: calm.spoke });
    const sub = atCalm.subscribe("n", "calm");
    await atCalm.ready("n", "calm");
    const atFlooder = createPubSub<{ n: number }>({ eventTarget: flooder.spoke });
    await flooder.spoke.ready("");
    const dropped = nextEvent<IrohCloseInfo>(flooder.spoke, "disconnect");
    for (let i = 0; i < 500; i++) atFlooder.publish("n", "flood", i);
    const info = await dropped;
    assert.equal(info.code, IROH_CLOSE_CODES.rateLimited);
    assert.ok(
      errors.some((e) => e instanceof IrohConnectionError && e.closeCode === IROH_CLOSE_CODES.rateLimited),
      errors.map(String).join("\n"),
    );
    // The flooder comes back (code 8 is not final); the calm spoke kept its connection and its subscription.
    await nextEvent(flooder.spoke, "connect");
    atFlooder.publish("n", "calm", 1);
    assert.deepEqual((await sub.next()).value, 1);
    assert.equal(calm.spoke.stats().reconnects, 0);
    atCalm.close();
    atFlooder.close();
  } finally {
    await flooder.close();
    await calm.close();
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
    const conn = await raw.connect(
      new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)),
      ALPN,
    );
    const bi = await conn.openBi();
    const send = (body: string) => bi.send.writeAll(Array.from(encodeFrame(body)));
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
