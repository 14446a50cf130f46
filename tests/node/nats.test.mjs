// The NATS adapter from the npm package under Node, over the real NATS at
// NATS_URL (default 127.0.0.1:4222) with @nats-io/transport-node: the
// conformance kit through node:test, and garbage from a raw client reported
// through onError. Run by scripts/test_node.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { createPubSub, EnvelopeError, topicFor } from "@alkdev/pubsub";
import { createNatsEventTarget, NatsLimitError } from "@alkdev/pubsub/nats";
import { nextWithin } from "@alkdev/pubsub/testing";
import { adapterConformance } from "./_adapter_conformance.mjs";

const NATS_URL = process.env.NATS_URL ?? "127.0.0.1:4222";
const uniquePrefix = (name) => `alk.node-test.${name}.${randomUUID().slice(0, 8)}`;

async function targetWithConnection(prefix, errors = []) {
  const connection = await connect({ servers: NATS_URL });
  const target = createNatsEventTarget({
    connection,
    prefix,
    onError: (error) => errors.push(error),
    onListenerError: () => {},
  });
  return { target, connection, errors };
}

adapterConformance("nats (node)", () => uniquePrefix("conformance"), async (prefix) => {
  const { target, connection } = await targetWithConnection(prefix);
  return { target, release: () => connection.close() };
});

test("nats (node): garbage goes to onError; too-large events fail at publish", async () => {
  const t = await targetWithConnection(uniquePrefix("garbage"));
  const raw = await connect({ servers: NATS_URL });
  const pubsub = createPubSub({ eventTarget: t.target });
  try {
    const sub = pubsub.subscribe("job.progress", "1");
    await pubsub.ready("job.progress", "1");
    const subject = t.target.subjectFor(topicFor("job.progress", "1"));
    assert.equal(subject.split(".").length, t.target.prefix.split(".").length + 1);
    raw.publish(subject, "notjson");
    // Two connections: the server orders their messages only once the garbage has reached it.
    await raw.flush();
    pubsub.publish("job.progress", "1", 7);
    assert.deepEqual(await nextWithin(sub, 5000), { value: 7, done: false });
    assert.equal(t.errors.length, 1);
    assert.ok(t.errors[0] instanceof EnvelopeError);
    assert.throws(() => pubsub.publish("job.progress", "1", "x".repeat(t.connection.info.max_payload)), NatsLimitError);
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await t.target.close();
    await Promise.all([t.connection.close(), raw.close()]);
  }
});
