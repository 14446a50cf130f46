/**
 * The target's lifecycle: close() leaves the given client open and ends (and UNLISTENs) only the connection it
 * opened; ready() and publish after close; failed publishes and an unopenable listening connection go to onError.
 */

import assert from "node:assert/strict";
import pg from "pg";
import { createPubSub, PubSubClosedError } from "../../mod.ts";
import {
  createPostgresEventTarget,
  PostgresConnectionError,
  PostgresPublishError,
} from "../../adapters/postgres/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type Collected, PG_URL, pgClient, pgTarget, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { ping: number };

Deno.test("postgres: close() sends what is queued, ends only its own listening connection, and leaves the client open", async () => {
  const prefix = uniquePrefix("close");
  const side = await pgTarget({ prefix });
  const watcher = await pgTarget({ prefix });
  const admin = await pgClient();
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  const watching = createPubSub<Events>({ eventTarget: watcher.target });
  let closes = 0;
  side.target.addEventListener("close", () => closes++);
  try {
    const sub = pubsub.subscribe("ping", "1");
    const remote = watching.subscribe("ping", "1");
    await pubsub.ready("ping", "1");
    await watching.ready("ping", "1");
    const pid = (side.opened[0] as unknown as { processID: number }).processID;
    // Published and closed in the same turn: still sent.
    pubsub.publish("ping", "1", 7);
    const closing = side.target.close();
    assert.equal(side.target.state, "closed");
    assert.equal(closes, 1);
    assert.deepEqual(await sub.next(), { value: undefined, done: true });
    await closing;
    assert.deepEqual(await nextWithin(remote, 5000), { value: 7, done: false });
    // The listening backend is gone; the given client still works.
    const backends = async () =>
      (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [pid])).rows[0].n;
    await waitFor(async () => await backends() === 0, 5000, "the listening backend to exit");
    assert.equal((await side.client.query("SELECT 1 AS one")).rows[0].one, 1);
    // Closed: publish throws, ready rejects, close is idempotent and "close" is not dispatched again.
    assert.throws(
      () => side.target.dispatchEvent(new CustomEvent("ping:1", { detail: { type: "ping", id: "1", payload: 1 } })),
      PubSubClosedError,
    );
    await assert.rejects(side.target.ready("ping:1"), PubSubClosedError);
    await side.target.close();
    assert.equal(closes, 1);
    await remote.return(undefined);
  } finally {
    pubsub.close();
    watching.close();
    await side.close();
    await watcher.close();
    await admin.end();
  }
});

Deno.test("postgres: ready() waiting for the first connection rejects on close()", async () => {
  let release!: () => void;
  const collected: Collected = { errors: [] };
  const target = createPostgresEventTarget({
    client: { query: () => Promise.resolve() },
    // Never connects before close(); then fails, which the closed target ignores.
    connect: () => new Promise((_, reject) => release = () => reject(new Error("late"))),
    onError: (error, context) => collected.errors.push({ error, ...context }),
  });
  target.addEventListener("ping:1", () => {});
  const ready = target.ready("ping:1");
  assert.equal(target.state, "connecting");
  await target.close();
  await assert.rejects(ready, PubSubClosedError);
  release();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(collected.errors, []);
});

Deno.test("postgres: a failing publish client and an unopenable listening connection are reported through onError", async () => {
  const collected: Collected = { errors: [] };
  let attempts = 0;
  const target = createPostgresEventTarget({
    prefix: uniquePrefix("failing"),
    client: { query: () => Promise.reject(new Error("Connection terminated")) },
    connect: () => {
      attempts++;
      return Promise.reject(new Error("ECONNREFUSED"));
    },
    reconnect: { initialDelay: 5, maxDelay: 10 },
    onError: (error, context) => collected.errors.push({ error, ...context }),
  });
  try {
    target.dispatchEvent(new CustomEvent("ping:1", { detail: { type: "ping", id: "1", payload: 1 } }));
    await waitFor(() => attempts >= 3 && collected.errors.some((e) => e.operation === "publish"), 5000, "errors");
    const publish = collected.errors.find((e) => e.operation === "publish")!;
    assert.ok(publish.error instanceof PostgresPublishError);
    assert.equal(publish.error.code, "ERR_POSTGRES_PUBLISH");
    assert.equal(publish.channel, target.channelFor("ping:1"));
    const connect = collected.errors.filter((e) => e.operation === "connection");
    assert.ok(connect.length >= 3);
    for (const { error } of connect) {
      assert.ok(error instanceof PostgresConnectionError);
      assert.equal(error.operation, "connect");
      assert.match(error.message, /ECONNREFUSED/);
    }
    assert.equal(target.state, "connecting");
  } finally {
    await target.close();
  }
});

Deno.test("postgres: maxQueued bounds the events waiting to be sent", async () => {
  const collected: Collected = { errors: [] };
  let sent = 0;
  const side = await pgTarget({ prefix: uniquePrefix("queued") });
  try {
    const client = side.client;
    const counting = { query: (text: string, values?: unknown[]) => (sent++, client.query(text, values)) };
    const target = createPostgresEventTarget({
      prefix: side.target.prefix,
      client: counting,
      connect: () => Promise.reject(new Error("not needed")),
      reconnect: { initialDelay: 1000 },
      maxQueued: 5,
      onError: (error, context) => collected.errors.push({ error, ...context }),
    });
    for (let i = 0; i < 8; i++) {
      target.dispatchEvent(new CustomEvent("ping:1", { detail: { type: "ping", id: "1", payload: i } }));
    }
    const dropped = collected.errors.filter((e) => e.operation === "publish");
    assert.equal(dropped.length, 3);
    assert.match(dropped[0].error.message, /5 events are already waiting/);
    await target.close();
    assert.equal(sent, 1); // the five queued ones went in one query
  } finally {
    await side.close();
  }
});

Deno.test("postgres: over a pg.Pool, events keep their order (one query at a time by default)", async () => {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
  const side = await pgTarget({ client: pool });
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("ping", "1");
    await pubsub.ready("ping", "1");
    const count = 600;
    const sending = (async () => {
      for (let i = 0; i < count; i++) {
        pubsub.publish("ping", "1", i);
        if (i % 3 === 0) await new Promise((r) => setTimeout(r, 0)); // many small queries, not one batch
      }
    })();
    const received: number[] = [];
    for await (const n of sub) {
      received.push(n);
      if (received.length === count) break;
    }
    await sending;
    assert.deepEqual(received, Array.from({ length: count }, (_, i) => i));
    assert.deepEqual(side.collected.errors, []);
  } finally {
    pubsub.close();
    await side.close();
    await pool.end();
  }
});
