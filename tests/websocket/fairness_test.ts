/**
 * Fairness on the hub's inbound path: a connection flooding valid frames (fixtures/attacker.ts, its own process)
 * beside a quiet library spoke. The quiet spoke's frames wait at most a bounded time behind the flood, and it is
 * never disconnected nor loses an event.
 */

import assert from "node:assert/strict";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { createPubSub, type EnvelopeEvent } from "../../mod.ts";
import { startHub, until } from "./helpers.ts";

Deno.test("websocket fairness: a quiet spoke beside a flooding connection keeps a bounded p99 and loses nothing", async () => {
  // No rate limit: the flood lasts the whole test (the hub handles each frame as it is read, so the flood is paced
  // by the hub's reads, not held in its memory), and only the hub's inbound path keeps it fair.
  const server = startHub({ authenticate: () => true, inboundLimits: false, heartbeat: false });
  const delays: number[] = [];
  const seen: number[] = [];
  server.hub.addEventListener("quiet:1", (event: EnvelopeEvent) => {
    const { seq, t } = event.detail.payload as { seq: number; t: number };
    seen.push(seq);
    delays.push(performance.now() - t);
  });
  const quiet = connectWebSocketEventTarget(server.url, { credentials: "q", onError: () => {} });
  const disconnects: unknown[] = [];
  quiet.addEventListener("disconnect", (event) => disconnects.push((event as CustomEvent).detail));
  const attacker = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL("./fixtures/attacker.ts", import.meta.url).pathname,
      "valid",
      new URL(server.url).port,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = attacker.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await quiet.ready("");
    const pubsub = createPubSub<{ quiet: { seq: number; t: number } }>({ eventTarget: quiet });
    const { value } = await reader.read(); // {"ready":true}
    assert.match(value ?? "", /ready/);
    let seq = 0;
    const started = performance.now();
    while (performance.now() - started < 2_000) {
      pubsub.publish("quiet", "1", { seq: seq++, t: performance.now() });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(() => seen.length === seq, 10_000, "every quiet event at the hub");
    assert.deepEqual(seen, Array.from({ length: seq }, (_, i) => i));
    assert.deepEqual(disconnects, []);
    const flooded = server.hub.stats().framesIn;
    assert.ok(flooded > 20_000, `the flood reached the hub (${flooded} frames)`);
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.floor(delays.length * 0.99)];
    // Generous for a loaded machine; without fairness the quiet frames wait behind whole floods (seconds).
    assert.ok(p99 < 250, `quiet p99 ${p99.toFixed(1)} ms`);
    pubsub.close();
  } finally {
    attacker.kill();
    await attacker.status;
    await reader.cancel().catch(() => {});
    quiet.close();
    await quiet.closed;
    await server.close();
  }
});
