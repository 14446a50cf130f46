/** zod and valibot schemas over Redis: events from another process's target are validated before subscribers. */
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import { createPubSub, PayloadValidationError, type PubSubError } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { targetWithClients, uniquePrefix } from "./_helpers.ts";

Deno.test("redis schemas: zod and valibot validate what arrives, subscribers get the output", async () => {
  const prefix = uniquePrefix("schemas");
  const [a, b] = await Promise.all([targetWithClients({ prefix }), targetWithClients({ prefix })]);
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ progress: unknown; chat: unknown }>({ eventTarget: a.target });
  const receiver = createPubSub({
    eventTarget: b.target,
    schemas: {
      progress: z.object({ percent: z.number(), at: z.string().transform((s) => new Date(s)) }),
      chat: v.object({ text: v.pipe(v.string(), v.maxLength(10)) }),
    },
    onError: (e) => errors.push(e),
  });
  const progress = receiver.subscribe("progress", "job");
  const chat = receiver.subscribe("chat", "room");
  try {
    await Promise.all([receiver.ready("progress", "job"), receiver.ready("chat", "room")]);
    sender.publish("progress", "job", { percent: "50", at: "2026-01-01T00:00:00.000Z" });
    sender.publish("chat", "room", { text: "far too long a message" });
    sender.publish("progress", "job", { percent: 50, at: "2026-01-01T00:00:00.000Z" });
    sender.publish("chat", "room", { text: "hi" });
    const got = (await nextWithin(progress, 5000)).value!;
    assert.equal(got.percent, 50);
    assert.ok(got.at instanceof Date);
    assert.deepEqual((await nextWithin(chat, 5000)).value, { text: "hi" });
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof PayloadValidationError));
    assert.deepEqual((errors as PayloadValidationError[]).map((e) => e.topic).sort(), ["chat:room", "progress:job"]);
  } finally {
    sender.close();
    receiver.close();
    await Promise.all([a.close(), b.close()]);
  }
});
