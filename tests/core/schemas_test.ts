/** Runtime validation with Standard Schema in createPubSub, over the in-process target. */
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import {
  createPubSub,
  InProcessEventTarget,
  PayloadValidationError,
  type PubSubError,
  type StandardSchemaV1,
} from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";

const progress = z.object({ percent: z.number() });

/** A schema that counts its calls and answers like `inner`. */
function counting<T>(inner: StandardSchemaV1<T>): StandardSchemaV1<T> & { calls: number } {
  const schema = {
    calls: 0,
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (value: unknown) => {
        schema.calls++;
        return inner["~standard"].validate(value);
      },
    },
  };
  return schema;
}

Deno.test("schemas: an invalid remote payload is dropped and reported once; valid ones flow, validated once each", async () => {
  const eventTarget = new InProcessEventTarget();
  const schema = counting(progress);
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ "job.progress": unknown }>({ eventTarget });
  const receiver = createPubSub({ eventTarget, schemas: { "job.progress": schema }, onError: (e) => errors.push(e) });
  const subs = [1, 2, 3].map(() => receiver.subscribe("job.progress", "1"));
  sender.publish("job.progress", "1", { percent: 1 });
  sender.publish("job.progress", "1", { percent: "lol", secret: "x".repeat(10_000) });
  sender.publish("job.progress", "1", { percent: 2 });
  for (const sub of subs) {
    assert.deepEqual((await nextWithin(sub, 1000)).value, { percent: 1 });
    assert.deepEqual((await nextWithin(sub, 1000)).value, { percent: 2 });
  }
  assert.equal(schema.calls, 3, "once per event, not per subscriber");
  assert.equal(errors.length, 1);
  const error = errors[0];
  assert.ok(error instanceof PayloadValidationError);
  assert.equal(error.code, "ERR_INVALID_PAYLOAD");
  assert.equal(error.name, "PayloadValidationError");
  assert.equal(error.topic, "job.progress:1");
  assert.deepEqual(error.issues.map((i) => i.path), [["percent"]]);
  assert.match(error.issues[0].message, /number/);
  assert.ok(error.preview.length <= 120 && error.preview.startsWith('{"percent":"lol"'), error.preview);
  assert.match(error.message, /^Invalid payload for "job\.progress:1": percent: /);
  sender.close();
  receiver.close();
  assert.equal(eventTarget.listenerCount(), 0);
});

Deno.test("schemas: subscribers receive the schema's output (zod and valibot transforms)", async () => {
  const eventTarget = new InProcessEventTarget();
  const sender = createPubSub<{ done: { at: string; extra?: number }; chat: { text: string } }>({ eventTarget });
  const receiver = createPubSub({
    eventTarget,
    schemas: {
      done: z.object({ at: z.string().transform((s) => new Date(s)) }),
      chat: v.object({ text: v.string(), votes: v.optional(v.number(), 0) }),
    },
  });
  const done = receiver.subscribe("done", "1");
  const chat = receiver.subscribe("chat", "room");
  sender.publish("done", "1", { at: "2026-01-02T03:04:05.000Z", extra: 1 });
  sender.publish("chat", "room", { text: "hi" });
  const at = (await nextWithin(done, 1000)).value;
  assert.ok(at?.at instanceof Date && at.at.toISOString() === "2026-01-02T03:04:05.000Z");
  assert.equal("extra" in at!, false, "zod strips unknown keys");
  assert.deepEqual((await nextWithin(chat, 1000)).value, { text: "hi", votes: 0 });
  sender.close();
  receiver.close();
});

Deno.test("schemas: own publishes are not validated unless validateLocal; validateLocal throws for an invalid payload", async () => {
  const schema = counting(progress);
  const pubsub = createPubSub({ schemas: { "job.progress": schema } });
  const sub = pubsub.subscribe("job.progress", "1");
  pubsub.publish("job.progress", "1", { percent: 1 });
  assert.deepEqual((await nextWithin(sub, 1000)).value, { percent: 1 });
  assert.equal(schema.calls, 0);
  pubsub.close();

  const strict = createPubSub({ schemas: { "job.progress": schema }, validateLocal: true });
  const checked = strict.subscribe("job.progress", "1");
  assert.throws(
    () => strict.publish("job.progress", "1", { percent: "x" } as never),
    (e) => e instanceof PayloadValidationError && e.topic === "job.progress:1",
  );
  strict.publish("job.progress", "1", { percent: 3, extra: 1 } as never);
  assert.deepEqual((await nextWithin(checked, 1000)).value, { percent: 3 }, "the output (extra key stripped)");
  assert.equal(schema.calls, 2, "validated once at publish, not again on delivery");
  strict.close();

  const asyncSchema: StandardSchemaV1<number> = {
    "~standard": { version: 1, vendor: "t", validate: (value) => Promise.resolve({ value: value as number }) },
  };
  const asyncStrict = createPubSub({ schemas: { n: asyncSchema }, validateLocal: true });
  assert.throws(() => asyncStrict.publish("n", "1", 1), TypeError);
  asyncStrict.close();
});

Deno.test("schemas: an asynchronous schema with varying latency keeps per-topic order", async () => {
  const eventTarget = new InProcessEventTarget();
  const slow: StandardSchemaV1<number> = {
    "~standard": {
      version: 1,
      vendor: "t",
      validate: (value) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve(typeof value === "number" && value % 3 !== 2 ? { value } : { issues: [{ message: "bad" }] }),
            (Number(value) * 7919) % 13,
          )
        ),
    },
  };
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ n: number }>({ eventTarget });
  const receiver = createPubSub({ eventTarget, schemas: { n: slow }, onError: (e) => errors.push(e) });
  const a = receiver.subscribe("n", "a");
  const b = receiver.subscribe("n", "a");
  for (let i = 0; i < 300; i++) sender.publish("n", "a", i);
  const expected = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 !== 2);
  for (const sub of [a, b]) {
    const got: number[] = [];
    for (let i = 0; i < expected.length; i++) got.push((await nextWithin(sub, 2000)).value as number);
    assert.deepEqual(got, expected);
  }
  assert.equal(errors.length, 100);
  assert.ok(errors.every((e) => e instanceof PayloadValidationError));
  sender.close();
  receiver.close();
});

Deno.test("schemas: a schema that throws or rejects is treated as invalid and reported; nothing crashes", async () => {
  const eventTarget = new InProcessEventTarget();
  const boom = new Error("boom");
  const throwing: StandardSchemaV1<number> = {
    "~standard": {
      version: 1,
      vendor: "t",
      validate: (value) => {
        if (value === 1) throw boom;
        if (value === 2) return Promise.reject(boom);
        return { value: value as number };
      },
    },
  };
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ n: number }>({ eventTarget });
  const receiver = createPubSub({ eventTarget, schemas: { n: throwing }, onError: (e) => errors.push(e) });
  const sub = receiver.subscribe("n", "1");
  for (const n of [0, 1, 2, 3]) sender.publish("n", "1", n);
  assert.equal((await nextWithin(sub, 1000)).value, 0);
  assert.equal((await nextWithin(sub, 1000)).value, 3);
  assert.equal(errors.length, 2);
  for (const error of errors) {
    assert.ok(error instanceof PayloadValidationError);
    assert.equal(error.cause, boom);
    assert.match(error.message, /The schema threw: boom/);
  }
  sender.close();
  receiver.close();
});

Deno.test("schemas: events waiting for an asynchronous schema are bounded by maxPendingValidations", async () => {
  const eventTarget = new InProcessEventTarget();
  const never: StandardSchemaV1<number> = {
    "~standard": { version: 1, vendor: "t", validate: (value) => ({ value: value as number }) },
  };
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const held: StandardSchemaV1<number> = {
    "~standard": { version: 1, vendor: "t", validate: (value) => gate.then(() => ({ value: value as number })) },
  };
  const errors: PubSubError[] = [];
  const sender = createPubSub<{ n: number }>({ eventTarget });
  const receiver = createPubSub({
    eventTarget,
    schemas: { n: held, m: never },
    maxPendingValidations: 4,
    onError: (e) => errors.push(e),
  });
  const sub = receiver.subscribe("n", "1");
  for (let i = 0; i < 6; i++) sender.publish("n", "1", i);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e.code === "ERR_VALIDATION_BACKLOG"));
  release();
  for (let i = 0; i < 4; i++) assert.equal((await nextWithin(sub, 1000)).value, i);
  sender.close();
  receiver.close();
});

Deno.test("schemas: an onError that throws is logged, not thrown into the transport", async () => {
  const eventTarget = new InProcessEventTarget();
  const sender = createPubSub<{ "job.progress": unknown }>({ eventTarget });
  const receiver = createPubSub({
    eventTarget,
    schemas: { "job.progress": progress },
    onError: () => {
      throw new Error("handler bug");
    },
  });
  const sub = receiver.subscribe("job.progress", "1");
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    sender.publish("job.progress", "1", "nope");
  } finally {
    console.error = original;
  }
  assert.equal(logged.length, 1);
  sender.publish("job.progress", "1", { percent: 9 });
  assert.deepEqual((await nextWithin(sub, 1000)).value, { percent: 9 });
  sender.close();
  receiver.close();
});
