/**
 * iroh hub benchmark (issue 12), run by scripts/bench/iroh.ts: real
 * `@number0/iroh` endpoints on 127.0.0.1, relays off; ratios to a baseline
 * from the same run, rounds interleaved, median round reported.
 *
 * Fan-out: 50 spokes, each subscribed to its own topic; the hub side
 * publishes `PER_SPOKE` events on each topic, round robin, and the clock stops
 * when every spoke has all of its own.
 * - baseline: 50 separate per-connection targets (`createHubIrohEventTarget` /
 *   `createSpokeIrohEventTarget`), the application publishing each event on
 *   the target of the spoke it is for;
 * - the hub: `createIrohHub` over the 50 connections, `connectIrohEventTarget`
 *   spokes, one pub/sub over the hub publishing every event.
 *
 * Reconnect: the hub's side of a spoke's connection is killed (closed at once
 * with code 5) while the hub publishes every millisecond; the time from the
 * kill to the spoke's first event again, p50/p99, with the default backoff
 * and with `initialDelay: 0`. Baseline: a fresh per-connection pair (dial,
 * handshake, first event).
 */

import process from "node:process";
import { createPubSub, type PubSub } from "../../mod.ts";
import {
  connectIrohEventTarget,
  createHubIrohEventTarget,
  createIrohHub,
  createSpokeIrohEventTarget,
  type IrohConnectionLike,
  type IrohEventTarget,
  type IrohSpoke,
} from "../../adapters/iroh/mod.ts";
import { ALPN, bindEndpoint, type Endpoint, iroh, loopbackAddrs } from "../../tests/iroh/load_iroh.ts";
import { printRates, type Row } from "./_util.ts";

const SPOKES = 50;
const PER_SPOKE = Number(Deno.env.get("BENCH_PER_SPOKE") ?? 1000);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 9);
const RECONNECTS = Number(Deno.env.get("BENCH_RECONNECTS") ?? 40);

type Events = { tick: number };

export interface Endpoints {
  server: Endpoint;
  client: Endpoint;
  /** Connections the server accepted, in order. */
  accepted: IrohConnectionLike[];
  waiters: ((conn: IrohConnectionLike) => void)[];
  loop: Promise<void>;
}

export async function endpoints(onAccept?: (conn: IrohConnectionLike) => void): Promise<Endpoints> {
  const server = await bindEndpoint([ALPN]);
  const client = await bindEndpoint();
  const e: Endpoints = { server, client, accepted: [], waiters: [], loop: Promise.resolve() };
  e.loop = (async () => {
    for (let incoming = await server.acceptNext(); incoming; incoming = await server.acceptNext()) {
      const conn = await (await incoming.accept()).connect();
      e.accepted.push(conn);
      if (onAccept !== undefined) onAccept(conn);
      else e.waiters.shift()?.(conn);
    }
  })();
  return e;
}

export function dial(e: Endpoints): Promise<IrohConnectionLike> {
  return e.client.connect(new iroh!.EndpointAddr(e.server.id(), null, loopbackAddrs(e.server)), ALPN);
}

export async function closeEndpoints(e: Endpoints): Promise<void> {
  await e.client.close();
  await e.server.close();
  await e.loop.catch(() => {});
}

/** Resolves once `sub` has yielded `n` values. */
async function drain(sub: AsyncIterableIterator<number>, n: number): Promise<void> {
  let got = 0;
  for await (const _ of sub) if (++got === n) break;
}

/** Wall-clock and process CPU time (all threads, the binding's included) of one round, in ms. */
interface Timing {
  wall: number;
  cpu: number;
}

function startClock(): () => Timing {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
  };
}

async function perConnectionRound(): Promise<Timing> {
  const e = await endpoints();
  const pairs: { hub: IrohEventTarget; spoke: IrohEventTarget }[] = [];
  for (let i = 0; i < SPOKES; i++) {
    const accepted = new Promise<IrohConnectionLike>((resolve) => e.waiters.push(resolve));
    const conn = await dial(e);
    const [spoke, hub] = await Promise.all([
      createSpokeIrohEventTarget(conn),
      accepted.then((c) => createHubIrohEventTarget(c)),
    ]);
    pairs.push({ hub, spoke });
  }
  const publishers = pairs.map((p) => createPubSub<Events>({ eventTarget: p.hub }));
  const subscribers = pairs.map((p) => createPubSub<Events>({ eventTarget: p.spoke }));
  const subs = subscribers.map((s, i) => s.subscribe("tick", `s${i}`, { bufferSize: PER_SPOKE }));
  const stop = startClock();
  const done = Promise.all(subs.map((sub) => drain(sub, PER_SPOKE)));
  for (let n = 0; n < PER_SPOKE; n++) {
    for (let i = 0; i < SPOKES; i++) publishers[i].publish("tick", `s${i}`, n);
  }
  await done;
  const ms = stop();
  for (const p of [...publishers, ...subscribers]) p.close();
  await Promise.all(pairs.flatMap((p) => [p.hub.close(), p.spoke.close()]));
  await closeEndpoints(e);
  return ms;
}

async function hubRound(): Promise<Timing> {
  const hub = createIrohHub();
  const e = await endpoints((conn) => hub.accept(conn));
  const spokes: IrohSpoke[] = [];
  for (let i = 0; i < SPOKES; i++) spokes.push(connectIrohEventTarget(() => dial(e)));
  const subscribers = spokes.map((s) => createPubSub<Events>({ eventTarget: s }));
  const subs = subscribers.map((s, i) => s.subscribe("tick", `s${i}`, { bufferSize: PER_SPOKE }));
  await Promise.all(subscribers.map((s, i) => s.ready("tick", `s${i}`)));
  const publisher = createPubSub<Events>({ eventTarget: hub });
  const stop = startClock();
  const done = Promise.all(subs.map((sub) => drain(sub, PER_SPOKE)));
  for (let n = 0; n < PER_SPOKE; n++) {
    for (let i = 0; i < SPOKES; i++) publisher.publish("tick", `s${i}`, n);
  }
  await done;
  const ms = stop();
  for (const p of [publisher, ...subscribers]) p.close();
  await Promise.all(spokes.map((s) => s.close()));
  await hub.close();
  await closeEndpoints(e);
  return ms;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Times from killing the connection to the spoke's first event again. */
async function reconnectTimes(initialDelay: number | undefined, count: number): Promise<number[]> {
  const hub = createIrohHub({ onError: () => {} });
  const e = await endpoints((conn) => hub.accept(conn));
  // With the default initialDelay, each kill comes after a stable period (resetAfter shortened to 100 ms), so each
  // measures a first retry: 0–500 ms of full jitter. Back-to-back kills would measure the growing backoff instead.
  const stable = initialDelay === undefined ? 150 : 0;
  const spoke = connectIrohEventTarget(() => dial(e), {
    onError: () => {},
    backoff: initialDelay === undefined ? { resetAfter: 100 } : { initialDelay },
  });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const atHub = createPubSub<Events>({ eventTarget: hub });
  let wake: (() => void) | undefined;
  spoke.addEventListener("tick:r", () => wake?.());
  await spoke.ready("tick:r");
  let seq = 0;
  const ticker = setInterval(() => atHub.publish("tick", "r", seq++), 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve) => wake = resolve); // connected and receiving
      if (stable > 0) await new Promise((resolve) => setTimeout(resolve, stable));
      const conn = e.accepted.at(-1)!;
      const reconnected = new Promise<void>((resolve) =>
        spoke.addEventListener("connect", () => resolve(), { once: true })
      );
      const start = performance.now();
      conn.close(5n, []);
      // Events in flight from before the kill may still arrive: the first one counted follows the reconnect.
      await reconnected;
      wake = undefined;
      await new Promise<void>((resolve) => wake = resolve);
      times.push(performance.now() - start);
    }
  } finally {
    clearInterval(ticker);
  }
  atSpoke.close();
  atHub.close();
  await spoke.close();
  await hub.close();
  await closeEndpoints(e);
  return times.sort((a, b) => a - b);
}

/** A fresh per-connection pair: dial, both handshakes, first event delivered. */
async function freshConnectTimes(count: number): Promise<number[]> {
  const e = await endpoints();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const accepted = new Promise<IrohConnectionLike>((resolve) => e.waiters.push(resolve));
    const conn = await dial(e);
    const [spoke, hub] = await Promise.all([
      createSpokeIrohEventTarget(conn),
      accepted.then((c) => createHubIrohEventTarget(c)),
    ]);
    const got = new Promise<void>((resolve) => spoke.addEventListener("tick:r", () => resolve(), { once: true }));
    const pub: PubSub<Events> = createPubSub<Events>({ eventTarget: hub });
    pub.publish("tick", "r", i);
    await got;
    times.push(performance.now() - start);
    pub.close();
    await Promise.all([spoke.close(), hub.close()]);
  }
  await closeEndpoints(e);
  return times.sort((a, b) => a - b);
}

/** Runs the hub benchmarks and prints their figures. */
export async function benchHub(): Promise<void> {
  await perConnectionRound(); // warm-up
  await hubRound();
  const rows: Record<string, Timing[]> = { perConnection: [], hub: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which row goes first, so a collection left over from one row hits both alike.
    if (round % 2 === 0) {
      rows.perConnection.push(await perConnectionRound());
      rows.hub.push(await hubRound());
    } else {
      rows.hub.push(await hubRound());
      rows.perConnection.push(await perConnectionRound());
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const total = SPOKES * PER_SPOKE;
  for (const kind of ["wall", "cpu"] as const) {
    const result: Row[] = [
      {
        name: `${SPOKES} per-connection targets (baseline)`,
        events: total,
        ms: median(rows.perConnection.map((t) => t[kind])),
      },
      { name: `iroh hub, ${SPOKES} reconnecting spokes`, events: total, ms: median(rows.hub.map((t) => t[kind])) },
    ];
    printRates(
      `iroh hub: ${SPOKES} spokes × ${PER_SPOKE} events, each spoke its own topic, median of ${ROUNDS} rounds, ${
        kind === "wall" ? "wall-clock" : "per CPU second (process CPU time, all threads)"
      }`,
      result,
    );
    const ratios = rows.hub.map((t, i) => rows.perConnection[i][kind] / t[kind]);
    console.log(
      `  per-round hub/baseline: ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${median(ratios).toFixed(2)}`,
    );
  }

  const fresh = await freshConnectTimes(RECONNECTS);
  const instant = await reconnectTimes(0, RECONNECTS);
  const defaults = await reconnectTimes(undefined, Math.min(RECONNECTS, 20));
  console.log(`\niroh spoke: killed connection → first event again (hub publishes every 1 ms)`);
  const base50 = percentile(fresh, 0.5);
  const base99 = percentile(fresh, 0.99);
  for (
    const [name, times] of [
      [`fresh per-connection pair (baseline), n=${fresh.length}`, fresh],
      [`spoke, backoff initialDelay 0, n=${instant.length}`, instant],
      [`spoke, default backoff (first retry: 0-500 ms), n=${defaults.length}`, defaults],
    ] as const
  ) {
    const p50 = percentile(times, 0.5);
    const p99 = percentile(times, 0.99);
    console.log(
      `  ${name.padEnd(58)} p50 ${p50.toFixed(2)} ms (${(p50 / base50).toFixed(2)}×)  p99 ${p99.toFixed(2)} ms (${
        (p99 / base99).toFixed(2)
      }×)`,
    );
  }
}
