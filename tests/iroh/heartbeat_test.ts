/**
 * The `"ping"` feature: a spoke that asked for it may send `["ping"]`, which the hub answers `["pong"]`; the
 * reconnecting spoke pings only an interval without frames, and closes with code 4 when nothing answers.
 * Asserted on the streams themselves.
 */

import assert from "node:assert/strict";
import { encodeFrame, FrameDecoder, type PubSubError } from "../../mod.ts";
import { connectIrohEventTarget, IrohProtocolError } from "../../adapters/iroh/mod.ts";
import { rawPeer, recording, startHubServer, until } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const ignore = iroh === undefined;

/** Reads every frame of `bi` as JSON into `frames`. */
function readAll(recv: { read(size: number): Promise<number[]> }, frames: unknown[]): Promise<void> {
  const decoder = new FrameDecoder();
  const text = new TextDecoder();
  return (async () => {
    for (let chunk = await recv.read(65536); chunk.length > 0; chunk = await recv.read(65536)) {
      decoder.push(Uint8Array.from(chunk), (frame) => frames.push(JSON.parse(text.decode(frame))));
    }
  })().catch(() => {});
}

Deno.test({
  name: 'iroh hub: ["ping"] gets ["pong"] on a connection granted "ping"; without the feature it is an invalid frame',
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const [server, raw] = await Promise.all([startHubServer({ onError: (e) => errors.push(e) }), bindEndpoint()]);
  try {
    const asked = await rawPeer(raw, server);
    const frames: unknown[] = [];
    const reading = readAll(asked.bi.recv, frames);
    await asked.send('["hello",2,null,{"features":["ping"]}]');
    await until(() => frames.length === 1, 10_000, "the welcome");
    const [tag, version, info] = frames[0] as [string, number, { features: string[] }];
    assert.deepEqual([tag, version, info.features], ["welcome", 2, ["ping"]]);
    for (let i = 0; i < 3; i++) await asked.send('["ping"]');
    await until(() => frames.length === 4, 10_000, "three pongs");
    assert.deepEqual(frames.slice(1), [["pong"], ["pong"], ["pong"]]);
    assert.equal(errors.length, 0, errors.join("\n"));

    const bare = await rawPeer(raw, server);
    const bareFrames: unknown[] = [];
    const bareReading = readAll(bare.bi.recv, bareFrames);
    await bare.send('["hello",2]');
    await until(() => bareFrames.length === 1, 10_000, "the welcome");
    await bare.send('["ping"]');
    await until(() => errors.length === 1, 10_000, "the invalid frame");
    assert.ok(errors[0] instanceof IrohProtocolError && /Unknown control frame \["ping"\]/.test(errors[0].message));
    // A round trip later, still no pong.
    await bare.send('["sub","a:1",1]');
    await until(() => bareFrames.length === 2, 10_000, "the suback");
    assert.deepEqual(bareFrames, [["welcome", 2], ["suback", "a:1", 1]]);
    asked.conn.close(0n, []);
    bare.conn.close(0n, []);
    await Promise.all([reading, bareReading]);
  } finally {
    await closeEndpoints(raw);
    await server.close();
  }
});

Deno.test({
  name: "iroh spoke heartbeat: pings a quiet hub every interval and stays open; pings nothing while frames flow",
  ignore,
}, async () => {
  const [server, endpoint] = await Promise.all([startHubServer(), bindEndpoint()]);
  const sent: string[] = [];
  const pings = () => sent.filter((frame) => frame === '["ping"]').length;
  const spoke = connectIrohEventTarget(async () =>
    recording(
      await endpoint.connect(new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)), ALPN),
      sent,
      [],
    ), { heartbeat: { interval: 100, timeout: 200 }, onError: () => {} });
  try {
    await new Promise<void>((resolve) => spoke.addEventListener("connect", () => resolve(), { once: true }));
    await new Promise((r) => setTimeout(r, 1_000));
    // Quiet: a ping every 300 ms (interval, then the pong is seen when the timeout looks, then interval again).
    assert.ok(pings() >= 2 && pings() <= 10, `${pings()} pings in 1 s`);
    // Busy: the hub sends every 20 ms, so no interval is quiet.
    const listener = () => {};
    spoke.addEventListener("tick:1", listener);
    await spoke.ready("tick:1");
    const timer = setInterval(
      () => server.hub.dispatchEvent(new CustomEvent("tick:1", { detail: { type: "tick", id: "1", payload: 0 } })),
      20,
    );
    await new Promise((r) => setTimeout(r, 150));
    const before = pings();
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(timer);
    assert.equal(pings(), before, "no ping while frames flow");
    assert.equal(spoke.stats().reconnects, 0);
    assert.equal(spoke.state, "open");
    spoke.removeEventListener("tick:1", listener);
  } finally {
    await spoke.close();
    await closeEndpoints(endpoint);
    await server.close();
  }
});

Deno.test({
  name: "iroh spoke heartbeat: a hub that grants ping and then stays silent is closed with code 4 and redialed",
  ignore,
}, async () => {
  // A hand-made hub: it welcomes with "ping" granted, then never answers (a real hub would, unless it is gone).
  const silent = await bindEndpoint([ALPN]);
  const endpoint = await bindEndpoint();
  const held: unknown[] = [];
  const accepting = (async () => {
    for (let incoming = await silent.acceptNext(); incoming; incoming = await silent.acceptNext()) {
      const conn = await (await incoming.accept()).connect();
      const bi = await conn.acceptBi();
      held.push(conn, bi);
      await bi.send.writeAll(Array.from(encodeFrame('["welcome",2,{"features":["ping"]}]')));
      void readAll(bi.recv, []);
    }
  })().catch(() => {});
  let dials = 0;
  const errors: PubSubError[] = [];
  const spoke = connectIrohEventTarget(() => {
    dials++;
    return endpoint.connect(new iroh!.EndpointAddr(silent.id(), null, loopbackAddrs(silent)), ALPN);
  }, {
    heartbeat: { interval: 100, timeout: 100 },
    backoff: { initialDelay: 0, maxDelay: 10 },
    onError: (e) => errors.push(e),
  });
  try {
    const started = performance.now();
    await until(() => dials >= 2, 5_000, "a second dial");
    const ms = performance.now() - started;
    assert.ok(ms < 2_000, `redialed after ${ms.toFixed(0)} ms`);
    assert.ok(
      errors.some((e) => "closeCode" in e && e.closeCode === 4 && /No frame from the hub/.test(e.message)),
      errors.join("\n"),
    );
  } finally {
    await spoke.close();
    await closeEndpoints(endpoint, silent);
    await accepting;
  }
});
