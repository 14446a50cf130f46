/**
 * The listening connection dies: pg_terminate_backend ten times on the shared server under a sequence-numbered
 * publisher, and a restart of a private server the test starts on a free port. The target reconnects, re-LISTENs
 * everything, reports its states, and never delivers an event twice.
 */

import assert from "node:assert/strict";
import pg from "pg";
import { createPubSub } from "../../mod.ts";
import { PostgresConnectionError, type PostgresStateChange } from "../../adapters/postgres/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { listeningChannels, pgClient, pgTarget, uniquePrefix, waitFor } from "./_helpers.ts";
import { privateServer } from "./_server.ts";

type Events = { seq: number; other: string };

function watch(target: EventTarget): { states: string[]; resubscribed: number; closed: number } {
  const seen = { states: [] as string[], resubscribed: 0, closed: 0 };
  target.addEventListener("state", (e) => seen.states.push((e as CustomEvent<PostgresStateChange>).detail.state));
  target.addEventListener("resubscribed", () => seen.resubscribed++);
  target.addEventListener("close", () => seen.closed++);
  return seen;
}

Deno.test("postgres: pg_terminate_backend on the listening connection 10 times: recovers each time, duplicates = 0", async () => {
  const prefix = uniquePrefix("terminate");
  const listener = await pgTarget({ prefix, reconnect: { initialDelay: 20, resetAfter: 100 } });
  // The publisher's client, timed: when each event's pg_notify query started and when it completed.
  const publishClient = await pgClient();
  const sentAt = new Map<number, { started: number; done: number }>();
  const timed = {
    async query(text: string, values?: unknown[]) {
      const started = performance.now();
      const result = await publishClient.query(text, values);
      const done = performance.now();
      const payloads = values![1];
      for (const json of Array.isArray(payloads) ? payloads : [payloads]) {
        sentAt.set(JSON.parse(json as string).payload, { started, done });
      }
      return result;
    },
  };
  const publisher = await pgTarget({ prefix, client: timed });
  const admin = await pgClient();
  await waitFor(() => listener.target.state === "ready", 10_000, "ready");
  const seen = watch(listener.target);
  const subs = createPubSub<Events>({ eventTarget: listener.target });
  const pubs = createPubSub<Events>({ eventTarget: publisher.target });
  const received: number[] = [];
  // Every event whose query started after "resubscribed" and completed before the next kill must arrive.
  const windows: { from: number; to: number }[] = [];
  let seq = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const sub = subs.subscribe("seq", "s");
    await subs.ready("seq", "s");
    const other = subs.subscribe("other", "o"); // a second channel, re-LISTENed too
    await subs.ready("other", "o");
    const consume = (async () => {
      for await (const n of sub) {
        received.push(n);
        if (n === -1) break;
      }
    })();
    timer = setInterval(() => pubs.publish("seq", "s", seq++), 2);
    let from = performance.now();
    for (let kill = 0; kill < 10; kill++) {
      await new Promise((r) => setTimeout(r, 300));
      const before = seen.resubscribed;
      const conn = listener.opened.at(-1)! as pg.Client & { processID: number };
      const killedAt = performance.now();
      windows.push({ from, to: killedAt - 50 });
      const result = await admin.query("SELECT pg_terminate_backend($1) AS ok", [conn.processID]);
      assert.equal(result.rows[0].ok, true);
      await waitFor(() => seen.resubscribed === before + 1, 15_000, `resubscribed after kill ${kill + 1}`);
      from = performance.now();
      assert.equal(listener.target.state, "ready");
    }
    await new Promise((r) => setTimeout(r, 300));
    windows.push({ from, to: performance.now() - 50 });
    clearInterval(timer);
    timer = undefined;
    // Both channels are LISTENed on the last connection, as the server sees it.
    assert.deepEqual(
      (await listeningChannels(listener.opened.at(-1)!)).sort(),
      [listener.target.channelFor("other:o"), listener.target.channelFor("seq:s")].sort(),
    );
    pubs.publish("seq", "s", -1);
    await consume;

    assert.equal(listener.opened.length, 11);
    // Every kill went reconnecting → resubscribing → ready; the target never closed.
    assert.deepEqual(seen.states, Array(10).fill(["reconnecting", "resubscribing", "ready"]).flat());
    assert.equal(seen.resubscribed, 10);
    assert.equal(seen.closed, 0);
    // No duplicates, in order.
    const numbers = received.slice(0, -1);
    assert.equal(new Set(numbers).size, numbers.length, "duplicates");
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i] > numbers[i - 1], "order");
    // Everything sent while LISTEN was in force arrived (and the windows held events, so this can fail).
    const got = new Set(numbers);
    let covered = 0;
    for (const { from, to } of windows) {
      for (const [n, { started, done }] of sentAt) {
        if (n < 0 || started < from || done > to) continue;
        covered++;
        assert.ok(got.has(n), `event ${n} lost`);
      }
    }
    assert.ok(covered > 20, `only ${covered} events were sent inside the windows`);
    // The losses were reported.
    const lost = listener.collected.errors.filter((e) => e.error instanceof PostgresConnectionError);
    assert.ok(lost.length >= 10);
    assert.equal(listener.collected.errors.length, lost.length);
    pubs.publish("other", "o", "still here");
    assert.deepEqual(await nextWithin(other, 5000), { value: "still here", done: false });
    await other.return(undefined);
  } finally {
    clearInterval(timer);
    subs.close();
    pubs.close();
    await listener.close();
    await publisher.close();
    await publishClient.end();
    await admin.end();
  }
});

Deno.test("postgres: a restart of the server: reconnects with backoff, re-LISTENs, and a subscription made while down goes live", async () => {
  const server = await privateServer();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on("error", () => {}); // idle clients die with the server
  const side = await pgTarget({ url: server.url, client: pool, reconnect: { initialDelay: 50, maxDelay: 200 } });
  await waitFor(() => side.target.state === "ready", 10_000, "ready");
  const seen = watch(side.target);
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("seq", "s");
    await pubsub.ready("seq", "s");
    pubsub.publish("seq", "s", 1);
    assert.deepEqual(await nextWithin(sub, 5000), { value: 1, done: false });

    await server.stop();
    await waitFor(() => side.target.state === "reconnecting", 10_000, "reconnecting");
    await new Promise((r) => setTimeout(r, 1000)); // down long enough for failed attempts
    const during = pubsub.subscribe("other", "o");
    const duringReady = pubsub.ready("other", "o");
    await server.start();
    await waitFor(() => seen.resubscribed === 1, 20_000, "resubscribed");
    await duringReady;
    assert.deepEqual(seen.states, ["reconnecting", "resubscribing", "ready"]);
    const refused = side.collected.errors.filter((e) =>
      e.error instanceof PostgresConnectionError && e.error.operation === "connect"
    );
    assert.ok(refused.length >= 1, "failed attempts are reported");

    pubsub.publish("seq", "s", 2);
    pubsub.publish("other", "o", "after");
    assert.deepEqual(await nextWithin(sub, 10_000), { value: 2, done: false });
    assert.deepEqual(await nextWithin(during, 10_000), { value: "after", done: false });
    assert.equal(seen.closed, 0);
    await sub.return(undefined);
    await during.return(undefined);
  } finally {
    pubsub.close();
    await side.target.close();
    await side.client.end();
    await pool.end();
    await server.destroy();
  }
});
