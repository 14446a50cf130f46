/**
 * Input a real spoke never sends, from a hand-made version 2 peer over a real
 * connection, through the hub's real decoder: every bad frame is reported as a
 * typed error, the connection and the other topics keep working.
 */

import assert from "node:assert/strict";
import { encodeFrame, EnvelopeError, FrameDecoder, type PubSubError } from "../../mod.ts";
import { IrohProtocolError } from "../../adapters/iroh/mod.ts";
import { rawPeer, startHubServer, until } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

Deno.test({
  name: "iroh hub: malformed control and data frames are reported; the connection keeps routing",
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const server = await startHubServer({ onError: (error) => errors.push(error) });
  const raw = await bindEndpoint();
  try {
    const conn = await raw.connect(
      new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)),
      ALPN,
    );
    const bi = await conn.openBi();
    const frames: unknown[] = [];
    const decoder = new FrameDecoder();
    const text = new TextDecoder();
    const reading = (async () => {
      for (let chunk = await bi.recv.read(65536); chunk.length > 0; chunk = await bi.recv.read(65536)) {
        decoder.push(Uint8Array.from(chunk), (frame) => frames.push(JSON.parse(text.decode(frame))));
      }
    })().catch(() => {});
    const send = (body: string | Uint8Array) => bi.send.writeAll(Array.from(encodeFrame(body)));
    await send('["hello",2]');
    await until(() => frames.length === 1, MS, "the welcome");
    assert.deepEqual(frames[0], ["welcome", 2]);

    await send("[not json");
    await send('["nope","x"]');
    await send('["sub"]');
    await send('["sub",42]');
    await send(new Uint8Array([0x5b, 0xff, 0xfe])); // "[" then invalid UTF-8
    await send('{"type":"ping"}'); // not an envelope
    await send('{"type":"ping","id":"1","__proto__":{"x":1}}');
    await send(""); // a keep-alive: ignored
    await send("[".repeat(100_000) + "]".repeat(100_000)); // nested deeper than 64: refused before parsing
    await send('["sub","ping:1",-1]'); // a request id must be a non-negative safe integer
    await send('["sub","ping:1",7]');
    await until(() => frames.length === 2, MS, "the suback");
    assert.deepEqual(frames[1], ["suback", "ping:1", 7]);
    server.hub.dispatchEvent(
      new CustomEvent("ping:1", { detail: { type: "ping", id: "1", payload: "still routed" } }) as never,
    );
    await until(() => frames.length === 3, MS, "the event");
    assert.deepEqual(frames[2], { type: "ping", id: "1", payload: "still routed" });

    assert.equal(errors.filter((e) => e instanceof IrohProtocolError).length, 7, errors.map(String).join("\n"));
    assert.equal(errors.filter((e) => e instanceof EnvelopeError).length, 2, errors.map(String).join("\n"));
    assert.equal(errors.length, 9);
    assert.equal(server.hub.stats().connections, 1);
    conn.close(0n, []);
    await reading;
  } finally {
    await closeEndpoints(raw);
    await server.close();
  }
});

Deno.test({
  name: "iroh hub: a second hello closes the connection with code 2, like the WebSocket hub's 4429",
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const [server, raw] = await Promise.all([startHubServer({ onError: (e) => errors.push(e) }), bindEndpoint()]);
  try {
    const { conn, bi, send } = await rawPeer(raw, server);
    await send('["hello",2]');
    assert.ok((await bi.recv.read(65536)).length > 0, "the welcome");
    await send('["hello",2]');
    const reason = await conn.closed();
    assert.match(reason, /\(code 2\)/);
    await until(() => server.connections[0]?.state === "closed", MS, "the hub's side to close");
    const info = await server.connections[0].closed;
    assert.equal(info.code, 2);
    assert.ok(errors.some((e) => e instanceof IrohProtocolError && /second hello/.test(e.message)), errors.join("\n"));
  } finally {
    await closeEndpoints(raw);
    await server.close();
  }
});
