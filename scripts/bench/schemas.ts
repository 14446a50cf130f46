/**
 * Schema validation benchmark (`deno task bench schemas`, issue 22): what
 * `schemas` costs per event, with a zod and a valibot schema against
 * validation off, each figure also as a ratio to a raw baseline measured in
 * the same run. Rounds interleave the rows, each round starting one row
 * later; medians are reported. The
 * machine may be shared: the ratios and ns figures hold up better than the
 * rates.
 *
 * 1. In process: a pub/sub with `schemas` receiving from another pub/sub on
 *    the same target (the remote path: validated once per event), and a
 *    pub/sub's own publishes with `validateLocal`. Raw baseline: an
 *    `EventTarget` dispatching to a callback.
 * 2. WebSocket over 127.0.0.1: spoke → hub → spoke, the hub (and the
 *    receiving spoke) with schemas, in windows of 500 events; throughput
 *    and p99 latency (publish to the subscriber's `next()`, within a
 *    window). Raw baseline: a server that forwards each text frame from one
 *    raw socket to another, unparsed.
 * 3. Hub fan-out: one connection publishes, 1,000 connections receive, the
 *    real `WebSocketHub` over sockets that count instead of writing (the
 *    hub's CPU alone, where validation weighs most; timed in CPU time, so
 *    the waits between the hub's paced inbound slices do not count). Raw
 *    baseline: a hand router (parse, look up, send). The target: schemas on
 *    ≥ 0.9× off.
 */

import process from "node:process";
import * as v from "valibot";
import { z } from "zod";
import { createPubSub, InProcessEventTarget, type PubSubSchemas, type StandardSchemaV1 } from "../../mod.ts";
import { connectWebSocketEventTarget, createWebSocketHub } from "../../adapters/websocket/mod.ts";
import { CountingSocket } from "./hub_routing.ts";

const zodProgress = z.object({ job: z.string(), percent: z.number().min(0).max(100), note: z.string().optional() });
const valibotProgress = v.object({
  job: v.string(),
  percent: v.pipe(v.number(), v.minValue(0), v.maxValue(100)),
  note: v.optional(v.string()),
});
// A schema that accepts everything at once: the cost of the machinery around the schema.
const identity: StandardSchemaV1 = { "~standard": { version: 1, vendor: "bench", validate: (value) => ({ value }) } };
const SCHEMAS: Record<string, PubSubSchemas | undefined> = {
  off: undefined,
  identity: { progress: identity },
  zod: { progress: zodProgress },
  valibot: { progress: valibotProgress },
};
type Events = { progress: { job: string; percent: number; note?: string } };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A measured row; `p99` (ms) where the row timed each event. */
interface Measured {
  name: string;
  events: number;
  ms: number;
  p99?: number;
}

/** What one run of a row returns: its event count, and each event's latency in ms if it timed them. */
type RunResult = number | { events: number; latencies: number[] };

function print(
  title: string,
  rows: Measured[],
  off: string,
  unit = "event",
): void {
  console.log(`\n${title}`);
  const base = rows[0];
  const offRow = rows.find((r) => r.name === off)!;
  for (const row of rows) {
    const rate = row.events / (row.ms / 1000);
    const ns = (row.ms - offRow.ms) * 1e6 / row.events;
    const vsOff = row === base || row === offRow
      ? ""
      : `  ${(offRow.ms / row.ms).toFixed(2)}× off, ${ns >= 0 ? "+" : ""}${ns.toFixed(0)} ns/${unit}`;
    const p99 = row.p99 === undefined
      ? ""
      : `  p99 ${row.p99.toFixed(1)} ms (${(row.p99 / base.p99!).toFixed(2)}× raw)`;
    console.log(
      `  ${row.name.padEnd(44)} ${Math.round(rate).toLocaleString("en-US").padStart(12)}/s  ${
        (base.ms / row.ms).toFixed(2)
      }× raw${vsOff}${p99}`,
    );
  }
}

/** Wall-clock ms. */
const wall = (): number => performance.now();
/** This process's CPU time (user + system) in ms: excludes the time spent waiting for timers. */
const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function interleave(
  rows: [string, () => Promise<RunResult> | RunResult][],
  rounds: number,
  clock: () => number = wall,
): Promise<Measured[]> {
  const times = rows.map(() => [] as number[]);
  const latencies = rows.map(() => [] as number[]);
  let events = 0;
  for (let round = -1; round < rounds; round++) {
    // Each round starts one row later, so no row always follows the same one (and inherits its garbage).
    for (let k = 0; k < rows.length; k++) {
      const r = (k + Math.max(round, 0)) % rows.length;
      const start = clock();
      const result = await rows[r][1]();
      const ms = clock() - start;
      events = typeof result === "number" ? result : result.events;
      if (round < 0) continue;
      times[r].push(ms);
      if (typeof result !== "number") latencies[r].push(...result.latencies);
    }
  }
  return rows.map(([name], r) => {
    const sorted = latencies[r].sort((a, b) => a - b);
    const p99 = sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length * 0.99)];
    return { name, events, ms: median(times[r]), p99 };
  });
}

// 1. In process
const N = 100_000;
const CHUNK = 500;

function rawInProcess(): number {
  const target = new EventTarget();
  let delivered = 0;
  target.addEventListener("progress:1", (e) => {
    if ((e as CustomEvent).detail.payload.percent >= 0) delivered++;
  });
  for (let i = 0; i < N; i++) {
    target.dispatchEvent(
      new CustomEvent("progress:1", { detail: { type: "progress", id: "1", payload: { job: "j", percent: i % 100 } } }),
    );
  }
  return delivered;
}

async function inProcess(schemas: PubSubSchemas | undefined, own: boolean): Promise<number> {
  const eventTarget = new InProcessEventTarget();
  const sender = own
    ? createPubSub<Events>({ eventTarget, schemas, validateLocal: schemas !== undefined })
    : createPubSub<Events>({ eventTarget });
  const receiver = own ? sender : createPubSub<Events>({ eventTarget, schemas });
  const sub = receiver.subscribe("progress", "1");
  let delivered = 0;
  for (let i = 0; i < N; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) sender.publish("progress", "1", { job: "j", percent: (i + j) % 100 });
    for (let j = 0; j < CHUNK; j++) if (!(await sub.next()).done) delivered++;
  }
  sender.close();
  receiver.close();
  if (delivered !== N) throw new Error(`in process: ${delivered} of ${N}`);
  return delivered;
}

print(
  `1. In process, ${N.toLocaleString("en-US")} events to one subscriber (median of 7 interleaved rounds)`,
  await interleave([
    ["raw EventTarget → callback", rawInProcess],
    ["remote path, schemas off", () => inProcess(undefined, false)],
    ["remote path, accept-all schema (machinery only)", () => inProcess(SCHEMAS.identity, false)],
    ["remote path, zod", () => inProcess(SCHEMAS.zod, false)],
    ["remote path, valibot", () => inProcess(SCHEMAS.valibot, false)],
    ["own publishes, validateLocal zod", () => inProcess(SCHEMAS.zod, true)],
    ["own publishes, validateLocal valibot", () => inProcess(SCHEMAS.valibot, true)],
  ], 7),
  "remote path, schemas off",
);

// 2. WebSocket
const WS_EVENTS = 20_000;
/** Published at once, then awaited at the receiver: a window that stays far below the send budget. */
const WS_CHUNK = 500;

async function rawRelay(): Promise<RunResult> {
  let inbound: WebSocket | undefined;
  let outbound: WebSocket | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    if (new URL(request.url).pathname === "/in") {
      inbound = socket;
      socket.onmessage = (e) => outbound!.send(e.data);
    } else outbound = socket;
    return response;
  });
  const url = `ws://127.0.0.1:${server.addr.port}`;
  const receiver = new WebSocket(`${url}/out`);
  await new Promise((r) => receiver.onopen = r);
  const sender = new WebSocket(`${url}/in`);
  await new Promise((r) => sender.onopen = r);
  while (inbound === undefined || outbound === undefined) await new Promise((r) => setTimeout(r, 1));
  let got = 0;
  let wake: () => void = () => {};
  const latencies: number[] = [];
  receiver.onmessage = (e) => {
    const { payload } = JSON.parse(e.data);
    latencies.push(performance.now() - Number(payload.note));
    if (payload.percent >= 0 && ++got % WS_CHUNK === 0) wake();
  };
  for (let i = 0; i < WS_EVENTS; i += WS_CHUNK) {
    const chunk = new Promise<void>((resolve) => wake = resolve);
    for (let j = 0; j < WS_CHUNK; j++) {
      const payload = { job: "j", percent: (i + j) % 100, note: String(performance.now()) };
      sender.send(JSON.stringify({ type: "progress", id: "1", payload }));
    }
    await chunk;
  }
  const closed = [sender, receiver].map((s) => new Promise((r) => s.onclose = r));
  sender.close();
  receiver.close();
  await Promise.all(closed);
  await server.shutdown();
  return { events: got, latencies };
}

async function webSocket(schemas: PubSubSchemas | undefined): Promise<RunResult> {
  const hub = createWebSocketHub<Request>({ heartbeat: false, schemas });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  const url = `ws://127.0.0.1:${server.addr.port}`;
  const a = connectWebSocketEventTarget(url, { heartbeat: false });
  const b = connectWebSocketEventTarget(url, { heartbeat: false });
  const from = createPubSub<Events>({ eventTarget: a });
  const to = createPubSub<Events>({ eventTarget: b, schemas });
  const sub = to.subscribe("progress", "1", { bufferSize: WS_EVENTS });
  await to.ready("progress", "1");
  let got = 0;
  const latencies: number[] = [];
  for (let i = 0; i < WS_EVENTS; i += WS_CHUNK) {
    for (let j = 0; j < WS_CHUNK; j++) {
      from.publish("progress", "1", { job: "j", percent: (i + j) % 100, note: String(performance.now()) });
    }
    for (let j = 0; j < WS_CHUNK; j++) {
      const next = await sub.next();
      if (next.done) break;
      latencies.push(performance.now() - Number(next.value.note));
      got++;
    }
  }
  from.close();
  to.close();
  a.close();
  b.close();
  await Promise.all([a.closed, b.closed]);
  await hub.close();
  await server.shutdown();
  if (got !== WS_EVENTS) throw new Error(`websocket: ${got} of ${WS_EVENTS}`);
  return { events: got, latencies };
}

print(
  `2. WebSocket over 127.0.0.1, spoke → hub → spoke, ${WS_EVENTS.toLocaleString("en-US")} events ` +
    `(hub and receiving spoke validate; median of 5 interleaved rounds)`,
  await interleave([
    ["raw relay (unparsed frames)", rawRelay],
    ["schemas off", () => webSocket(undefined)],
    ["accept-all schema (machinery only)", () => webSocket(SCHEMAS.identity)],
    ["zod", () => webSocket(SCHEMAS.zod)],
    ["valibot", () => webSocket(SCHEMAS.valibot)],
  ], 5),
  "schemas off",
);

// 3. Hub fan-out
const SPOKES = 1_000;
const FAN_EVENTS = 2_000;
const FRAME = (i: number) => `{"type":"progress","id":"1","payload":{"job":"j","percent":${i % 100}}}`;

/** A later macrotask, after the hub's next paced inbound slice (a `setTimeout(0)`). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

function fanoutHub(schemas: PubSubSchemas | undefined): { run(): Promise<number>; close(): Promise<void> } {
  const hub = createWebSocketHub({ heartbeat: false, schemas, inboundLimits: false });
  const sockets: CountingSocket[] = [];
  for (let i = 0; i <= SPOKES; i++) {
    const socket = new CountingSocket();
    sockets.push(socket);
    hub.accept(socket);
    socket.receive('["hello",2]');
    if (i > 0) socket.receive('["sub","progress:1"]');
  }
  if (hub.stats().subscriptions !== SPOKES) throw new Error("fan-out: subscriptions are not live");
  const publisher = sockets[0];
  return {
    async run() {
      const before = sockets.reduce((sum, s) => sum + s.sent, 0);
      // The hub handles a connection's frames in slices of 256 per turn (inboundSlice), as it would from a socket.
      for (let i = 0; i < FAN_EVENTS; i++) publisher.receive(FRAME(i));
      let sent = 0;
      const deadline = performance.now() + 30_000;
      while (performance.now() < deadline) {
        sent = sockets.reduce((sum, s) => sum + s.sent, 0) - before;
        if (sent >= FAN_EVENTS * SPOKES) break;
        await nextTurn();
      }
      if (sent !== FAN_EVENTS * SPOKES) throw new Error(`fan-out: ${sent} deliveries`);
      return sent;
    },
    close: () => hub.close(),
  };
}

function fanoutRaw(): { run(): Promise<number> | number; close(): Promise<void> } {
  const routes = new Map<string, CountingSocket[]>();
  const sockets = Array.from({ length: SPOKES }, () => new CountingSocket());
  routes.set("progress:1", sockets);
  return {
    run() {
      let sent = 0;
      for (let i = 0; i < FAN_EVENTS; i++) {
        const text = FRAME(i);
        const envelope = JSON.parse(text);
        for (const socket of routes.get(`${envelope.type}:${envelope.id}`) ?? []) {
          socket.send(text);
          sent++;
        }
      }
      return sent;
    },
    close: () => Promise.resolve(),
  };
}

const fanouts = [
  fanoutRaw(),
  fanoutHub(undefined),
  fanoutHub(SCHEMAS.zod),
  fanoutHub(SCHEMAS.valibot),
  fanoutHub(SCHEMAS.identity),
];
print(
  `3. Hub fan-out: 1 connection publishes ${FAN_EVENTS.toLocaleString("en-US")} events, ${
    SPOKES.toLocaleString("en-US")
  } connections receive each (deliveries per CPU second of this process, sockets that count instead of writing; ` +
    `median of 15 interleaved rounds)`,
  await interleave(
    [
      ["raw router", () => fanouts[0].run()],
      ["hub, schemas off", () => fanouts[1].run()],
      ["hub, zod", () => fanouts[2].run()],
      ["hub, valibot", () => fanouts[3].run()],
      ["hub, accept-all schema (machinery only)", () => fanouts[4].run()],
    ],
    15,
    cpu,
  ),
  "hub, schemas off",
  "delivery",
);
for (const fanout of fanouts) await fanout.close();
