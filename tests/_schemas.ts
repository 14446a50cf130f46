/** A zod and valibot round trip shared by the broker tests (Redis, NATS): what the sender's target publishes must be
 * validated at the receiver's before its subscribers see it, and they get the schemas' output. */
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import {
  createPubSub,
  type EnvelopeEvent,
  PayloadValidationError,
  type PubSubError,
  type TypedEventTarget,
} from "../mod.ts";
import { nextWithin } from "../testing/mod.ts";

/** Publishes two invalid and two valid events from `a`; `b`'s pub/sub with zod and valibot schemas gets the valid ones. */
export async function schemaRoundTrip(
  a: TypedEventTarget<EnvelopeEvent>,
  b: TypedEventTarget<EnvelopeEvent>,
): Promise<void> {
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ progress: unknown; chat: unknown }>({ eventTarget: a });
  const receiver = createPubSub({
    eventTarget: b,
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
  }
}
