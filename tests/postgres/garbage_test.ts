import assert from "node:assert/strict";
import { createPubSub, EnvelopeError, topicFor } from "../../mod.ts";
import { MAX_NOTIFY_BYTES, PostgresLimitError } from "../../adapters/postgres/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { GARBAGE } from "../_garbage.ts";
import { PG_URL, pgTarget, uniquePrefix } from "./_helpers.ts";

type Events = { greet: string; other: string };

/**
 * A third party: psql running `NOTIFY "channel", 'payload'` (or `SELECT pg_notify(channel, payload)`), both passed as
 * psql variables and quoted by psql (`:"ch"` as an identifier, `:'p'` as a literal).
 */
async function psqlNotify(channel: string, payloads: string[], form: "notify" | "pg_notify" = "notify"): Promise<void> {
  const args = [PG_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", `ch=${channel}`];
  const script = payloads.map((payload, i) => {
    args.push("-v", `p${i}=${payload}`);
    return form === "notify" ? `NOTIFY :"ch", :'p${i}';` : `SELECT pg_notify(:'ch', :'p${i}');`;
  }).join("\n");
  const child = new Deno.Command("psql", { args, stdin: "piped", stdout: "null", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

const garbage = GARBAGE;

Deno.test("postgres: garbage from psql on a live channel is reported, never delivered, and the next event arrives", async () => {
  const prefix = uniquePrefix("garbage");
  const side = await pgTarget({ prefix });
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("greet", "g");
    const other = pubsub.subscribe("other", "g");
    await pubsub.ready("greet", "g");
    await pubsub.ready("other", "g");
    const channel = side.target.channelFor(topicFor("greet", "g"));
    assert.equal(channel, prefix + "greet:g"); // the documented mapping, as a third party computes it
    await psqlNotify(channel, garbage.map(([, payload]) => payload));
    await psqlNotify(channel, ['{"type":"greet","id":"g","payload":"from psql"}'], "pg_notify");
    assert.deepEqual(await nextWithin(sub, 5000), { value: "from psql", done: false });

    assert.equal(side.collected.errors.length, garbage.length);
    for (const { error, channel: where, operation } of side.collected.errors) {
      assert.ok(error instanceof EnvelopeError, `${error}`);
      assert.equal(error.code, "ERR_INVALID_ENVELOPE");
      assert.equal(where, channel);
      assert.equal(operation, "message");
    }
    assert.match(side.collected.errors.at(-2)!.error.message, /topic "other:g" arrived on PostgreSQL channel/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // Nothing leaked to the other topic, and the connection survived.
    pubsub.publish("other", "g", "own");
    assert.deepEqual(await nextWithin(other, 5000), { value: "own", done: false });
    assert.equal(side.target.state, "ready");
    await sub.return(undefined);
    await other.return(undefined);
  } finally {
    pubsub.close();
    await side.close();
  }
});

Deno.test("postgres: an event over the NOTIFY limit fails publish with its size and the limit; one at the limit arrives", async () => {
  const side = await pgTarget({ prefix: uniquePrefix("limit") });
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("greet", "g");
    await pubsub.ready("greet", "g");
    const overhead = JSON.stringify({ type: "greet", id: "g", payload: "" }).length;
    const fits = "x".repeat(MAX_NOTIFY_BYTES - overhead);
    pubsub.publish("greet", "g", fits);
    assert.equal((await nextWithin(sub, 5000)).value, fits);

    let limitError: PostgresLimitError | undefined;
    try {
      pubsub.publish("greet", "g", fits.slice(1) + "é");
    } catch (error) {
      limitError = error as PostgresLimitError;
    }
    assert.ok(limitError instanceof PostgresLimitError, `${limitError}`);
    assert.equal(limitError.code, "ERR_POSTGRES_LIMIT");
    assert.equal(limitError.size, MAX_NOTIFY_BYTES + 1); // "é" is two UTF-8 bytes
    assert.equal(limitError.limit, MAX_NOTIFY_BYTES);
    assert.equal(limitError.channel, side.target.channelFor("greet:g"));
    assert.throws(() => side.target.notifyQuery("greet", "g", fits + "y"), PostgresLimitError);
    // Nothing was sent: the next event is the next one delivered.
    pubsub.publish("greet", "g", "after");
    assert.equal((await nextWithin(sub, 5000)).value, "after");
    assert.equal(side.collected.errors.length, 0);
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await side.close();
  }
});
