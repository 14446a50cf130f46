// The PostgreSQL adapter from the npm package under Node, over the real server at PG_URL (default
// postgres://postgres@127.0.0.1:5432/test) with pg: the conformance kit through node:test, garbage reported through
// onError, the NOTIFY limit, and a transaction delivering on COMMIT only. Run by scripts/test_node.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { createPubSub, EnvelopeError, topicFor } from "@alkdev/pubsub";
import { createPostgresEventTarget, PostgresLimitError } from "@alkdev/pubsub/postgres";
import { nextWithin } from "@alkdev/pubsub/testing";
import { adapterConformance } from "./_adapter_conformance.mjs";

// pg 8 warns (once per process) when a query is handed to a client still running one; pg 9 will throw instead.
const warnings = [];
process.on("warning", (warning) => warnings.push(warning));

const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const uniquePrefix = (name) => `n.${name}.${randomUUID().slice(0, 8)}:`;

async function connect() {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  return client;
}

async function pgTarget(prefix, errors = []) {
  const client = await connect();
  const target = createPostgresEventTarget({
    client,
    connect,
    prefix,
    onError: (error) => errors.push(error),
    onListenerError: () => {},
  });
  return { target, client, errors };
}

adapterConformance("postgres (node)", () => uniquePrefix("conformance"), async (prefix) => {
  const { target, client } = await pgTarget(prefix);
  return { target, release: () => client.end() };
});

test("postgres (node): garbage goes to onError; too-large events fail at publish; COMMIT delivers, ROLLBACK not", async () => {
  const t = await pgTarget(uniquePrefix("garbage"));
  const raw = await connect();
  const pubsub = createPubSub({ eventTarget: t.target });
  try {
    const sub = pubsub.subscribe("job.progress", "1");
    await pubsub.ready("job.progress", "1");
    const channel = t.target.channelFor(topicFor("job.progress", "1"));
    await raw.query("SELECT pg_notify($1, $2)", [channel, "notjson"]);
    await raw.query("SELECT pg_notify($1, $2)", [channel, '{"type":"other","id":"1","payload":1}']);
    pubsub.publish("job.progress", "1", 7);
    assert.deepEqual(await nextWithin(sub, 5000), { value: 7, done: false });
    assert.equal(t.errors.length, 2);
    assert.ok(t.errors.every((error) => error instanceof EnvelopeError));
    assert.throws(() => pubsub.publish("job.progress", "1", "x".repeat(8000)), PostgresLimitError);

    await raw.query("BEGIN");
    await t.target.publishIn(raw, "job.progress", "1", 8);
    await raw.query("ROLLBACK");
    await raw.query("BEGIN");
    await t.target.publishIn(raw, "job.progress", "1", 9);
    await raw.query("COMMIT");
    assert.deepEqual(await nextWithin(sub, 5000), { value: 9, done: false });
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await t.target.close();
    await Promise.all([t.client.end(), raw.end()]);
  }
});

test("postgres (node): the adapter never overlaps queries on one pg client (no DeprecationWarning from pg)", () => {
  assert.deepEqual(warnings.filter((w) => w.name === "DeprecationWarning").map(String), []);
});
