/**
 * PostgreSQL adapter benchmark (`deno task bench postgres`), against the server at PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test). Every figure is a ratio to raw `LISTEN`/`NOTIFY` through the same client
 * (`pg`) carrying the same JSON envelope, measured in the same run:
 * - 1 publisher → 1 subscriber: delivered events/s (goal ≥ 0.9×); one row for `postgres` (porsager) raw too, which
 *   docs/architecture/postgres.md uses to explain the choice of client;
 * - fan-out: 50 subscribers of one topic (goal ≥ 0.8×): raw is 50 callbacks on one `LISTEN`;
 * - latency p50/p99 at a paced 1k events/s.
 * Raw publishes one `SELECT pg_notify($1, $2)` per event on a `pg.Client` (which runs one query at a time); the
 * target publishes through its own `pg.Client` with default options.
 */

import pg from "pg";
import postgres from "postgres";
import { createPostgresEventTarget } from "../../adapters/postgres/mod.ts";
import {
  adapterLatency,
  Counter,
  payload,
  pubsubScenario,
  type RawLatency,
  type Scenario,
  type TargetPair,
  targetScenario,
  throughputTable,
} from "./_delivery.ts";

const PG_URL = Deno.env.get("PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
const EVENTS = 10_000;
const FANOUT_EVENTS = 4_000;
const FANOUT = 50;
const RUNS = 5;

function prefix(): string {
  return `b.${crypto.randomUUID().slice(0, 8)}:`;
}

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  return c;
}

/** Two targets, each with its own publishing client and listening connection, sharing a fresh prefix. */
async function pair(): Promise<TargetPair> {
  const [ca, cb] = await Promise.all([client(), client()]);
  const p = prefix();
  const a = createPostgresEventTarget({ client: ca, connect: client, prefix: p });
  const b = createPostgresEventTarget({ client: cb, connect: client, prefix: p });
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([ca.end(), cb.end()]);
    },
  };
}

/** Raw pg: one LISTEN, `subscribers` callbacks, JSON.parse once per notification. */
async function raw(subscribers = 1): Promise<Scenario> {
  const [pub, sub] = await Promise.all([client(), client()]);
  const channel = prefix() + "bench:1";
  const counter = new Counter();
  const callbacks = Array.from({ length: subscribers }, () => (_value: unknown) => counter.hit());
  sub.on("notification", (message) => {
    const envelope = JSON.parse(message.payload!);
    for (const cb of callbacks) cb(envelope.payload);
  });
  await sub.query(`LISTEN "${channel}"`);
  let last: Promise<unknown> = Promise.resolve();
  return {
    subscribers,
    counter,
    publish: () =>
      last = pub.query("SELECT pg_notify($1, $2)", [channel, JSON.stringify({ type: "bench", id: "1", payload })]),
    async close() {
      await last; // pg's Client runs queries in order: every earlier one has completed too
      await Promise.all([pub.end(), sub.end()]);
    },
  };
}

/**
 * The target alone with a different payload in every event (a counter), so the events published while a query runs
 * go in one query; identical events (every other row here) go one per query, as PostgreSQL would fold them.
 */
async function distinctScenario(): Promise<Scenario> {
  const p = await pair();
  const counter = new Counter();
  const listener = (): void => counter.hit();
  p.b.addEventListener("bench:1", listener);
  await p.b.ready("bench:1");
  let n = 0;
  return {
    subscribers: 1,
    counter,
    publish: () =>
      p.a.dispatchEvent(
        new CustomEvent("bench:1", { detail: { type: "bench", id: "1", payload: { ...payload, n: n++ } } }),
      ),
    async close() {
      p.b.removeEventListener("bench:1", listener);
      await p.close();
    },
  };
}

/** Raw postgres (porsager): sql.listen and sql.notify, JSON.parse once per notification. */
async function rawPorsager(): Promise<Scenario> {
  const sql = postgres(PG_URL, { max: 4, onnotice: () => {} });
  const channel = prefix() + "bench:1";
  const counter = new Counter();
  await sql.listen(channel, (value) => {
    JSON.parse(value);
    counter.hit();
  });
  return {
    subscribers: 1,
    counter,
    publish: () => sql.notify(channel, JSON.stringify({ type: "bench", id: "1", payload })),
    async close() {
      await sql.end({ timeout: 1 });
    },
  };
}

console.log(
  "Raw baselines: pg 8 (one pg_notify query per event on one Client) and, for the choice of client, postgres 3.\n" +
    "The machine is shared with other engineers' test runs: scenarios run interleaved, median of 5.",
);

// 1 → 1 throughput.
{
  const scenarios: [string, Scenario][] = [
    ["raw pg LISTEN/NOTIFY (JSON envelope)", await raw()],
    ["raw postgres (porsager) listen/notify", await rawPorsager()],
    ["@alkdev/pubsub/postgres target (dispatchEvent → listener)", await targetScenario(await pair())],
    ["@alkdev/pubsub/postgres + createPubSub (async iteration)", await pubsubScenario(await pair())],
    ["@alkdev/pubsub/postgres target, every payload distinct (batched)", await distinctScenario()],
  ];
  await throughputTable("1 publisher → 1 subscriber", scenarios, EVENTS, RUNS);
}

// Fan-out: 50 subscribers of one topic.
{
  const scenarios: [string, Scenario][] = [
    [`raw pg, ${FANOUT} callbacks on one LISTEN`, await raw(FANOUT)],
    [`@alkdev/pubsub/postgres target, ${FANOUT} listeners`, await targetScenario(await pair(), FANOUT)],
    [`@alkdev/pubsub/postgres + createPubSub, ${FANOUT} subscriptions`, await pubsubScenario(await pair(), FANOUT)],
  ];
  await throughputTable(`Fan-out to ${FANOUT} subscriptions`, scenarios, FANOUT_EVENTS, RUNS);
}

// Latency at a paced 1k events/s.
const LATENCY_EVENTS = 3_000;
const RATE = 1_000;

async function rawLatency(record: (sentAt: number) => void): Promise<RawLatency> {
  const [pub, sub] = await Promise.all([client(), client()]);
  const channel = prefix() + "lat:1";
  sub.on("notification", (message) => record(JSON.parse(message.payload!).payload.sentAt));
  await sub.query(`LISTEN "${channel}"`);
  let last: Promise<unknown> = Promise.resolve();
  return {
    send: (sentAt) =>
      last = pub.query("SELECT pg_notify($1, $2)", [
        channel,
        JSON.stringify({ type: "lat", id: "1", payload: { sentAt } }),
      ]),
    async close() {
      await last;
      await Promise.all([pub.end(), sub.end()]);
    },
  };
}

await adapterLatency("postgres", "raw pg LISTEN/NOTIFY", { raw: rawLatency, pair }, LATENCY_EVENTS, RATE);
