/**
 * Attacks on an iroh hub in its own process (fixtures/abuse_hub.ts), with two legitimate spokes carrying
 * sequence-numbered events at 100/s each way. The attacker is a raw `@number0/iroh` peer that says hello, then sends
 * frames at an allowed inbound rate and never reads its receive stream, so every reply the hub owes it piles up. Each
 * test asserts: the hub survives, the legitimate spokes lose nothing and are never disconnected, the hub's RSS (its own
 * `Deno.memoryUsage().rss`, sampled every 10 ms) rises by at most 64 MiB at peak, and the attacker is closed with the
 * documented code (7, slow consumer).
 */

import assert from "node:assert/strict";
import { encodeFrame } from "../../mod.ts";
import { connectIrohEventTarget, IROH_CLOSE_CODES } from "../../adapters/iroh/mod.ts";
import { assertLegitIntact, endAttack, Legit, legitLost } from "../legit_spoke.ts";
import { dial, type HubAddress, startChildHub } from "./child_hub.ts";
import { bindEndpoint, type Endpoint, iroh, skipReason } from "./load_iroh.ts";

const MiB = 1024 * 1024;

/**
 * A raw peer: hello, waits for the welcome, then `frame(i)` 25 times every 10 ms (2,500 frames/s of about 1 KiB, under the default limits)
 * until the hub closes it; never reads. (Receiving an allowed flow costs the hub itself: at 5,000 frames/s of frames it
 * neither routes nor answers, its RSS rises about 44 MiB, mostly the binding's `number[]` chunks and QUIC buffers, which
 * leaves too little headroom under the 64 MiB bound on a loaded machine.)
 */
async function rawAttacker(endpoint: Endpoint, hub: HubAddress, frame: (i: number) => string) {
  const conn = await dial(endpoint, hub);
  const bi = await conn.openBi();
  await bi.send.writeAll(Array.from(encodeFrame(JSON.stringify(["hello", 2, "attacker"]))));
  // The welcome, the only read: a frame sent before it arrives breaks the protocol (closed with code 2, before the
  // attack starts) whenever it reaches the hub in the same read as the hello.
  assert.ok((await bi.recv.read(65536)).length > 0, "the welcome");
  let stopped = false;
  // What the attacker itself learns: QUIC carries the application close code even to a peer that is still writing.
  const closedWith = conn.closed().catch((error) => String(error));
  const run = (async () => {
    let i = 0;
    while (!stopped) {
      const batch: number[] = [];
      for (let k = 0; k < 25; k++) batch.push(...encodeFrame(frame(i++)));
      try {
        await bi.send.writeAll(batch);
      } catch {
        return; // the hub closed the connection
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    closedWith,
    async stop() {
      stopped = true;
      conn.close(0n, []);
      await run;
    },
  };
}

const long = "x".repeat(1000);

async function attack(frame: (i: number) => string, after = 2_000) {
  const { child: hub, address } = await startChildHub();
  const endpoints = await Promise.all([bindEndpoint(), bindEndpoint(), bindEndpoint()]);
  const legitSpoke = (name: string, endpoint: Endpoint) =>
    new Legit(name, connectIrohEventTarget(() => dial(endpoint, address), { credentials: name, onError: () => {} }));
  const legit = [legitSpoke("a", endpoints[0]), legitSpoke("b", endpoints[1])];
  let attacker: Awaited<ReturnType<typeof rawAttacker>> | undefined;
  try {
    await Promise.all(legit.map((l) => l.start()));
    await new Promise((r) => setTimeout(r, 1_000)); // warm up with legitimate traffic only
    await hub.send("mark");
    const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
    attacker = await rawAttacker(endpoints[2], address, frame);
    const attackerCloses = () => hub.lines.filter((l) => l.name === "attacker" && "disconnect" in l);
    const report = await endAttack(hub, legit, attackerCloses, { count: 1, ms: 30_000, after });
    const rise = report.peak - before;
    console.log(JSON.stringify({
      before: (before / MiB).toFixed(0),
      peak: (report.peak / MiB).toFixed(0),
      rise: (rise / MiB).toFixed(1),
      legitLost: legitLost(legit, report),
      codes: attackerCloses().map((l) => l.disconnect),
    }));
    assert.deepEqual(attackerCloses().map((l) => l.disconnect), [IROH_CLOSE_CODES.slowConsumer]);
    assert.match(await attacker.closedWith, /\(code 7\)/);
    assertLegitIntact(legit, report);
    assert.deepEqual(hub.lines.filter((l) => l.name === "a" || l.name === "b"), []);
    assert.ok(rise <= 64 * MiB, `the hub's RSS rose by ${(rise / MiB).toFixed(1)} MiB`);
  } finally {
    await attacker?.stop();
    await Promise.all(legit.map((l) => l.close()));
    await hub.stop();
    for (const endpoint of endpoints) await endpoint.close();
  }
}

const ignore = iroh === undefined;
if (ignore) console.warn(`Skipping: ${skipReason}`);

Deno.test({
  name: "iroh hub abuse: a non-reader subscribing to long topics is closed with code 7",
  ignore,
  fn: () => attack((i) => JSON.stringify(["sub", `t${i}:${long}`])),
});

Deno.test({
  name: "iroh hub abuse: a non-reader publishing refused events is closed with code 7",
  ignore,
  fn: () => attack((i) => JSON.stringify({ type: `deny${long}`, id: String(i), payload: 1 })),
});

Deno.test({
  name: "iroh hub abuse: a non-reader repeating one subscribe (a suback flood) is closed with code 7",
  ignore,
  fn: () => attack(() => JSON.stringify(["sub", `again:${long}`])),
});
