/**
 * WebSocket inbound benchmark (`deno task bench websocket-inbound`): the hub's
 * inbound path, spoke → hub, through what users call (`createWebSocketHub` +
 * `connectWebSocketEventTarget`, default options), against a raw
 * `Deno.serve` + `WebSocket` pair measured in the same run, interleaved:
 * - spoke → hub, 50k events one way: events/s at the hub (default options,
 *   where the spoke paces itself under the hub's default inbound limits of
 *   25,000 frames/s with bursts of 100,000, so 50k go at once; and with
 *   `inboundLimits: false`);
 * - the same with 120k events (sustained: past the burst the spoke sends at
 *   90% of the hub's frame rate);
 * - echo round trip at 5,000 events/s: p50/p99 (spoke → hub → spoke), median of three runs;
 * - `authorize` answering after 10 ms, the spoke publishing 5,000 events/s
 *   for 3 s: events/s delivered, refused, lost, publish → delivery p99.
 *
 * One process, 127.0.0.1; the machine may be shared, so each figure is a
 * ratio to the raw pair measured right beside it.
 */

import { createPubSub, type EnvelopeEvent } from "../../mod.ts";
import {
  connectWebSocketEventTarget,
  createWebSocketHub,
  type WebSocketHubOptions,
} from "../../adapters/websocket/mod.ts";

const EVENTS = 50_000;
/** Past the spoke's share of the default burst, and under its default outboxSize (131,072): nothing is dropped. */
const SUSTAINED_EVENTS = 120_000;
const CHUNK = 1_000;
const RUNS = 3;
const ECHO_RATE = 5_000;
const ECHO_MS = 2_000;
const AUTH_RATE = 5_000;
const AUTH_MS = 3_000;
const payload = { user: "ada", n: 0, tags: ["a", "b"], ok: true };

interface Pair {
  /** Events (or echoes) seen at the receiving end. */
  got: number;
  /** One-way or round-trip times in ms, when the sent payload carried `t`. */
  times: number[];
  refused: number;
  closes: number[];
  send(t?: number): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function libraryPair(echo: boolean, hubOptions: WebSocketHubOptions<Request> = {}): Promise<Pair> {
  const hub = createWebSocketHub<Request>({ onError: () => {}, ...hubOptions });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  const atHub = createPubSub<{ pong: unknown }>({ eventTarget: hub });
  let closing = false;
  const pair: Pair = {
    got: 0,
    times: [],
    refused: 0,
    closes: [],
    send() {},
    close: async () => {},
  };
  hub.addEventListener("ping:1", (event: EnvelopeEvent) => {
    const value = event.detail.payload as { t?: number };
    if (echo && !closing) atHub.publish("pong", "1", value);
    else {
      pair.got++;
      if (value.t !== undefined) pair.times.push(performance.now() - value.t);
    }
  });
  const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${server.addr.port}`, {
    onError: (error) => {
      if (error.name === "PublishRefusedError") pair.refused++;
    },
  });
  spoke.addEventListener(
    "disconnect",
    (event) => pair.closes.push((event as unknown as CustomEvent<{ code: number }>).detail.code),
  );
  spoke.addEventListener("pong:1", (event: EnvelopeEvent) => {
    pair.got++;
    pair.times.push(performance.now() - (event.detail.payload as { t: number }).t);
  });
  await spoke.ready("pong:1");
  const pubsub = createPubSub<{ ping: unknown }>({ eventTarget: spoke });
  pair.send = (t) => pubsub.publish("ping", "1", t === undefined ? payload : { ...payload, t });
  pair.close = async () => {
    closing = true;
    pubsub.close();
    spoke.close();
    await spoke.closed;
    atHub.close();
    await hub.close();
    await server.shutdown();
  };
  return pair;
}

/** `events` one way in chunks of 1,000 (a macrotask between chunks); ms until all arrived, or the cap. */
async function oneWay(pair: Pair, events = EVENTS, capMs = 30_000): Promise<{ ms: number; got: number }> {
  const start = performance.now();
  const target = pair.got + events;
  for (let i = 0; i < events; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) pair.send();
    await sleep(0);
  }
  while (pair.got < target && performance.now() - start < capMs) await sleep(1);
  return { ms: performance.now() - start, got: events - (target - pair.got) };
}

/** Sends `rate` events/s for `ms`, each stamped; returns once the last should have arrived. */
async function paced(pair: Pair, rate: number, ms: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor((performance.now() - start) * rate / 1000);
    while (sent < due) {
      pair.send(performance.now());
      sent++;
    }
    await sleep(1);
  }
  const deadline = performance.now() + 5_000;
  while (pair.got < sent && performance.now() < deadline) await sleep(5);
  return sent;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** The raw pair: a raw client WebSocket and a Deno.serve socket, JSON both ways. */
async function makeRaw(echo: boolean): Promise<Pair> {
  let serverSocket: WebSocket | undefined;
  let resolveOpen!: () => void;
  const opened = new Promise<void>((r) => (resolveOpen = r));
  const pair: Pair = { got: 0, times: [], refused: 0, closes: [], send() {}, close: async () => {} };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    serverSocket = socket;
    socket.onmessage = (event) => {
      const envelope = JSON.parse(event.data);
      if (echo) socket.send(JSON.stringify({ type: "pong", id: "1", payload: envelope.payload }));
      else {
        pair.got++;
        if (envelope.payload.t !== undefined) pair.times.push(performance.now() - envelope.payload.t);
      }
    };
    socket.addEventListener("open", () => resolveOpen(), { once: true });
    return response;
  });
  const client = new WebSocket(`ws://127.0.0.1:${server.addr.port}`);
  client.onmessage = (event) => {
    const envelope = JSON.parse(event.data);
    pair.got++;
    pair.times.push(performance.now() - envelope.payload.t);
  };
  await new Promise((r) => client.addEventListener("open", r, { once: true }));
  await opened;
  pair.send = (t) =>
    client.send(JSON.stringify({ type: "ping", id: "1", payload: t === undefined ? payload : { ...payload, t } }));
  pair.close = async () => {
    const closed = new Promise((r) => client.addEventListener("close", r, { once: true }));
    client.close();
    await closed;
    serverSocket?.close();
    await server.shutdown();
  };
  return pair;
}

console.log("WebSocket inbound path (spoke → hub) vs raw Deno.serve + WebSocket, interleaved; ratios to raw");

// One section only: `deno run --allow-net=127.0.0.1 scripts/bench/websocket_inbound.ts echo` (throughput, sustained,
// echo, authorize).
const only = Deno.args[0];

/** Spoke → hub, `events` one way: raw and the library subjects interleaved, median of three runs each. */
async function throughput(events: number): Promise<void> {
  const rows: Record<string, { ms: number[]; got: number[]; closes: number }> = {};
  const subjects: [string, () => Promise<Pair>][] = [
    ["raw", () => makeRaw(false)],
    ["library, default options", () => libraryPair(false)],
    ["library, hub inboundLimits: false", () => libraryPair(false, { inboundLimits: false })],
  ];
  for (let run = 0; run < RUNS; run++) {
    for (const [name, make] of subjects) {
      const pair = await make();
      const { ms, got } = await oneWay(pair, events);
      await pair.close();
      const row = rows[name] ??= { ms: [], got: [], closes: 0 };
      row.ms.push(ms);
      row.got.push(got);
      row.closes += pair.closes.length;
    }
  }
  console.log(`\nSpoke → hub, ${fmt(events)} events one way (median of ${RUNS})`);
  const base = events / pct(rows.raw.ms, 0.5);
  for (const [name, row] of Object.entries(rows)) {
    const ms = pct(row.ms, 0.5);
    const got = Math.min(...row.got);
    const r = got / ms;
    console.log(
      `  ${name.padEnd(36)} ${fmt(r * 1000).padStart(9)}/s  ${(r / base).toFixed(2)}× raw` +
        `  delivered ${fmt(got)}/${fmt(events)} (worst run)  disconnects ${row.closes}`,
    );
  }
}

// 1. Throughput, one way: 50k (within the spoke's share of the hub's default frame burst), and 120k (sustained: the
// rest goes at the spoke's pace, 90% of the hub's default 25,000 frames/s).
if (only === undefined || only === "throughput") await throughput(EVENTS);
if (only === undefined || only === "sustained") await throughput(SUSTAINED_EVENTS);

// 2. Echo round trip at 5k/s, raw and library interleaved, three runs each.
if (only === undefined || only === "echo") {
  const subjects: [string, () => Promise<Pair>][] = [
    ["raw", () => makeRaw(true)],
    ["library, default options", () => libraryPair(true)],
  ];
  const runs: Record<string, { p50: number[]; p99: number[]; lost: number }> = {};
  for (let run = 0; run < RUNS; run++) {
    for (const [name, make] of subjects) {
      const pair = await make();
      await paced(pair, ECHO_RATE, 300); // warm-up
      pair.times.length = 0;
      const before = pair.got;
      const sent = await paced(pair, ECHO_RATE, ECHO_MS);
      const row = runs[name] ??= { p50: [], p99: [], lost: 0 };
      row.p50.push(pct(pair.times, 0.5));
      row.p99.push(pct(pair.times, 0.99));
      row.lost += sent - (pair.got - before);
      await pair.close();
    }
  }
  const base = { p50: pct(runs.raw.p50, 0.5), p99: pct(runs.raw.p99, 0.5) };
  console.log(
    `\nEcho round trip spoke → hub → spoke at ${fmt(ECHO_RATE)}/s for ${ECHO_MS / 1000} s (median of ${RUNS})`,
  );
  for (const [name, row] of Object.entries(runs)) {
    const p50 = pct(row.p50, 0.5), p99 = pct(row.p99, 0.5);
    console.log(
      `  ${name.padEnd(36)} p50 ${(p50 * 1000).toFixed(0).padStart(6)} µs (${(p50 / base.p50).toFixed(2)}× raw)` +
        `  p99 ${(p99 * 1000).toFixed(0).padStart(6)} µs (${(p99 / base.p99).toFixed(2)}× raw)  lost ${row.lost}`,
    );
  }
}

// 3. authorize answering after 10 ms.
if (only === undefined || only === "authorize") {
  const raw = await makeRaw(false);
  const rawSent = await paced(raw, AUTH_RATE, AUTH_MS);
  const rawP99 = pct(raw.times, 0.99);
  await raw.close();
  const pair = await libraryPair(false, {
    authorize: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 10)),
  });
  const start = performance.now();
  const sent = await paced(pair, AUTH_RATE, AUTH_MS);
  const ms = performance.now() - start;
  console.log(`\nauthorize answering after 10 ms; the spoke publishes ${fmt(AUTH_RATE)}/s for ${AUTH_MS / 1000} s`);
  console.log(`  raw (no authorize)                   ${fmt(rawSent)} sent, p99 one way ${rawP99.toFixed(2)} ms`);
  console.log(
    `  library, default options             ${fmt(sent)} sent, ${fmt(pair.got)} delivered (${
      fmt(pair.got / (ms / 1000))
    }/s), ${pair.refused} refused, ${sent - pair.got - pair.refused} lost; publish → delivery p50 ${
      pct(pair.times, 0.5).toFixed(2)
    } ms, p99 ${pct(pair.times, 0.99).toFixed(2)} ms (10 ms + ${(pct(pair.times, 0.99) - 10).toFixed(2)} ms)`,
  );
  await pair.close();
}
