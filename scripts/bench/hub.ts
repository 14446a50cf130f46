/**
 * Routed hub benchmark (`deno task bench hub`, issue 11). Each server runs
 * alone in its own process (hub_server.ts) so its CPU time and RSS can be
 * read from /proc/<pid>/stat and /proc/<pid>/status; clients run in other
 * processes (hub_clients.ts). Heartbeats are off. Every figure is a ratio to
 * a raw `Deno.upgradeWebSocket` server that hand-routes each JSON envelope to
 * the sockets subscribed to its topic, measured in the same run:
 *
 * 0. Routing cost without the network (hub_routing.ts), in this process.
 * 1. Fan-out by interest: 1,000 connections, each subscribed to its own
 *    topic; the server publishes 100k events spread over the topics.
 *    Deliveries/s and frames sent per delivery (counted at the client sockets
 *    and from the server's own frame count). Also the previous release's
 *    broadcast (every event to every socket), emulated by a raw broadcast
 *    server with fewer events: useful deliveries/s and frames per useful
 *    delivery.
 * 2. Centrifugo-shaped load: 5,000 authenticated connections, each on a
 *    personal topic and one of 500 group topics (10 members each). The
 *    server publishes to the group topics at a paced rate, stepped up until
 *    p99 latency (payload timestamp to arrival, on the shared clock
 *    `performance.timeOrigin + performance.now()`) passes 200 ms or
 *    deliveries fall behind. The highest sustained step, the server's CPU
 *    there, and RSS per idle connection.
 * 3. Two hubs over Redis (127.0.0.1:6379, a unique channel prefix per run):
 *    publisher on hub A, subscribers on hub B, as a ratio to one hub.
 * 4. Recovery (issue 20): fan-out with `history` on vs off (library spokes
 *    ask for positions, thin clients don't); two hubs over Redis streams vs
 *    pub/sub; a 10,000-event replay to a reconnecting client while 1,000
 *    others receive a paced load: the replay's time and their p99 with and
 *    without it.
 *
 * Server CPU is also given per delivery (user + system time from
 * /proc/<pid>/stat over the delivered count), which holds up better than
 * rates on a shared machine, and as the rate one server process would reach
 * at 100% of a core.
 *
 * Bounded: every wait has a timeout, every loop a count; all helper
 * processes are stopped (killed after a grace period) at the end or on error.
 * 4. Every server runtime (issue 21): the hub on Deno, on Node (`ws`) and on
 *    Bun (`Bun.serve`, native fan-out), from the npm package (built into
 *    .tmp/bench-npm, runtime_server.mjs), against each runtime's raw
 *    baseline (hand-routed `Deno.serve`, hand-routed `ws`, Bun's native
 *    pub/sub) and Socket.IO 4.8 rooms, in scenarios A (the fan-out of 1,
 *    the server publishing 1,000 and then 10,000 events per event-loop turn),
 *    B (the load of 2, stepped further) and C (one client publishes 50k
 *    events, each relayed to its subscriber). Inbound limits are raised in the
 *    hubs (C would measure the default limits instead). The clients run under
 *    Bun (BENCH_HUB_CLIENTS=deno: under Deno), the same for every system.
 *
 * BENCH_QUICK=1 runs fewer rounds and steps; BENCH_HUB_ONLY=routing,fanout,
 * centrifugo,redis,runtimes,history,streams,replay picks sections.
 */

import { BUCKET_MS, BUCKETS, Child, cpuMs, rssKiB } from "./_control.ts";
import { routingCost } from "./hub_routing.ts";
import { buildNpmScratch, BUN, NPM_SCRATCH } from "./_util.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const SERVER_PERMISSIONS = ["--allow-net=127.0.0.1", "--allow-env", "--v8-flags=--expose-gc"];
const CLIENT_PERMISSIONS = ["--allow-net=127.0.0.1"];
const CLIENT_PROCESSES = 2;

const FANOUT_CONNECTIONS = 1_000;
const FANOUT_EVENTS = 100_000;
const BROADCAST_EVENTS = 50;
const FANOUT_ROUNDS = QUICK ? 1 : 3;
const FANOUT_BUDGET_MS = 90_000;

const C_CONNECTIONS = 5_000;
const C_GROUPS = 500;
const C_STEP_MS = 2_000;
// deliveries/s
const C_STEPS = [2_500, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 125_000];
const C_WARMUP_RATE = 2_500;
const P99_LIMIT_MS = 200;

const REDIS_EVENTS = 50_000;
const REDIS_ROUNDS = QUICK ? 1 : 2;

const started = performance.now();
const children: Child[] = [];

type ServerMode =
  | "hub"
  | "hub-history"
  | "hub-replay"
  | "hub-streams"
  | "route"
  | "broadcast"
  | "raw"
  | "socketio";
type Kind = "thin" | "spoke" | "sio";
/** A server runtime other than Deno: the server is runtime_server.mjs from the npm package in NPM_SCRATCH. */
type Runtime = "node" | "bun";

interface Stats {
  framesOut: number;
  deliveries: number;
  connections: number;
  subscriptions: number;
  errors: number;
  dropped?: number;
}

interface Report {
  frames: number;
  useful: number;
  wrong: number;
  firstAt: number;
  lastAt: number;
  lastFrameAt: number;
  maxMs: number;
  histogram?: number[];
}

class Server {
  readonly child: Child;
  readonly name: string;
  url = "";

  constructor(name: string, mode: ServerMode, redisPrefix?: string, runtime?: Runtime) {
    this.name = name;
    const args = redisPrefix === undefined ? [mode] : [mode, redisPrefix];
    const script = `${NPM_SCRATCH}/bench/runtime_server.mjs`;
    const runner = runtime === undefined ? undefined : {
      command: runtime === "node" ? "node" : BUN,
      args: runtime === "node" ? ["--expose-gc", script, mode] : [script, mode],
      cwd: NPM_SCRATCH,
    };
    this.child = new Child(`server ${name}`, "./hub_server.ts", SERVER_PERMISSIONS, args, runner);
    children.push(this.child);
  }

  async start(): Promise<this> {
    this.url = `ws://127.0.0.1:${await this.child.call<number>({ cmd: "port" })}`;
    return this;
  }

  stats(): Promise<Stats> {
    return this.child.call<Stats>({ cmd: "stats" });
  }

  cpu(): Promise<{ user: number; system: number }> {
    return cpuMs(this.child.pid);
  }

  /** V8 heap in use after a full GC, in bytes. */
  async heapUsed(): Promise<number> {
    await this.child.call({ cmd: "gc" });
    return (await this.child.call<{ heapUsed: number }>({ cmd: "memory" })).heapUsed;
  }

  async rss(): Promise<number> {
    await this.child.call({ cmd: "gc" });
    await sleep(300);
    return rssKiB(this.child.pid);
  }
}

class Clients {
  readonly children: Child[] = [];

  /** `runtime` "bun" runs the same client script under Bun (thin and Socket.IO kinds only). */
  constructor(kind: Kind, processes = CLIENT_PROCESSES, runtime: "deno" | "bun" = "deno") {
    const script = new URL("./hub_clients.ts", import.meta.url).pathname;
    const runner = runtime === "bun" ? { command: BUN, args: [script, kind] } : undefined;
    for (let i = 0; i < processes; i++) {
      const child = new Child(`${kind} clients ${i}`, "./hub_clients.ts", CLIENT_PERMISSIONS, [kind], runner);
      this.children.push(child);
      children.push(child);
    }
  }

  /** Opens `total` connections to `url`, users 0..total-1 split over the processes. */
  async connect(url: string, total: number, shape: "fanout" | "centrifugo"): Promise<void> {
    const per = Math.ceil(total / this.children.length);
    await Promise.all(
      this.children.map((child, i) =>
        child.call({ cmd: "connect", url, from: i * per, count: Math.min(per, total - i * per), shape }, 120_000)
      ),
    );
  }

  async reset(): Promise<void> {
    await Promise.all(this.children.map((child) => child.call({ cmd: "reset" })));
  }

  /**
   * Waits until the processes together saw `useful` deliveries and `frames`
   * frames, or `timeoutMs` passed; the last report carries the latency histogram.
   */
  async wait(useful: number, frames: number, timeoutMs: number): Promise<Report> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const merged = await this.report(false);
      if ((merged.useful >= useful && merged.frames >= frames) || performance.now() > deadline) break;
      await sleep(25);
    }
    return this.report(true);
  }

  async report(histogram: boolean): Promise<Report> {
    return merge(await Promise.all(this.children.map((child) => child.call<Report>({ cmd: "report", histogram }))));
  }

  /** CPU ms (user and system) of all the client processes. */
  async cpu(): Promise<number> {
    const all = await Promise.all(this.children.map((child) => cpuMs(child.pid)));
    return all.reduce((sum, { user, system }) => sum + user + system, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => child.call({ cmd: "close" }, 30_000)));
  }
}

function merge(reports: Report[]): Report {
  const out: Report = {
    frames: 0,
    useful: 0,
    wrong: 0,
    firstAt: Infinity,
    lastAt: 0,
    lastFrameAt: 0,
    maxMs: 0,
    histogram: new Array(BUCKETS + 1).fill(0),
  };
  for (const r of reports) {
    out.frames += r.frames;
    out.useful += r.useful;
    out.wrong += r.wrong;
    if (r.firstAt > 0) out.firstAt = Math.min(out.firstAt, r.firstAt);
    out.lastAt = Math.max(out.lastAt, r.lastAt);
    out.lastFrameAt = Math.max(out.lastFrameAt, r.lastFrameAt);
    out.maxMs = Math.max(out.maxMs, r.maxMs);
    if (r.histogram !== undefined) { for (let i = 0; i <= BUCKETS; i++) out.histogram![i] += r.histogram[i]; }
  }
  return out;
}

/** The latency under which a fraction `q` of the deliveries arrived, in ms (bucket upper bound). */
function percentile(report: Report, q: number): number {
  const histogram = report.histogram!;
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const target = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += histogram[i];
    if (seen >= target) return (i + 1) * BUCKET_MS;
  }
  return report.maxMs;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---------------------------------------------------------------------------------------------------------------
// 1. Fan-out by interest

interface BurstResult {
  useful: number;
  frames: number;
  wrong: number;
  ms: number;
  framesOut: number;
  /** Server CPU ms, user and system. */
  user: number;
  system: number;
  /** Client processes' CPU ms, all together. */
  clientCpu: number;
}

/**
 * `publisher` publishes `events` events over the fan-out topics; `deliverer`
 * (the publisher itself unless given) holds the clients. CPU covers both servers.
 */
async function burst(
  publisher: Server,
  clients: Clients,
  events: number,
  broadcast: boolean,
  deliverer: Server = publisher,
  fromClient = false,
  chunk?: number,
): Promise<BurstResult> {
  const servers = deliverer === publisher ? [publisher] : [publisher, deliverer];
  await clients.reset();
  const before = await deliverer.stats();
  const cpuBefore = await Promise.all(servers.map((s) => s.cpu()));
  const clientsBefore = await clients.cpu();
  // From the server itself, or (scenario C) from one client connection, relayed by the server.
  const { start } = fromClient
    ? await clients.children[0].call<{ start: number }>({ cmd: "publish", ids: FANOUT_CONNECTIONS, events }, 120_000)
    : await publisher.child.call<{ start: number }>(
      { cmd: "burst", type: "user", ids: FANOUT_CONNECTIONS, events, chunk },
      120_000,
    );
  const expectedFrames = broadcast ? events * FANOUT_CONNECTIONS : events;
  const report = await clients.wait(events, expectedFrames, 60_000);
  const cpuAfter = await Promise.all(servers.map((s) => s.cpu()));
  const clientCpu = await clients.cpu() - clientsBefore;
  const after = await deliverer.stats();
  if (report.useful < events) console.log(`  (${deliverer.name}: only ${report.useful} of ${events} arrived)`);
  const sum = (key: "user" | "system") => cpuAfter.reduce((a, c, i) => a + c[key] - cpuBefore[i][key], 0);
  return {
    useful: report.useful,
    frames: report.frames,
    wrong: report.wrong,
    ms: Math.max(report.lastAt, report.lastFrameAt) - start,
    framesOut: after.framesOut - before.framesOut,
    user: sum("user"),
    system: sum("system"),
    clientCpu,
  };
}

interface BurstRow {
  name: string;
  rate: number;
  rates: number[];
  wire: number;
  sent: number;
  wrong: number;
  cpuUs: number;
  userShare: number;
  cpuPct: number;
  clientPct: number;
}

function burstRow(name: string, rs: BurstResult[]): BurstRow {
  const useful = rs.reduce((a, r) => a + r.useful, 0);
  const cpu = rs.reduce((a, r) => a + r.user + r.system, 0);
  const rates = rs.map((r) => r.useful / (r.ms / 1000));
  return {
    name,
    rate: median(rates),
    rates,
    wire: rs.reduce((a, r) => a + r.frames, 0) / useful,
    sent: rs.reduce((a, r) => a + r.framesOut, 0) / useful,
    wrong: rs.reduce((a, r) => a + r.wrong, 0),
    cpuUs: cpu * 1000 / useful,
    userShare: rs.reduce((a, r) => a + r.user, 0) / cpu,
    cpuPct: median(rs.map((r) => (r.user + r.system) / r.ms * 100)),
    clientPct: median(rs.map((r) => r.clientCpu / r.ms * 100)),
  };
}

function printBurstRows(rows: BurstRow[]): void {
  const [base] = rows;
  console.log(
    `  ${"".padEnd(50)} ${"deliveries/s".padStart(12)}  × raw   frames/delivery   server CPU/delivery   ` +
      `server CPU  clients CPU   rounds (deliveries/s)`,
  );
  console.log(`  ${"".padEnd(50)} ${"".padStart(12)}         wire    server    µs (user)      × raw`);
  for (const row of rows) {
    console.log(
      `  ${row.name.padEnd(50)} ${fmt(row.rate).padStart(12)}  ${(row.rate / base.rate).toFixed(2).padStart(5)}` +
        `  ${row.wire.toFixed(2).padStart(7)}  ${row.sent.toFixed(2).padStart(7)}` +
        `  ${row.cpuUs.toFixed(1).padStart(6)} (${(row.userShare * 100).toFixed(0).padStart(2)}%)` +
        `  ${(row.cpuUs / base.cpuUs).toFixed(2).padStart(6)}` +
        `  ${row.cpuPct.toFixed(0).padStart(8)}%  ${row.clientPct.toFixed(0).padStart(10)}%` +
        `   ${row.rates.map(fmt).join(", ")}${
          row.wrong > 0 ? `   (${fmt(row.wrong)} frames to uninterested sockets)` : ""
        }`,
    );
  }
}

async function fanOut(): Promise<void> {
  console.log(
    `\n1. Fan-out by interest: ${fmt(FANOUT_CONNECTIONS)} connections, each on its own topic; the server ` +
      `publishes ${fmt(FANOUT_EVENTS)} events over the topics (median of up to ${FANOUT_ROUNDS} rounds, interleaved)`,
  );
  const setups = ([
    ["raw routing server (baseline)", "route", "thin", FANOUT_EVENTS],
    ["hub, thin v2 clients", "hub", "thin", FANOUT_EVENTS],
    ["hub, library spokes", "hub", "spoke", FANOUT_EVENTS],
    [`raw broadcast (previous release), ${BROADCAST_EVENTS} events`, "broadcast", "thin", BROADCAST_EVENTS],
  ] as const).map(([name, mode, kind, events]) => ({
    name,
    server: new Server(name, mode),
    clients: new Clients(kind),
    events,
    broadcast: mode === "broadcast",
  }));
  for (const s of setups) {
    await s.server.start();
    await s.clients.connect(s.server.url, FANOUT_CONNECTIONS, "fanout");
    await burst(s.server, s.clients, Math.min(s.events / 5, 10_000), s.broadcast); // warm-up
  }
  const results: BurstResult[][] = setups.map(() => []);
  const roundsStart = performance.now();
  for (let round = 0; round < FANOUT_ROUNDS; round++) {
    // On a busy machine a round can take a minute: later rounds only while the section keeps to its budget.
    if (round > 0 && (performance.now() - roundsStart) * (round + 1) / round > FANOUT_BUDGET_MS) break;
    for (let i = 0; i < setups.length; i++) {
      const s = setups[i];
      results[i].push(await burst(s.server, s.clients, s.events, s.broadcast));
    }
  }
  const rows = setups.map((s, i) => burstRow(s.name, results[i]));
  printBurstRows(rows);
  console.log(
    `  one server process at 100% of a core (1 / CPU per delivery): raw ${fmt(1e6 / rows[0].cpuUs)}/s, ` +
      `hub ${fmt(1e6 / rows[1].cpuUs)}/s (thin clients), ${fmt(1e6 / rows[2].cpuUs)}/s (library spokes)`,
  );
  console.log(
    `  (broadcast: deliveries/s counts useful deliveries only (one socket wants each event), frames per useful delivery)`,
  );
  for (const s of setups) await s.clients.close();
  await stopAll();
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Centrifugo-shaped load

interface Step {
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  cpuPct: number;
  /** Server CPU µs per delivery. */
  cpuUs: number;
  clientPct: number;
  ok: boolean;
  why: string;
}

async function step(server: Server, clients: Clients, rate: number, ms: number): Promise<Step> {
  await clients.reset();
  const cpuBefore = await server.cpu();
  const clientsBefore = await clients.cpu();
  const wallBefore = performance.now();
  const { start, sent } = await server.child.call<{ start: number; sent: number }>(
    { cmd: "paced", type: "group", ids: C_GROUPS, rate: rate / 10, ms },
    ms + 30_000,
  );
  const cpu = await server.cpu();
  const clientCpu = await clients.cpu() - clientsBefore;
  const wall = performance.now() - wallBefore;
  const expected = sent * 10;
  const report = await clients.wait(expected, 0, 2_000);
  const achieved = report.useful / (Math.max(ms, report.lastAt - start) / 1000);
  const p99 = percentile(report, 0.99);
  let why = "";
  if (report.useful < expected * 0.99) why = `${fmt(expected - report.useful)} of ${fmt(expected)} missing`;
  else if (p99 >= P99_LIMIT_MS) why = `p99 ≥ ${P99_LIMIT_MS} ms`;
  else if (achieved < rate * 0.95) why = "publisher fell behind";
  return {
    rate,
    achieved,
    p50: percentile(report, 0.5),
    p99,
    cpuPct: (cpu.user + cpu.system - cpuBefore.user - cpuBefore.system) / wall * 100,
    cpuUs: (cpu.user + cpu.system - cpuBefore.user - cpuBefore.system) * 1000 / Math.max(1, report.useful),
    clientPct: clientCpu / wall * 100,
    ok: why === "",
    why,
  };
}

interface StepSetup {
  name: string;
  server: Server;
  clients: Clients;
  steps: Step[];
  /** RSS per idle connection, bytes. */
  rss: number;
  /** JS heap per idle connection, bytes. */
  heap: number;
  done: boolean;
}

function stepSetup(
  name: string,
  server: Server,
  kind: Kind = "thin",
  clientRuntime: "deno" | "bun" = "deno",
): StepSetup {
  return {
    name,
    server,
    clients: new Clients(kind, CLIENT_PROCESSES, clientRuntime),
    steps: [],
    rss: 0,
    heap: 0,
    done: false,
  };
}

/** Starts the server, measures its RSS and heap per idle connection over C_CONNECTIONS, and warms it up. */
async function prepareSteps(s: StepSetup): Promise<void> {
  await s.server.start();
  await sleep(500);
  const before = await s.server.rss();
  const heapBefore = await s.server.heapUsed();
  await s.clients.connect(s.server.url, C_CONNECTIONS, "centrifugo");
  await sleep(1_000);
  const after = await s.server.rss();
  s.rss = (after - before) * 1024 / C_CONNECTIONS;
  s.heap = (await s.server.heapUsed() - heapBefore) / C_CONNECTIONS;
  const stats = await s.server.stats();
  if (stats.subscriptions !== C_CONNECTIONS * 2) console.log(`  (${s.name}: ${stats.subscriptions} subscriptions)`);
  await step(s.server, s.clients, C_WARMUP_RATE, 1_000);
}

/** Steps the paced rate up, the setups interleaved, until each fails a step twice; prints a line per step. */
async function stepUp(setups: StepSetup[], rates: number[]): Promise<void> {
  console.log(
    `  ${"step/s".padStart(8)}   ${
      setups.map(() => "achieved/s      p50      p99  server CPU  clients CPU").join("   |   ")
    }`,
  );
  for (const rate of rates) {
    if (setups.every((s) => s.done)) break;
    const line: string[] = [];
    for (const s of setups) {
      if (s.done) {
        line.push(`${s.name}: stopped`.padEnd(58));
        continue;
      }
      let result = await step(s.server, s.clients, rate, C_STEP_MS);
      // The machine is shared: a failed step gets one more try before the search stops.
      if (!result.ok) result = await step(s.server, s.clients, rate, C_STEP_MS);
      s.steps.push(result);
      if (!result.ok) s.done = true;
      line.push(
        `${s.name}: ${fmt(result.achieved).padStart(7)}  ${result.p50.toFixed(1).padStart(6)} ms ` +
          `${result.p99.toFixed(1).padStart(6)} ms  ${result.cpuPct.toFixed(0).padStart(8)}%  ` +
          `${result.clientPct.toFixed(0).padStart(10)}%${result.ok ? "" : ` ✗ ${result.why}`}`,
      );
    }
    console.log(`  ${fmt(rate).padStart(8)}   ${line.join("   |   ")}`);
  }
}

/** The highest step a setup sustained. */
function bestStep(s: StepSetup): Step | undefined {
  return s.steps.filter((x) => x.ok).at(-1);
}

function describeStep(s: StepSetup): string {
  const b = bestStep(s);
  return (b === undefined
    ? "no step sustained"
    : `${fmt(b.achieved)}/s (step ${fmt(b.rate)}) at ${b.cpuPct.toFixed(0)}% server CPU ` +
      `(${b.cpuUs.toFixed(1)} µs per delivery, so ${fmt(1e6 / b.cpuUs)}/s at 100% of a core), p99 ${
        b.p99.toFixed(1)
      } ms`) + (s.done ? "" : " (last step: the limit lies higher)");
}

async function centrifugo(): Promise<void> {
  console.log(
    `\n2. Centrifugo-shaped load: ${fmt(C_CONNECTIONS)} authenticated connections, each on a personal topic and ` +
      `one of ${C_GROUPS} group topics (10 members); paced publishes to the groups, ${C_STEP_MS / 1000} s per step, ` +
      `raw and hub interleaved; a failed step is tried twice`,
  );
  const setups = (["route", "hub"] as const).map((mode) =>
    stepSetup(mode === "route" ? "raw" : "hub", new Server(mode, mode))
  );
  for (const s of setups) await prepareSteps(s);
  const [raw, hub] = setups;
  console.log(
    `  RSS per idle connection (authenticated, 2 subscriptions each): hub ${fmt(hub.rss)} B, raw ${fmt(raw.rss)} B ` +
      `(hub ${(hub.rss / raw.rss).toFixed(2)}× raw; goal ≤ 32 KB); of which JS heap: hub ${fmt(hub.heap)} B, ` +
      `raw ${fmt(raw.heap)} B`,
  );
  await stepUp(setups, QUICK ? C_STEPS.slice(0, 3) : C_STEPS);
  const hubBest = bestStep(hub), rawBest = bestStep(raw);
  console.log(`  highest sustained step, p99 < ${P99_LIMIT_MS} ms (goal ≥ 100,000/s from the hub):`);
  console.log(`    hub ${describeStep(hub)}`);
  console.log(`    raw ${describeStep(raw)}`);
  if (hubBest !== undefined && rawBest !== undefined) {
    console.log(`    hub ${(hubBest.achieved / rawBest.achieved).toFixed(2)}× raw`);
  }
  for (const s of setups) await s.clients.close();
  await stopAll();
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Two hubs over Redis

async function twoHubs(): Promise<void> {
  const prefix = `alk:bench:hub:${crypto.randomUUID().slice(0, 8)}:`;
  console.log(
    `\n3. Two hubs over Redis (prefix ${prefix}): ${fmt(FANOUT_CONNECTIONS)} connections on hub B, each on its ` +
      `own topic; ${fmt(REDIS_EVENTS)} events (median of ${REDIS_ROUNDS} rounds, interleaved)`,
  );
  const single = await new Server("single hub", "hub").start();
  const a = await new Server("hub A", "hub", prefix).start();
  const b = await new Server("hub B", "hub", prefix).start();
  const singleClients = new Clients("thin");
  const bClients = new Clients("thin");
  await singleClients.connect(single.url, FANOUT_CONNECTIONS, "fanout");
  await bClients.connect(b.url, FANOUT_CONNECTIONS, "fanout");
  const rows = [
    { name: "one hub, no upstream (baseline)", publisher: single, deliverer: single, clients: singleClients },
    { name: "one hub over Redis (publisher and subscribers on B)", publisher: b, deliverer: b, clients: bClients },
    { name: "two hubs over Redis (publisher on A, subscribers on B)", publisher: a, deliverer: b, clients: bClients },
  ];
  for (const row of rows) await burst(row.publisher, row.clients, 5_000, false, row.deliverer); // warm-up
  const results: BurstResult[][] = rows.map(() => []);
  for (let round = 0; round < REDIS_ROUNDS; round++) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      results[i].push(await burst(row.publisher, row.clients, REDIS_EVENTS, false, row.deliverer));
    }
  }
  printBurstRows(rows.map((row, i) => burstRow(row.name, results[i])));
  console.log(`  (server frames: hub B's data frames per delivery; server CPU: hubs A and B together)`);
  await singleClients.close();
  await bClients.close();
  await stopAll();
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Every server runtime (issue 21)

/**
 * The runtime the section's client processes run under: Bun by default, whose WebSocket client costs about half of
 * Deno's per received frame, so the two client processes sharing the 2 cores with the server saturate later and
 * the fastest servers are not measured against their clients; BENCH_HUB_CLIENTS=deno for the Deno client.
 */
const RUNTIME_CLIENTS: "deno" | "bun" = Deno.env.get("BENCH_HUB_CLIENTS") === "deno" ? "deno" : "bun";
/*
 * Scenario A runs twice: the server publishing 1,000 events per event-loop turn (as the other sections), and 10,000.
 * Bun's native pub/sub corks a turn's frames per socket: with 1,000 per turn over 1,000 sockets each socket gets about
 * one frame per turn, so one write per frame (the kernel's cost per write, and the clients, bound every system there);
 * with 10,000 it writes about ten frames at once. The runtimes that send each frame with its own write gain little.
 */
const R_STEPS = [10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 125_000, 160_000, 200_000, 250_000, 320_000];
const C_EVENTS = 50_000;

interface RuntimeSystem {
  name: string;
  /** The index of the system this one is a ratio to (its runtime's raw baseline). */
  vs?: number;
  mode: ServerMode;
  runtime?: Runtime;
  kind: Kind;
}

const SYSTEMS: RuntimeSystem[] = [
  { name: "raw Deno.serve, hand-routed", mode: "route", kind: "thin" },
  { name: "hub on Deno (Deno.serve)", vs: 0, mode: "hub", kind: "thin" },
  { name: "raw ws on Node, hand-routed", mode: "raw", runtime: "node", kind: "thin" },
  { name: "hub on Node (ws)", vs: 2, mode: "hub", runtime: "node", kind: "thin" },
  { name: "raw Bun.serve native pub/sub", mode: "raw", runtime: "bun", kind: "thin" },
  { name: "hub on Bun (Bun.serve, native fan-out)", vs: 4, mode: "hub", runtime: "bun", kind: "thin" },
  { name: "Socket.IO 4.8 rooms (Node)", mode: "socketio", runtime: "node", kind: "sio" },
];
const SOCKET_IO = SYSTEMS.length - 1;

/** Builds the npm package into NPM_SCRATCH with socket.io, for the Node and Bun servers. */
async function setUpNpmScratch(): Promise<void> {
  console.log(`  (building the npm package into ${NPM_SCRATCH} for the Node and Bun servers)`);
  await buildNpmScratch(["socket.io@^4.8"]);
}

function ratioTo(rows: { rate: number }[], i: number): string {
  const ratio = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a (no step sustained)");
  const vs = SYSTEMS[i].vs;
  const own = vs === undefined ? "" : ` ${ratio(rows[i].rate, rows[vs].rate)} its raw;`;
  return `${own} ${ratio(rows[i].rate, rows[SOCKET_IO].rate)} Socket.IO`;
}

async function runtimes(): Promise<void> {
  console.log(
    `\n4. Every server runtime: the hub on Deno, Node and Bun, each runtime's raw baseline, and Socket.IO; thin ` +
      `clients (the same WebSocket client for every system, run under ${RUNTIME_CLIENTS === "bun" ? "Bun" : "Deno"}` +
      `; Socket.IO's framing by hand)`,
  );
  await setUpNpmScratch();
  const setups = SYSTEMS.map((system) => ({
    system,
    server: new Server(system.name, system.mode, undefined, system.runtime),
    clients: new Clients(system.kind, CLIENT_PROCESSES, RUNTIME_CLIENTS),
  }));
  for (const s of setups) {
    await s.server.start();
    await s.clients.connect(s.server.url, FANOUT_CONNECTIONS, "fanout");
    await s.clients.children[0].call({ cmd: "publisher", url: s.server.url });
    await burst(s.server, s.clients, 10_000, false); // warm-up
    await burst(s.server, s.clients, 5_000, false, s.server, true);
  }
  const scenarios = [
    ["A", FANOUT_EVENTS, false, 1_000],
    ["A", FANOUT_EVENTS, false, 10_000],
    ["C", C_EVENTS, true, undefined],
  ] as const;
  for (const [label, events, fromClient, chunk] of scenarios) {
    console.log(
      label === "A"
        ? `\n  A. fan-out: ${fmt(FANOUT_CONNECTIONS)} connections, each on its own topic; the server publishes ` +
          `${fmt(events)} events, ${fmt(chunk!)} per event-loop turn (median of up to ${FANOUT_ROUNDS} rounds, ` +
          `systems interleaved)`
        : `\n  C. one client publishes ${fmt(events)} events over the ${fmt(FANOUT_CONNECTIONS)} topics; the server ` +
          `relays each to its subscriber (median of up to ${FANOUT_ROUNDS} rounds, interleaved)`,
    );
    const results: BurstResult[][] = setups.map(() => []);
    const roundsStart = performance.now();
    for (let round = 0; round < FANOUT_ROUNDS; round++) {
      if (round > 0 && (performance.now() - roundsStart) * (round + 1) / round > FANOUT_BUDGET_MS * 2) break;
      for (let i = 0; i < setups.length; i++) {
        const s = setups[i];
        results[i].push(await burst(s.server, s.clients, events, false, s.server, fromClient, chunk));
      }
    }
    const rows = setups.map((s, i) => burstRow(s.system.name, results[i]));
    printBurstRows(rows);
    console.log(`  (× raw above: to raw Deno.serve)`);
    for (let i = 0; i < rows.length; i++) console.log(`    ${rows[i].name}:${ratioTo(rows, i)}`);
  }
  for (const s of setups) await s.clients.close();
  await stopAll();

  console.log(
    `\n  B. ${fmt(C_CONNECTIONS)} connections (personal + group topics), highest paced rate with p99 < ` +
      `${P99_LIMIT_MS} ms; each runtime's raw and hub interleaved, then Socket.IO; RSS per idle connection`,
  );
  const bRows: { name: string; rate: number; rss: number }[] = [];
  for (const group of [[0, 1], [2, 3], [4, 5], [SOCKET_IO]]) {
    const steps = group.map((i) =>
      stepSetup(
        SYSTEMS[i].name,
        new Server(SYSTEMS[i].name, SYSTEMS[i].mode, undefined, SYSTEMS[i].runtime),
        SYSTEMS[i].kind,
        RUNTIME_CLIENTS,
      )
    );
    for (const s of steps) await prepareSteps(s);
    await stepUp(steps, QUICK ? R_STEPS.slice(0, 3) : R_STEPS);
    for (const s of steps) {
      console.log(`    ${s.name}: ${describeStep(s)}; RSS ${fmt(s.rss)} B per idle connection`);
      bRows.push({ name: s.name, rate: bestStep(s)?.achieved ?? 0, rss: s.rss });
    }
    for (const s of steps) await s.clients.close();
    await stopAll();
  }
  console.log(`  summary (B rate; RSS per idle connection):`);
  for (let i = 0; i < bRows.length; i++) {
    const vs = SYSTEMS[i].vs;
    const rss = vs === undefined ? "" : `, RSS ${(bRows[i].rss / bRows[vs].rss).toFixed(2)}× its raw`;
    console.log(
      `    ${bRows[i].name.padEnd(42)} ${fmt(bRows[i].rate).padStart(9)}/s ${fmt(bRows[i].rss).padStart(7)} B;${
        ratioTo(bRows, i)
      }${rss}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Recovery

const REPLAY_EVENTS = 10_000;
const REPLAY_PACED_RATE = 5_000;

async function historyFanOut(): Promise<void> {
  console.log(
    `\n5a. Fan-out with history on (the defaults, history: {}) vs off: as section 1 (median of up to ` +
      `${FANOUT_ROUNDS} rounds, interleaved)`,
  );
  const setups = ([
    ["raw routing server (baseline)", "route", "thin"],
    ["hub, history off, library spokes", "hub", "spoke"],
    ["hub, history on, library spokes (positioned)", "hub-history", "spoke"],
    ["hub, history on, thin v2 clients (not asking)", "hub-history", "thin"],
  ] as const).map(([name, mode, kind]) => ({ name, server: new Server(name, mode), clients: new Clients(kind) }));
  for (const s of setups) {
    await s.server.start();
    await s.clients.connect(s.server.url, FANOUT_CONNECTIONS, "fanout");
    await burst(s.server, s.clients, 10_000, false);
  }
  const results: BurstResult[][] = setups.map(() => []);
  for (let round = 0; round < FANOUT_ROUNDS; round++) {
    for (let i = 0; i < setups.length; i++) {
      results[i].push(await burst(setups[i].server, setups[i].clients, FANOUT_EVENTS, false));
    }
  }
  const rows = setups.map((s, i) => burstRow(s.name, results[i]));
  printBurstRows(rows);
  console.log(`  history on / off (library spokes): ${(rows[2].rate / rows[1].rate).toFixed(2)}× (goal ≥ 0.8×)`);
  for (const s of setups) await s.clients.close();
  await stopAll();
}

async function streamsAcrossHubs(): Promise<void> {
  const id = crypto.randomUUID().slice(0, 8);
  console.log(
    `\n5b. Two hubs over Redis, publisher on A, ${fmt(FANOUT_CONNECTIONS)} subscribers on B, ${
      fmt(REDIS_EVENTS)
    } events`,
  );
  const pairs = (["hub", "hub-streams"] as const).map((mode) => ({
    name: mode === "hub" ? "pub/sub upstream (baseline)" : "streams upstream, history on",
    a: new Server(`${mode} A`, mode, `alk:bench:rec:${id}:${mode}:`),
    b: new Server(`${mode} B`, mode, `alk:bench:rec:${id}:${mode}:`),
    clients: new Clients("thin"),
  }));
  for (const p of pairs) {
    await Promise.all([p.a.start(), p.b.start()]);
    await p.clients.connect(p.b.url, FANOUT_CONNECTIONS, "fanout");
    await burst(p.a, p.clients, 5_000, false, p.b);
  }
  const cross: BurstResult[][] = pairs.map(() => []);
  for (let round = 0; round < REDIS_ROUNDS; round++) {
    for (let i = 0; i < pairs.length; i++) {
      cross[i].push(await burst(pairs[i].a, pairs[i].clients, REDIS_EVENTS, false, pairs[i].b));
    }
  }
  const crossRows = pairs.map((p, i) => burstRow(p.name, cross[i]));
  printBurstRows(crossRows);
  console.log(`  streams / pub/sub cross-hub deliveries/s: ${(crossRows[1].rate / crossRows[0].rate).toFixed(2)}×`);
  for (const p of pairs) await p.clients.close();
  await stopAll();
}

async function replay(): Promise<void> {
  console.log(
    `\n5c. Replay of ${fmt(REPLAY_EVENTS)} missed events to a reconnecting client, while ${fmt(FANOUT_CONNECTIONS)} ` +
      `others get ${fmt(REPLAY_PACED_RATE)} events/s (paced, 3 s; with and without the replay, interleaved)`,
  );
  const server = await new Server("hub-replay", "hub-replay").start();
  const others = new Clients("thin");
  const replayer = new Clients("thin", 1);
  // Centrifugo shape: each client on its own topic and one of 100 groups of 10; the paced load goes to the groups.
  await others.connect(server.url, FANOUT_CONNECTIONS, "centrifugo");
  const groups = FANOUT_CONNECTIONS / 10;
  const p99s: Record<"without" | "with", number[]> = { without: [], with: [] };
  const replays: number[] = [];
  for (let round = 0; round < (QUICK ? 1 : 3); round++) {
    for (const withReplay of [false, true]) {
      const replayId = `r${round}${withReplay ? "w" : ""}`;
      const topic = `replay:${replayId}`;
      const since = await replayer.children[0].call<{ epoch: string; offset: number }>({
        cmd: "position",
        url: server.url,
        topic,
      });
      await server.child.call({ cmd: "burst", type: "replay", ids: 1, events: REPLAY_EVENTS, to: replayId }, 120_000);
      await others.reset();
      const paced = server.child.call<{ sent: number }>(
        { cmd: "paced", type: "group", ids: groups, rate: REPLAY_PACED_RATE / 10, ms: 3_000 },
        60_000,
      );
      if (withReplay) {
        await sleep(500);
        const r = await replayer.children[0].call<{ ms: number; frames: number; ordered: boolean }>(
          { cmd: "replay", url: server.url, topic, since, count: REPLAY_EVENTS },
          120_000,
        );
        if (!r.ordered || r.frames !== REPLAY_EVENTS) {
          console.log(`  (replay: ${r.frames} frames, ordered ${r.ordered})`);
        }
        replays.push(r.ms);
      }
      const { sent } = await paced;
      const report = await others.wait(sent * 10, 0, 10_000);
      if (report.useful < sent * 10) console.log(`  (only ${report.useful} of ${sent * 10} deliveries arrived)`);
      p99s[withReplay ? "with" : "without"].push(percentile(report, 0.99));
    }
  }
  console.log(
    `  replay of ${fmt(REPLAY_EVENTS)}: ${median(replays).toFixed(0)} ms (${
      fmt(REPLAY_EVENTS / median(replays) * 1000)
    } ` +
      `events/s; rounds ${replays.map((ms) => ms.toFixed(0)).join(", ")} ms)`,
  );
  console.log(
    `  others' p99: ${median(p99s.without).toFixed(1)} ms without the replay, ${median(p99s.with).toFixed(1)} ms ` +
      `during it (${(median(p99s.with) / median(p99s.without)).toFixed(2)}×)`,
  );
  await others.close();
  await replayer.close();
  await stopAll();
}

async function stopAll(): Promise<void> {
  await Promise.all(children.splice(0).map((child) => child.stop()));
}

const sections: Record<string, () => Promise<unknown>> = {
  routing: routingCost,
  fanout: fanOut,
  centrifugo,
  redis: twoHubs,
  runtimes,
  history: historyFanOut,
  streams: streamsAcrossHubs,
  replay,
};
const only = Deno.env.get("BENCH_HUB_ONLY")?.split(",");
console.log(
  `Routed hub vs raw WebSocket servers; each server alone in its process, clients in ${CLIENT_PROCESSES} other processes`,
);
try {
  for (const [name, run] of Object.entries(sections)) {
    if (only !== undefined && !only.includes(name)) continue;
    await run();
    console.log(`  (${elapsed()} so far)`);
  }
} finally {
  await stopAll();
}
