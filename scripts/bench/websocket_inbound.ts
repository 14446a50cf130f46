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
 *   for 3 s, then offering 10,000/s: events/s delivered, refused, lost,
 *   publish → delivery p99 (and the authorize calls' own p99, since a
 *   `setTimeout(10)` fires late on a busy machine).
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
import { echo, emptyPair, fmt, paced, type Pair, payload, pct, type Subject, throughput } from "./_inbound.ts";

const EVENTS = 50_000;
/** Past the spoke's share of the default burst, and under its default outboxSize (131,072): nothing is dropped. */
const SUSTAINED_EVENTS = 120_000;
const ECHO_RATE = 5_000;
const ECHO_MS = 2_000;
const AUTH_RATE = 5_000;
const AUTH_MS = 3_000;

/** `arrivals`, if given, gets the time (performance.now()) each event reached the hub's listener. */
async function libraryPair(
  echo: boolean,
  hubOptions: WebSocketHubOptions<Request> = {},
  arrivals?: number[],
): Promise<Pair> {
  const hub = createWebSocketHub<Request>({ onError: () => {}, ...hubOptions });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  const atHub = createPubSub<{ pong: unknown }>({ eventTarget: hub });
  let closing = false;
  const pair = emptyPair();
  hub.addEventListener("ping:1", (event: EnvelopeEvent) => {
    const value = event.detail.payload as { t?: number };
    if (echo && !closing) atHub.publish("pong", "1", value);
    else {
      pair.got++;
      const now = performance.now();
      if (value.t !== undefined) pair.times.push(now - value.t);
      arrivals?.push(now);
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

/** The raw pair: a raw client WebSocket and a Deno.serve socket, JSON both ways. */
async function makeRaw(echo: boolean): Promise<Pair> {
  let serverSocket: WebSocket | undefined;
  let resolveOpen!: () => void;
  const opened = new Promise<void>((r) => (resolveOpen = r));
  const pair = emptyPair();
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

/** Spoke → hub: raw and the library subjects. */
const oneWaySubjects: Subject[] = [
  ["raw", () => makeRaw(false)],
  ["library, default options", () => libraryPair(false)],
  ["library, hub inboundLimits: false", () => libraryPair(false, { inboundLimits: false })],
];

// 1. Throughput, one way: 50k (within the spoke's share of the hub's default frame burst), and 120k (sustained: the
// rest goes at the spoke's pace, 90% of the hub's default 25,000 frames/s).
if (only === undefined || only === "throughput") await throughput("Spoke → hub", EVENTS, oneWaySubjects);
if (only === undefined || only === "sustained") await throughput("Spoke → hub", SUSTAINED_EVENTS, oneWaySubjects);

// 2. Echo round trip at 5k/s, raw and library interleaved, three runs each.
if (only === undefined || only === "echo") {
  await echo("Echo round trip spoke → hub → spoke", ECHO_RATE, ECHO_MS, [
    ["raw", () => makeRaw(true)],
    ["library, default options", () => libraryPair(true)],
  ]);
}

// 3. authorize answering after 10 ms: publish → delivery at the goal's rate (after a warm-up, as the echo), and
// what one connection sustains when its spoke offers twice that.
if (only === undefined || only === "authorize") {
  const raw = await makeRaw(false);
  await paced(raw, AUTH_RATE, 300); // warm-up
  raw.times.length = 0;
  const rawSent = await paced(raw, AUTH_RATE, AUTH_MS);
  const rawP99 = pct(raw.times, 0.99);
  await raw.close();
  console.log(`\nauthorize answering after 10 ms (a setTimeout(10) per call)`);
  console.log(
    `  raw (no authorize), ${fmt(AUTH_RATE)}/s     ${fmt(rawSent)} sent, p99 one way ${rawP99.toFixed(2)} ms`,
  );
  // Default options ask once per (connection, topic) and keep the answer; `cache: false` asks for every event.
  for (
    const [rate, cache] of [[AUTH_RATE, true], [AUTH_RATE, false], [2 * AUTH_RATE, false]] as const
  ) {
    /** How long each authorize call took to answer (setTimeout(10) fires late on a busy machine), and when. */
    const answered: number[] = [];
    const answeredAt: number[] = [];
    const arrivals: number[] = [];
    const pair = await libraryPair(false, {
      authorize: () => {
        const at = performance.now();
        return new Promise<boolean>((resolve) =>
          setTimeout(() => {
            const now = performance.now();
            answered.push(now - at);
            answeredAt.push(now);
            resolve(true);
          }, 10)
        );
      },
      publishAuthorization: { cache },
    }, arrivals);
    await paced(pair, rate, 300); // warm-up
    pair.times.length = 0;
    answered.length = answeredAt.length = arrivals.length = 0;
    const before = pair.got;
    const start = performance.now();
    const sent = await paced(pair, rate, AUTH_MS);
    const got = pair.got - before;
    const ms = performance.now() - start;
    const p99 = pct(pair.times, 0.99);
    // Without the cache the k-th call answers the k-th event, and delivery keeps the connection's order: event k can
    // go once calls 0..k have answered. What the hub adds after that point:
    let ready = -Infinity;
    const added = cache ? [] : arrivals.map((at, k) => at - (ready = Math.max(ready, answeredAt[k] ?? NaN)));
    console.log(
      `  library, ${cache ? "decision kept" : "cache: false"}, ${fmt(rate)}/s`.padEnd(46) +
        ` ${fmt(sent)} sent, ${fmt(got)} delivered (${fmt(got / (ms / 1000))}/s), ${pair.refused} refused, ${
          sent - got - pair.refused
        } lost; publish → delivery p50 ${pct(pair.times, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms ` +
        `${
          cache
            ? ""
            : `(the calls' own p99 ${
              pct(answered, 0.99).toFixed(2)
            } ms; from the call answering (and those before it) to delivery: p50 ${
              pct(added, 0.5).toFixed(2)
            } ms, p99 ${pct(added, 0.99).toFixed(2)} ms)`
        }`,
    );
    await pair.close();
  }
}
