/**
 * WebSocket adapter benchmark (`deno task bench websocket`). A Deno hub
 * (Deno.serve + Deno.upgradeWebSocket) and Deno spokes (global WebSocket) in
 * one process, on 127.0.0.1. Every figure is a ratio to a raw WebSocket JSON
 * stream (the same envelope, `JSON.stringify` on send, `JSON.parse` on
 * receive) measured in the same run:
 * - hub → 1 spoke, 50k events one way: delivered events/s (target ≥ 0.8×);
 * - paced latency p50/p99, one event in flight at a time;
 * - fan-out: hub → 50 spokes, 5k events each.
 *
 * The adapter is measured twice: through `createPubSub` subscriptions (what an
 * application sees) and through a plain listener on the spoke (the transport alone).
 */

import { createPubSub, type EnvelopeEvent, type PubSub } from "../../mod.ts";
import { connectWebSocketEventTarget, createWebSocketHub, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { printRates, type Row } from "./_util.ts";

const EVENTS = 50_000;
const FANOUT = 50;
const FANOUT_EVENTS = 5_000;
const LATENCY_SAMPLES = 2_000;
const CHUNK = 1_000;
const RUNS = 7;
const payload = { user: "ada", n: 0, tags: ["a", "b"], ok: true };

type Mode = "raw" | "adapter (pubsub subscription)" | "adapter (target listener)";
type Events = { bench: { user: string; n: number; tags: string[]; ok: boolean; t?: number } };

/** Counts deliveries and wakes the runner when a target count is reached. */
class Counter {
  got = 0;
  last = 0;
  #target = Infinity;
  #resolve: (() => void) | undefined;
  hit = (t?: number): void => {
    if (t !== undefined) this.last = performance.now() - t;
    if (++this.got >= this.#target) {
      this.#target = Infinity;
      this.#resolve!();
    }
  };
  until(target: number): Promise<void> {
    if (this.got >= target) return Promise.resolve();
    this.#target = target;
    return new Promise((r) => (this.#resolve = r));
  }
}

interface Scenario {
  counter: Counter;
  send(t?: number): void;
  close(): Promise<void>;
}

async function rawScenario(spokes: number): Promise<Scenario> {
  const counter = new Counter();
  const serverSockets: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    opened.push(new Promise((r) => socket.addEventListener("open", () => r(), { once: true })));
    serverSockets.push(socket);
    return response;
  });
  const clients: WebSocket[] = [];
  for (let i = 0; i < spokes; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}`);
    ws.onmessage = (event) => {
      const envelope = JSON.parse(event.data);
      counter.hit(envelope.payload.t);
    };
    await new Promise((r) => ws.addEventListener("open", r, { once: true }));
    clients.push(ws);
  }
  await Promise.all(opened);
  return {
    counter,
    send(t) {
      const frame = JSON.stringify({ type: "bench", id: "1", payload: t === undefined ? payload : { ...payload, t } });
      for (const socket of serverSockets) socket.send(frame);
    },
    async close() {
      await Promise.all(clients.map((ws) => {
        const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
        ws.close();
        return closed;
      }));
      await server.shutdown();
    },
  };
}

async function adapterScenario(spokes: number, viaPubSub: boolean): Promise<Scenario> {
  const counter = new Counter();
  const hub = createWebSocketHub<Request>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  const atHub = createPubSub<Events>({ eventTarget: hub });
  const targets: WebSocketSpoke[] = [];
  const pubsubs: PubSub<Events>[] = [];
  for (let i = 0; i < spokes; i++) {
    const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${server.addr.port}`);
    await spoke.ready("");
    targets.push(spoke);
    if (viaPubSub) {
      const pubsub = createPubSub<Events>({ eventTarget: spoke });
      pubsubs.push(pubsub);
      const sub = pubsub.subscribe("bench", "1", { bufferSize: EVENTS });
      (async () => {
        for await (const value of sub) counter.hit(value.t);
      })();
    } else {
      spoke.addEventListener(
        "bench:1",
        (event: EnvelopeEvent) => counter.hit((event.detail.payload as { t?: number }).t),
      );
    }
  }
  while (hub.connections < spokes) await new Promise((r) => setTimeout(r, 1));
  // Protocol v2: the hub sends a spoke a topic only once it has acknowledged the spoke's subscription.
  await Promise.all(targets.map((t) => t.ready("bench:1")));
  return {
    counter,
    send(t) {
      atHub.publish("bench", "1", t === undefined ? payload : { ...payload, t });
    },
    async close() {
      for (const p of pubsubs) p.close();
      atHub.close();
      for (const t of targets) t.close();
      await Promise.all(targets.map((t) => t.closed));
      await hub.close();
      await server.shutdown();
    },
  };
}

function scenario(mode: Mode, spokes: number): Promise<Scenario> {
  if (mode === "raw") return rawScenario(spokes);
  return adapterScenario(spokes, mode === "adapter (pubsub subscription)");
}

const modes: Mode[] = ["raw", "adapter (pubsub subscription)", "adapter (target listener)"];

/** Runs the modes interleaved (raw, a, b, raw, a, b, …) so drift in machine load hits each alike. */
async function throughput(spokes: number, events: number): Promise<Row[]> {
  const scenarios = [];
  for (const mode of modes) scenarios.push(await scenario(mode, spokes));
  const times: number[][] = modes.map(() => []);
  for (let run = -1; run < RUNS; run++) {
    for (let m = 0; m < modes.length; m++) {
      const s: Scenario = scenarios[m];
      const start = performance.now();
      const target = s.counter.got + events * spokes;
      for (let i = 0; i < events; i += CHUNK) {
        for (let j = 0; j < CHUNK && i + j < events; j++) s.send();
        await new Promise((r) => setTimeout(r, 0));
      }
      await s.counter.until(target);
      if (run >= 0) times[m].push(performance.now() - start); // run -1 warms up
    }
  }
  for (const s of scenarios) await s.close();
  return modes.map((name, m) => ({ name, events: events * spokes, ms: median(times[m]) }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function latency(): Promise<void> {
  const results: { mode: Mode; p50: number; p99: number }[] = [];
  for (const mode of modes) {
    const s = await scenario(mode, 1);
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES + 200; i++) {
      const target = s.counter.got + 1;
      s.send(performance.now());
      await s.counter.until(target);
      if (i >= 200) samples.push(s.counter.last); // the first 200 warm up
    }
    await s.close();
    samples.sort((a, b) => a - b);
    results.push({
      mode,
      p50: samples[Math.floor(samples.length * 0.5)],
      p99: samples[Math.floor(samples.length * 0.99)],
    });
  }
  const [base] = results;
  console.log(`\nPaced latency, hub → spoke, one event in flight (${LATENCY_SAMPLES} samples)`);
  for (const { mode, p50, p99 } of results) {
    console.log(
      `  ${mode.padEnd(46)} p50 ${(p50 * 1000).toFixed(0).padStart(5)} µs (speed ${(base.p50 / p50).toFixed(2)}×)` +
        `  p99 ${(p99 * 1000).toFixed(0).padStart(5)} µs (speed ${(base.p99 / p99).toFixed(2)}×)`,
    );
  }
}

console.log(`WebSocket adapter vs raw WebSocket JSON, ${RUNS} runs each (median); ratios to raw, higher is better`);
printRates(`Hub → 1 spoke, ${EVENTS.toLocaleString("en-US")} events one way`, await throughput(1, EVENTS));
await latency();
printRates(
  `Fan-out: hub → ${FANOUT} spokes, ${FANOUT_EVENTS.toLocaleString("en-US")} events (deliveries/s)`,
  await throughput(FANOUT, FANOUT_EVENTS),
);
