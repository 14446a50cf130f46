/** Payload validation at an iroh hub with `schemas`, over real QUIC endpoints. */
import assert from "node:assert/strict";
import { z } from "zod";
import { createPubSub, PayloadValidationError, PublishRefusedError, type PubSubError } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { startHubServer, startSpoke, until } from "./hub_helpers.ts";
import { iroh } from "./load_iroh.ts";

const schemas = { "job.progress": z.object({ percent: z.number() }) };

Deno.test({
  name:
    "iroh hub schemas: invalid publishes are refused with invalid-payload and never relayed; valid ones arrive in order",
  ignore: iroh === undefined,
}, async () => {
  const hubErrors: PubSubError[] = [];
  const server = await startHubServer({ schemas, onError: (e) => hubErrors.push(e), maxInvalidFrames: 1000 });
  const senderErrors: PubSubError[] = [];
  const sender = await startSpoke(() => server.endpoint, { onError: (e) => senderErrors.push(e) });
  const receiver = await startSpoke(() => server.endpoint);
  const from = createPubSub<{ "job.progress": unknown }>({ eventTarget: sender.spoke });
  const to = createPubSub({ eventTarget: receiver.spoke, schemas });
  const atHub = createPubSub({ eventTarget: server.hub, schemas });
  const subs = [to.subscribe("job.progress", "1"), atHub.subscribe("job.progress", "1")];
  try {
    await to.ready("job.progress", "1");
    for (let i = 0; i < 100; i++) {
      from.publish("job.progress", "1", { percent: i });
      from.publish("job.progress", "1", { percent: String(i) });
    }
    const expected = Array.from({ length: 100 }, (_, i) => ({ percent: i }));
    for (const sub of subs) {
      const got: unknown[] = [];
      for (let i = 0; i < 100; i++) got.push((await nextWithin(sub, 10_000)).value);
      assert.deepEqual(got, expected);
    }
    await until(() => senderErrors.length === 100, 10_000, "100 refusals at the sender");
    assert.ok(senderErrors.every((e) => e instanceof PublishRefusedError && e.reason === "invalid-payload"));
    assert.equal(hubErrors.filter((e) => e instanceof PayloadValidationError).length, 100);
    assert.equal(receiver.count.data.get("job.progress:1"), 100, "only valid frames crossed the wire to the receiver");
    assert.equal(sender.spoke.state, "open");
  } finally {
    from.close();
    to.close();
    atHub.close();
    await sender.close();
    await receiver.close();
    await server.close();
  }
});
