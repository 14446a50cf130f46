/**
 * The NATS target against the shared server: garbage from a raw client goes to
 * onError and is never delivered; max_payload and subject limits fail at
 * publish with a typed error; close() leaves the given connection open; a
 * connection closed by its owner ends the target ("state" "ended", one "close").
 */

import assert from "node:assert/strict";
import { createPubSub, EnvelopeError, PubSubClosedError, topicFor } from "../../mod.ts";
import {
  createNatsEventTarget,
  NatsConnectionError,
  NatsLimitError,
  type NatsStateChange,
} from "../../adapters/nats/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { natsConnect, targetWithConnection, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { "job.progress": number; big: string };

Deno.test("nats: garbage on our subjects goes to onError, is never delivered, and other events still arrive", async () => {
  const t = await targetWithConnection({ prefix: uniquePrefix("garbage") });
  const raw = await natsConnect();
  const pubsub = createPubSub<Events>({ eventTarget: t.target });
  try {
    const sub = pubsub.subscribe("job.progress", "1");
    await pubsub.ready("job.progress", "1");
    const subject = t.target.subjectFor(topicFor("job.progress", "1"));
    const garbage: (string | Uint8Array)[] = [
      "notjson",
      "",
      "[1,2]",
      '{"type":"","id":"1"}',
      '{"type":"job.progress","id":"2","payload":1}', // another topic's envelope
      '{"type":"job.progress","id":"1","__proto__":{"x":1}}',
      new Uint8Array([0xff, 0xfe, 0x00]),
    ];
    for (const data of garbage) raw.publish(subject, data);
    raw.publish(subject, JSON.stringify({ type: "job.progress", id: "1", payload: 42 }));
    assert.deepEqual(await nextWithin(sub, 5000), { value: 42, done: false });
    assert.equal(t.collected.errors.length, garbage.length);
    for (const { error, operation, subject: at } of t.collected.errors) {
      assert.ok(error instanceof EnvelopeError, String(error));
      assert.equal(operation, "message");
      assert.equal(at, subject);
    }
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await t.close();
    await raw.close();
  }
});

Deno.test("nats: an event over max_payload fails at publish with NatsLimitError; nothing is sent", async () => {
  const t = await targetWithConnection({ prefix: uniquePrefix("max-payload") });
  const pubsub = createPubSub<Events>({ eventTarget: t.target });
  try {
    const max = t.connection.info!.max_payload;
    const sub = pubsub.subscribe("big", "1");
    await pubsub.ready("big", "1");
    const tooBig = "x".repeat(max);
    let limitError: NatsLimitError | undefined;
    try {
      pubsub.publish("big", "1", tooBig);
    } catch (error) {
      limitError = error as NatsLimitError;
    }
    assert.ok(limitError instanceof NatsLimitError);
    assert.equal(limitError.code, "ERR_NATS_LIMIT");
    assert.equal(limitError.limitName, "max_payload");
    assert.equal(limitError.limit, max);
    assert.ok(limitError.size > max);
    // Just under the limit goes through (the envelope's JSON adds about 30 bytes).
    const fits = "y".repeat(max - 100);
    pubsub.publish("big", "1", fits);
    assert.equal((await nextWithin(sub, 5000)).value, fits);
    assert.equal(t.connection.isClosed(), false);
    assert.deepEqual(t.collected.errors, []);
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await t.close();
  }
});

Deno.test("nats: a subject over maxSubjectLength fails subscribe and publish with NatsLimitError", async () => {
  const t = await targetWithConnection({ prefix: uniquePrefix("subject-length"), maxSubjectLength: 200 });
  const pubsub = createPubSub<Events>({ eventTarget: t.target });
  try {
    const long = "i".repeat(300);
    assert.throws(() => pubsub.subscribe("job.progress", long), NatsLimitError);
    assert.equal(t.target.listenerCount(), 0);
    assert.equal(t.target.subscriptionCount, 0);
    assert.throws(() => pubsub.publish("job.progress", long, 1), NatsLimitError);
    assert.equal(t.connection.isClosed(), false);
  } finally {
    pubsub.close();
    await t.close();
  }
});

Deno.test("nats: close() never closes the given connection, and refuses publishes", async () => {
  const connection = await natsConnect();
  const target = createNatsEventTarget({ connection, prefix: uniquePrefix("ownership") });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  let closes = 0;
  target.addEventListener("close", () => closes++);
  try {
    const sub = pubsub.subscribe("job.progress", "1");
    await pubsub.ready("job.progress", "1");
    assert.equal(target.subscriptionCount, 1);
    await target.close();
    await target.close();
    assert.equal(closes, 1);
    assert.equal(target.state, "closed");
    assert.equal(target.subscriptionCount, 0);
    assert.deepEqual(await nextWithin(sub, 5000), { value: undefined, done: true });
    assert.equal(connection.isClosed(), false);
    await connection.flush(); // the connection still works
    assert.throws(() => target.dispatchEvent(new CustomEvent("x:1", { detail: {} }) as never), PubSubClosedError);
    await assert.rejects(target.ready("job.progress:1"), PubSubClosedError);
  } finally {
    pubsub.close();
    await connection.close();
  }
});

Deno.test("nats: the owner closing the connection ends the target: state ended, one close, onError", async () => {
  const t = await targetWithConnection({ prefix: uniquePrefix("ended") });
  const pubsub = createPubSub<Events>({ eventTarget: t.target });
  const states: NatsStateChange[] = [];
  let closes = 0;
  t.target.addEventListener("state", (e) => states.push((e as unknown as CustomEvent<NatsStateChange>).detail));
  t.target.addEventListener("close", () => closes++);
  try {
    const sub = pubsub.subscribe("job.progress", "1");
    await pubsub.ready("job.progress", "1");
    await t.connection.close();
    await waitFor(() => closes > 0, 5000, "the close event");
    assert.deepEqual(states, [{ state: "ended", previous: "ready" }]);
    assert.equal(closes, 1);
    assert.ok(t.collected.errors.some((e) => e.error instanceof NatsConnectionError && e.operation === "connection"));
    // The pub/sub over the target ended its subscriptions.
    assert.deepEqual(await nextWithin(sub, 5000), { value: undefined, done: true });
    assert.equal(pubsub.closed, true);
    // A late close listener still hears it once.
    let late = 0;
    t.target.addEventListener("close", () => late++);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(late, 1);
  } finally {
    pubsub.close();
    await t.close();
  }
});

Deno.test("nats: over a connection made with noEcho, the publisher's own subscribers still get each event once", async () => {
  const prefix = uniquePrefix("no-echo");
  const a = await targetWithConnection({ prefix, natsOptions: { noEcho: true } });
  const b = await targetWithConnection({ prefix });
  const pa = createPubSub<Events>({ eventTarget: a.target });
  const pb = createPubSub<Events>({ eventTarget: b.target });
  try {
    const own = pa.subscribe("job.progress", "1");
    const remote = pb.subscribe("job.progress", "1");
    await Promise.all([pa.ready("job.progress", "1"), pb.ready("job.progress", "1")]);
    pa.publish("job.progress", "1", 1);
    pa.publish("job.progress", "1", 2);
    assert.deepEqual([(await nextWithin(remote, 5000)).value, (await nextWithin(remote, 5000)).value], [1, 2]);
    pb.publish("job.progress", "1", 3);
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await nextWithin(own, 5000)).value);
    assert.deepEqual(got, [1, 2, 3]);
  } finally {
    pa.close();
    pb.close();
    await Promise.all([a.close(), b.close()]);
  }
});
