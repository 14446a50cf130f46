/**
 * Attacks on an iroh hub in its own process (fixtures/abuse_hub.ts), with two legitimate spokes carrying
 * sequence-numbered events at 100/s each way. The attacker is a raw `@number0/iroh` peer that says hello, then sends
 * frames at an allowed inbound rate and never reads its receive stream, so every reply the hub owes it piles up. Each
 * test asserts: the hub survives, the legitimate spokes lose nothing and are never disconnected, the hub's RSS (its own
 * `Deno.memoryUsage().rss`, sampled every 10 ms) rises by at most 64 MiB at peak, and the attacker is closed with the
 * documented code (7, slow consumer).
 */

import assert from "node:assert/strict";
import { createPubSub, encodeFrame, type PubSub } from "../../mod.ts";
import { connectIrohEventTarget, IROH_CLOSE_CODES, type IrohSpoke } from "../../adapters/iroh/mod.ts";
import { Child } from "../child.ts";
import { ALPN, bindEndpoint, type Endpoint, iroh, skipReason } from "./load_iroh.ts";

type Events = { down: { seq: number }; up: { from: string; seq: number } };

const MiB = 1024 * 1024;
const hubScript = new URL("./fixtures/abuse_hub.ts", import.meta.url);
const hubPermissions = [
  "--allow-ffi",
  "--allow-read=.,/usr/bin/ldd",
  "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI",
];

interface HubAddress {
  id: string;
  addrs: string[];
}

function dial(endpoint: Endpoint, hub: HubAddress) {
  return endpoint.connect(new iroh!.EndpointAddr(iroh!.EndpointId.fromString(hub.id), null, hub.addrs), ALPN);
}

/** A legitimate spoke: publishes `up` events at 100/s and checks the hub's `down` events arrive with no gap. */
class Legit {
  readonly spoke: IrohSpoke;
  readonly pubsub: PubSub<Events>;
  readonly disconnects: unknown[] = [];
  sent = 0;
  received = 0;
  gaps = 0;
  #last = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reader: Promise<void>;

  constructor(readonly name: string, readonly endpoint: Endpoint, hub: HubAddress) {
    this.spoke = connectIrohEventTarget(() => dial(endpoint, hub), { credentials: name, onError: () => {} });
    this.spoke.addEventListener("disconnect", (event) => this.disconnects.push((event as CustomEvent).detail));
    this.pubsub = createPubSub<Events>({ eventTarget: this.spoke });
    const down = this.pubsub.subscribe("down", "1", { bufferSize: 1_000_000 });
    this.#reader = (async () => {
      for await (const { seq } of down) {
        if (this.#last !== -1 && seq !== this.#last + 1) this.gaps++;
        this.#last = seq;
        this.received++;
      }
    })();
  }

  async start(): Promise<void> {
    await this.pubsub.ready("down", "1");
    this.#timer = setInterval(() => {
      for (let i = 0; i < 5; i++) this.pubsub.publish("up", "1", { from: this.name, seq: this.sent++ });
    }, 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async close(): Promise<void> {
    this.stop();
    this.pubsub.close();
    await this.spoke.close();
    await this.#reader;
  }
}

/**
 * A raw peer: hello, then `frame(i)` 50 times every 10 ms (5,000 frames/s, under the default 10,000) until the hub
 * closes it; never reads.
 */
async function rawAttacker(endpoint: Endpoint, hub: HubAddress, frame: (i: number) => string) {
  const conn = await dial(endpoint, hub);
  const bi = await conn.openBi();
  await bi.send.writeAll(Array.from(encodeFrame(JSON.stringify(["hello", 2, "attacker"]))));
  let stopped = false;
  // What the attacker itself learns: QUIC carries the application close code even to a peer that is still writing.
  const closedWith = conn.closed().catch((error) => String(error));
  const run = (async () => {
    let i = 0;
    while (!stopped) {
      const batch: number[] = [];
      for (let k = 0; k < 50; k++) batch.push(...encodeFrame(frame(i++)));
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
  const hub = new Child(hubScript, [], hubPermissions);
  const address = await hub.next((l) => "id" in l, 20_000, "hub address") as unknown as HubAddress;
  const endpoints = await Promise.all([bindEndpoint(), bindEndpoint(), bindEndpoint()]);
  const legit = [new Legit("a", endpoints[0], address), new Legit("b", endpoints[1], address)];
  let attacker: Awaited<ReturnType<typeof rawAttacker>> | undefined;
  try {
    await Promise.all(legit.map((l) => l.start()));
    await new Promise((r) => setTimeout(r, 1_000)); // warm up with legitimate traffic only
    await hub.send("mark");
    const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
    attacker = await rawAttacker(endpoints[2], address, frame);
    const attackerCloses = () => hub.lines.filter((l) => l.name === "attacker" && "disconnect" in l);
    const deadline = Date.now() + 30_000;
    while (attackerCloses().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, after));
    for (const l of legit) l.stop();
    await new Promise((r) => setTimeout(r, 500)); // let in-flight events land
    await hub.send("report");
    const { tally, sent, peak } = await hub.next((l) => "tally" in l, 10_000, "hub report (is the hub alive?)") as {
      tally: Record<string, { count: number; gaps: number }>;
      sent: number;
      peak: number;
    };
    const rise = peak - before;
    const legitLost = legit.reduce((n, l) => n + l.gaps + tally[l.name].gaps + (l.sent - tally[l.name].count), 0);
    console.log(JSON.stringify({
      before: (before / MiB).toFixed(0),
      peak: (peak / MiB).toFixed(0),
      rise: (rise / MiB).toFixed(1),
      legitLost,
      codes: attackerCloses().map((l) => l.disconnect),
    }));
    assert.deepEqual(attackerCloses().map((l) => l.disconnect), [IROH_CLOSE_CODES.slowConsumer]);
    assert.match(await attacker.closedWith, /\(code 7\)/);
    for (const l of legit) {
      assert.deepEqual(l.disconnects, [], `${l.name} was disconnected`);
      assert.equal(l.gaps, 0, `${l.name} missed down events`);
      assert.ok(l.received >= 150, `${l.name} received only ${l.received} down events`);
      assert.ok(sent - l.received <= 25, `${l.name} received ${l.received} of ${sent} down events`);
      assert.equal(tally[l.name].gaps, 0, `the hub missed up events from ${l.name}`);
      assert.equal(tally[l.name].count, l.sent, `the hub got ${tally[l.name].count} of ${l.sent} up events`);
    }
    assert.deepEqual(hub.lines.filter((l) => l.name === "a" || l.name === "b"), []);
    assert.ok(rise <= 64 * MiB, `the hub's RSS rose by ${(rise / MiB).toFixed(1)} MiB`);
  } finally {
    await attacker?.stop();
    await Promise.all(legit.map((l) => l.close()));
    await hub.send("stop").catch(() => {});
    await hub.process.status;
    await hub.done;
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
