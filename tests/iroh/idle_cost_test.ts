/**
 * What an idle connection costs an iroh hub in its own process (fixtures/abuse_hub.ts), against what a raw
 * `@number0/iroh` connection with an accepted, read stream costs the same process (`--raw`): 300 connections each,
 * measured as the RSS the child gains per connection once they are all up and idle.
 */

import assert from "node:assert/strict";
import { encodeFrame } from "../../mod.ts";
import { connectIrohEventTarget, type IrohSpoke } from "../../adapters/iroh/mod.ts";
import { dial, type HubAddress, startChildHub } from "./child_hub.ts";
import { bindEndpoint, type Connection, type Endpoint, iroh, skipReason } from "./load_iroh.ts";

const CONNECTIONS = 300;
const KiB = 1024;

/** Per-connection RSS growth of a child serving `open(endpoint, address)` CONNECTIONS times. */
async function perConnection(args: string[], open: (endpoint: Endpoint, hub: HubAddress) => Promise<unknown>) {
  const { child, address } = await startChildHub(["--quiet", ...args]);
  const endpoint = await bindEndpoint();
  const opened: unknown[] = [];
  try {
    opened.push(await open(endpoint, address)); // warm-up: one-off allocations are not counted
    await new Promise((r) => setTimeout(r, 500));
    await child.send("mark");
    const { mark: before } = await child.next((l) => "mark" in l, 10_000, "mark") as { mark: number };
    for (let i = 0; i < CONNECTIONS; i += 20) {
      opened.push(...await Promise.all(Array.from({ length: 20 }, () => open(endpoint, address))));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    await child.send("count");
    const { connections } = await child.next((l) => "connections" in l, 10_000, "count") as { connections: number };
    assert.equal(connections, CONNECTIONS + 1);
    await child.send("report");
    const { rss } = await child.next((l) => "tally" in l, 10_000, "report") as { rss: number };
    return (rss - before) / CONNECTIONS;
  } finally {
    for (const o of opened) {
      if (o !== null && typeof o === "object" && "close" in o) await (o as { close(): unknown }).close();
    }
    await child.stop();
    await endpoint.close();
  }
}

Deno.test({
  name: `iroh hub: ${CONNECTIONS} idle connections cost at most 64 KiB each beyond raw iroh connections`,
  ignore: iroh === undefined,
  async fn() {
    if (iroh === undefined) throw new Error(skipReason);
    const raw = await perConnection(["--raw"], async (endpoint, hub) => {
      const conn: Connection = await dial(endpoint, hub);
      const bi = await conn.openBi();
      await bi.send.writeAll(Array.from(encodeFrame('["hello",2]')));
      return { close: () => conn.close(0n, []) };
    });
    const spokes: IrohSpoke[] = [];
    const hub = await perConnection([], async (endpoint, address) => {
      const spoke = connectIrohEventTarget(() => dial(endpoint, address), { onError: () => {} });
      spokes.push(spoke);
      await spoke.ready("idle:1"); // open
      return { close: () => spoke.close() };
    });
    console.log(JSON.stringify({ rawKiB: (raw / KiB).toFixed(1), hubKiB: (hub / KiB).toFixed(1) }));
    assert.ok(hub - raw <= 64 * KiB, `${((hub - raw) / KiB).toFixed(1)} KiB per connection beyond raw iroh`);
  },
});
